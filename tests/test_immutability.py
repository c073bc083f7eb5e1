"""The database itself keeps the evidence trails as they are (core.immutability): every ORM
and raw-SQL way to change or delete an event is refused, on SQLite and on PostgreSQL alike,
even for a draft; the one lawful way past the triggers is recorded; and a migration does not
lose them. What is refused for each row of a sealed document: test_immutability_sealed."""

import datetime

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import pre_migrate
from django.utils import timezone

from agreements import actions, signing
from agreements.models import (
    Agreement,
    AgreementEnding,
    AgreementEvent,
    ProcessingActivity,
    SignableDocument,
    Signature,
)
from breaches.actions import breach_create
from breaches.models import Breach
from core.immutability import TRIGGER_MARK, lawful_removal
from core.models import Client, LawfulRemoval
from core.origin import Origin
from records.erasure import client_erase

from .factories import close_breach, make_agreement, make_client
from .refusals import WAYS, assert_refused
from .signing_helpers import send_for_signing, signed_by_both

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(coach, render_once, django_capture_on_commit_callbacks):
    agreement = signed_by_both(coach, django_capture_on_commit_callbacks)
    assert agreement.is_archived
    return agreement


@pytest.mark.parametrize("way", WAYS)
def test_events_are_append_only_even_for_a_draft(coach, way):
    draft = make_agreement(coach.practice)
    assert_refused(draft.events.get(), "detail", "Vervalst", way)


@pytest.mark.parametrize("way", WAYS)
def test_breach_timeline_entries_are_append_only(coach, way):
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen",
        discovered_at=timezone.now() - datetime.timedelta(hours=1),
    )
    assert_refused(breach.updates.get(), "text", "Vervalst", way)


def test_what_is_not_sealed_can_still_change(coach):
    draft = make_agreement(coach.practice)
    activity = draft.activities.first()
    activity.description = "Aangepast"
    activity.save()
    assert ProcessingActivity.objects.filter(pk=activity.pk, description="Aangepast").exists()
    draft.client_name = "Aangepast"
    draft.save()
    assert Agreement.objects.get(pk=draft.pk).client_name == "Aangepast"


def test_reopening_removes_the_coachs_signature_of_an_unsealed_agreement(
    coach, render_once, django_capture_on_commit_callbacks
):
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    origin = Origin.of_account(coach)
    signing.agreement_withdraw(agreement=agreement, origin=origin)
    signing.agreement_reopen(agreement=agreement, origin=origin)
    assert not Signature.objects.filter(document=agreement.key).exists()
    assert not LawfulRemoval.objects.exists()


def test_a_lawful_removal_lets_the_change_through_and_is_recorded(sealed, coach):
    draft = make_agreement(coach.practice)
    with transaction.atomic():
        with lawful_removal(reason="erasure after retention", origin=Origin.of_account(coach)):
            Agreement.objects.filter(pk=sealed.pk).delete()
        # Past the end of the block the database refuses again, in the same transaction.
        with pytest.raises(IntegrityError), transaction.atomic():
            draft.events.all().delete()
    assert draft.events.exists()
    assert not Agreement.objects.filter(pk=sealed.pk).exists()
    assert not SignableDocument.objects.filter(pk=sealed.key).exists()
    assert not Signature.objects.filter(document=sealed.key).exists()
    assert not AgreementEvent.objects.filter(agreement=sealed.pk).exists()
    (permit,) = LawfulRemoval.objects.all()
    assert (permit.reason, permit.actor, permit.account) == (
        "erasure after retention",
        "coach",
        coach.email,
    )
    # Never left active: no other transaction could have used it.
    assert not permit.active


def test_a_failed_lawful_removal_leaves_nothing(sealed, coach):
    permit = lawful_removal(reason="erasure after retention", origin=Origin.of_account(coach))
    with pytest.raises(RuntimeError), transaction.atomic(), permit:
        Agreement.objects.filter(pk=sealed.pk).delete()
        raise RuntimeError("the erasure failed half-way")
    assert Agreement.objects.filter(pk=sealed.pk, final_sha256=sealed.final_sha256).exists()
    assert sealed.events.exists()
    assert not LawfulRemoval.objects.exists()


def test_deleting_a_draft_is_a_recorded_lawful_removal(coach):
    draft = make_agreement(coach.practice)
    actions.agreement_delete_draft(agreement=draft, origin=Origin.of_account(coach))
    assert not Agreement.objects.filter(pk=draft.pk).exists()
    assert not AgreementEvent.objects.filter(agreement=draft.pk).exists()
    (permit,) = LawfulRemoval.objects.all()
    assert str(draft.public_id) in permit.reason
    assert permit.account == coach.email


