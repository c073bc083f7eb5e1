"""`manage.py check` names what a new kind of signable document lacks (agreements.checks),
so that a maintainer who adds one learns it at once, not from a client's browser."""

from django.db import models
from django.test.utils import isolate_apps

from agreements import checks
from agreements.models import SignableDocument


def test_the_kinds_there_are_pass():
    assert checks.signable_documents() == []


def test_a_new_kind_is_told_each_step_it_has_not_taken(monkeypatch):
    with isolate_apps("agreements") as registry:
        found = _check_new_kinds(registry, monkeypatch)
    # The trial kinds stayed in their own registry: the real documents do not point at them.
    related = {relation.name for relation in SignableDocument._meta.related_objects}
    assert related.isdisjoint({"half", "consent"})
    assert found == {
        ("Consent", "agreements.E002"),  # not a DocumentKind
        ("Consent", "agreements.E003"),  # its parent link is not found as `as_consent`
        ("Consent", "agreements.E004"),  # no status, no public_id
        ("Consent", "agreements.E005"),  # no wording, no dossier, ...
        ("Consent", "agreements.E006"),  # no renderers
        ("Consent", "agreements.E007"),  # not in ConcreteDocument
        ("Half", "agreements.E001"),  # most class attributes missing
    }


def _check_new_kinds(registry, monkeypatch):
    class Consent(SignableDocument):
        KIND = "consent"
        STORAGE_FOLDER = DOSSIER_FOLDER = FILE_STEM = "consents"
        COMPLETED_EMAIL = "consent_completed"
        DECLINABLE = True
        SIGNED_EVENT = COMPLETED_EVENT = "signed_client"
        document = models.OneToOneField(
            SignableDocument, on_delete=models.CASCADE, parent_link=True, related_name="+"
        )

        class Meta:
            app_label = "agreements"

    class Half(SignableDocument):
        KIND = "half"

        class Meta:
            app_label = "agreements"

    monkeypatch.setattr(checks, "apps", registry)
    return {(error.obj.__name__, error.id) for error in checks.signable_documents()}
