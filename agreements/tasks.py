"""Background work: with the database backend these run in `manage.py db_worker`, so the
request that triggers them answers without waiting; in development they run inline."""

from django.tasks import task

from . import signing


@task
def complete_agreement(agreement_id):
    signing.agreement_complete(agreement_id)


@task
def complete_declaration(declaration_id):
    signing.declaration_complete(declaration_id)


@task
def expire_and_remind():
    signing.expire_and_remind()


@task
def build_dossier_export(job_id):
    from .dossier_exports import dossier_export_build

    dossier_export_build(job_id)