def test_deleting_a_client_with_drafts_is_a_recorded_lawful_removal(coach):
    client = make_client(coach.practice)
    make_agreement(coach.practice, client)
    actions.client_delete(client=client, origin=Origin.of_account(coach))
    assert not Client.objects.filter(pk=client.pk).exists()
    assert not Agreement.objects.exists()
    (permit,) = LawfulRemoval.objects.all()
    assert str(client.public_id) in permit.reason


def test_erasure_removes_the_sealed_dossier_through_the_lawful_removal(sealed, coach):
    client = sealed.client
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary=f"Laptop met het dossier van {client.name}",
        discovered_at=timezone.now() - datetime.timedelta(hours=1),
        clients=[client],
    )
    # Every retention period ran out long ago. (Backdating sealed rows needs the permit too.)
    with lawful_removal(reason="test: backdated", origin=Origin.system()):
        Agreement.objects.filter(pk=sealed.pk).update(agreement_date=datetime.date(2019, 1, 1))
        ProcessingActivity.objects.filter(agreement=sealed).update(
            retention_amount=1, retention_unit="year", retention_from="agreement_end"
        )
    AgreementEnding.objects.create(agreement=sealed, coaching_ended_on=datetime.date(2020, 1, 31))
    close_breach(breach, coach)

    client_erase(client=client, origin=Origin.of_account(coach))

    assert not Client.objects.filter(pk=client.pk).exists()
    assert not Agreement.objects.filter(pk=sealed.pk).exists()
    assert not AgreementEvent.objects.filter(agreement=sealed.pk).exists()
    assert Breach.objects.get(pk=breach.pk).summary == "Laptop met het dossier van (gewiste cliënt)"
    assert LawfulRemoval.objects.filter(
        reason="erasure after retention (GDPR art. 17)", account=coach.email, active=False
    ).exists()


@pytest.mark.parametrize("way", WAYS)
def test_the_end_of_an_agreement_cannot_be_moved_or_removed(sealed, way):
    """Its date starts the retention periods: moved back, it would let data be erased a
    year early."""
    ending = AgreementEnding.objects.create(
        agreement=sealed, coaching_ended_on=datetime.date(2027, 12, 1)
    )
    assert_refused(ending, "coaching_ended_on", datetime.date(2026, 11, 30), way)


@pytest.mark.parametrize("way", WAYS)
def test_the_record_of_an_erasure_stays(sealed, coach, way):
    with lawful_removal(reason="test: backdated", origin=Origin.system()):
        Agreement.objects.filter(pk=sealed.pk).update(agreement_date=datetime.date(2019, 1, 1))
        ProcessingActivity.objects.filter(agreement=sealed).update(
            retention_amount=1, retention_unit="year", retention_from="agreement_end"
        )
    AgreementEnding.objects.create(agreement=sealed, coaching_ended_on=datetime.date(2020, 1, 31))
    record = client_erase(client=sealed.client, origin=Origin.of_account(coach))

    assert_refused(record, "agreements", 0, way)
    # And the permit it used, now that its block has ended.
    (permit,) = LawfulRemoval.objects.filter(reason__startswith="erasure")
    assert_refused(permit, "reason", "Vervalst", way)


def installed_triggers():
    if connection.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgname LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"%{TRIGGER_MARK}%"])
        return {name for (name,) in cursor.fetchall()}


def test_every_protected_table_has_its_triggers():
    tables = {
        "agreements_signabledocument",
        "agreements_agreement",
        "agreements_declaration",
        "agreements_signature",
        "agreements_processingactivity",
        "agreements_agreementevent",
        "agreements_addendum",
        "agreements_addendumactivity",
        "agreements_sealedversion",
        "agreements_documenttimestamp",
        "agreements_retentiondisposal",
        "agreements_agreementending",
        "agreements_erasurerecord",
        "core_lawfulremoval",
        "breaches_breachupdate",
    }
    if connection.vendor == "sqlite":
        expected = {f"{t}{TRIGGER_MARK}_{op}" for t in tables for op in ("update", "delete")}
    else:
        expected = {f"{t}{TRIGGER_MARK}" for t in tables}
    assert installed_triggers() == expected


@pytest.mark.django_db(transaction=True)
def test_a_table_that_sqlite_remakes_in_a_migration_gets_its_triggers_back(sealed):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters tables in place and keeps their triggers")
    before = installed_triggers()

    def migration_that_remakes_the_table(**kwargs):
        # What Django's SQLite schema editor does for most column changes.
        with connection.schema_editor() as editor:
            editor._remake_table(SignableDocument)

    # Run as a migration would: after the migrate command has started (core's handler
    # first), before it ends.
    core = apps.get_app_config("core")
    pre_migrate.connect(migration_that_remakes_the_table, sender=core)
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(migration_that_remakes_the_table, sender=core)
    assert installed_triggers() == before
    assert_refused(SignableDocument.objects.get(pk=sealed.key), "final_sha256", "", "raw update")
