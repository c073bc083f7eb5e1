"""The sub-processor register, its change notices to clients, and their objections."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from agreements import evidence
from agreements.models import (
    Agreement,
    AgreementEnding,
    AgreementEvent,
    AgreementStatus,
    DefaultProcessingActivity,
    Subprocessor,
    SubprocessorChange,
    SubprocessorNotice,
)
from agreements.subprocessors import (
    NOTICE_DAYS,
    notice_record_consent,
    notice_record_objection,
    subprocessor_add,
)
from core.origin import Actor, Origin
from records import art30

from .conftest import login_verified, make_coach, make_practice
from .factories import make_agreement, make_client
from .test_agreements import post_data

pytestmark = pytest.mark.django_db

Kind = AgreementEvent.Kind


def in_days(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def signed(practice, client, **fields):
    agreement = make_agreement(practice, client, **fields)
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SIGNED)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def practice():
    return make_practice()


@pytest.fixture
def coach(practice):
    return make_coach(practice=practice)


@pytest.fixture
def coach_client(client, coach):
    return login_verified(client, coach)


@pytest.fixture
def clients(practice):
    """Who has what: only Anna and Eva have a signed agreement that has not ended; Eva's
    two have Bijlage 4, Anna's has not."""
    anna = make_client(practice, "Anna", email="anna@example.test")
    bram = make_client(practice, "Bram", email="bram@example.test")
    cas = make_client(practice, "Cas", email="cas@example.test")
    dirk = make_client(practice, "Dirk", email="dirk@example.test")
    eva = make_client(practice, "Eva", email="eva@example.test", language="en")
    agreements = {
        "anna": signed(practice, anna),
        "bram": signed(practice, bram),
        "cas": make_agreement(practice, cas),
        "dirk": make_agreement(practice, dirk),
        "eva": signed(practice, eva, supplement_version="2026.1"),
        "eva2": signed(practice, eva, supplement_version="2026.1"),
    }
    AgreementEnding.objects.create(
        agreement=agreements["bram"], coaching_ended_on=datetime.date(2026, 10, 1)
    )
    Agreement.objects.filter(pk=agreements["cas"].pk).update(status=AgreementStatus.SENT)
    # Another practice's client with a signed agreement hears nothing of this one.
    elsewhere = make_practice("Elders")
    signed(elsewhere, make_client(elsewhere, "Fleur", email="fleur@example.test"))
    return agreements


MAILBOX = {
    "name": "Mailbox.org",
    "service": "E-mail",
    "data": "Naam, e-mailadres en de inhoud van e-mails",
    "location": "Duitsland",
    "since": "2026-12-01",
}


def add_form(**overrides):
    return MAILBOX | {"effective_on": in_days(NOTICE_DAYS).isoformat()} | overrides


def events_of(agreement, kind):
    return list(agreement.events.filter(kind=kind).order_by("id"))


def test_adding_one_tells_exactly_the_clients_with_active_signed_agreements(
    coach_client, clients, practice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(reverse("subprocessor_add"), add_form())

    assert response.status_code == 302
    entry = Subprocessor.objects.get(practice=practice)
    assert (entry.name, entry.location, entry.ended_on) == ("Mailbox.org", "Duitsland", None)
    change = SubprocessorChange.objects.get()
    assert (change.kind, change.effective_on) == ("added", in_days(NOTICE_DAYS))

    # One email per client, also for Eva with two agreements; nobody else.
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.test", "eva@example.test"]
    notices = {n.client.name: n for n in SubprocessorNotice.objects.all()}
    assert set(notices) == {"Anna", "Eva"}
    assert set(notices["Eva"].agreements.all()) == {clients["eva"], clients["eva2"]}
    assert all(n.delivery == "sent" and n.delivered_at for n in notices.values())

    # The email: what changes, from when, and how to object; replies go to the practice.
    to_anna = next(m for m in mail.outbox if m.to == ["anna@example.test"])
    with translation.override("nl"):
        date = date_format(in_days(NOTICE_DAYS), "j F Y")
    for part in (to_anna.body, to_anna.alternatives[0][0]):
        assert "Mailbox.org" in part
        assert "Duitsland" in part
        assert "Naam, e-mailadres en de inhoud van e-mails" in part
        assert date in part
    assert to_anna.reply_to == [practice.email]
    assert "Coachpraktijk De Linde via" in to_anna.from_email
    # Eva has Bijlage 4: her email points to its clause on objections.
    to_eva = next(m for m in mail.outbox if m.to == ["eva@example.test"])
    assert "Bijlage 4 (clause 4.2)" in to_eva.body
    assert not notices["Eva"].consent_needed
    # Anna's agreement has none: clause 3.4 admits no one else, so she is asked to consent,
    # not told how to object (her silence is no consent).
    assert notices["Anna"].consent_needed
    assert "Bijlage 4" not in to_anna.body
    assert "zonder jouw toestemming. Ga je akkoord?" in to_anna.body
    assert "Bezwaar?" not in to_anna.body and "bezwaar" not in to_anna.body.lower()

    # Evidence on each active agreement, in the hash chain, with the mail server's answer.
    for key in ("anna", "eva", "eva2"):
        agreement = clients[key]
        (notice_event,) = events_of(agreement, Kind.SUBPROCESSOR_NOTICE)
        assert "Mailbox.org" in notice_event.detail
        assert f"{in_days(NOTICE_DAYS):%d-%m-%Y}" in notice_event.detail
        (accepted,) = events_of(agreement, Kind.EMAIL_ACCEPTED)
        assert "sub-processor notice" in accepted.detail
        assert evidence.verify_chain(agreement.events.order_by("id")) is None
    for key in ("bram", "cas", "dirk"):
        assert events_of(clients[key], Kind.SUBPROCESSOR_NOTICE) == []


def test_a_refused_email_shows_as_not_delivered(
    practice, clients, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core.mail import EmailMultiAlternatives

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        subprocessor_add(
            practice=practice,
            values={k: v for k, v in MAILBOX.items() if k != "since"}
            | {"since": datetime.date(2026, 12, 1)},
            effective_on=in_days(NOTICE_DAYS),
            origin=Origin(actor=Actor.COACH),
        )

    notice = SubprocessorNotice.objects.get(client__name="Anna")
    assert notice.delivery == "queued"  # the outbox tries again later
    assert "mail server down" in notice.delivery_error
    (failed,) = events_of(clients["anna"], Kind.EMAIL_FAILED)
    assert "tried again" in failed.detail


def test_the_coach_records_an_objection_and_sees_it(
    coach_client, clients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("subprocessor_add"), add_form())
    notice = SubprocessorNotice.objects.get(client__name="Anna")
    url = reverse("subprocessor_notice_objection", args=[notice.public_id])

    # Not received before the change was announced.
    early = {"objection_received_on": "2000-01-01", "objection": "Te vroeg"}
    response = coach_client.post(url, early, follow=True)
    assert "voordat de wijziging werd aangekondigd" in response.text
    notice.refresh_from_db()
    assert notice.objection == "" and notice.objection_received_on is None

    response = coach_client.post(
        url,
        {
            "objection_received_on": timezone.localdate().isoformat(),
            "objection": "Ik wil niet dat mijn mails in Duitsland staan.",
        },
    )

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.objection_received_on == timezone.localdate()
    assert notice.objection == "Ik wil niet dat mijn mails in Duitsland staan."
    (event,) = events_of(clients["anna"], Kind.SUBPROCESSOR_OBJECTION)
    assert "Ik wil niet dat mijn mails in Duitsland staan." in event.detail
    assert evidence.verify_chain(clients["anna"].events.order_by("id")) is None
    page = coach_client.get(reverse("subprocessor_list")).text
    assert "Ik wil niet dat mijn mails in Duitsland staan." in page

    # A second objection to the same notice is refused; the first stays.
    coach_client.post(url, {"objection_received_on": "2026-11-01", "objection": "Nog een"})
    notice.refresh_from_db()
    assert notice.objection == "Ik wil niet dat mijn mails in Duitsland staan."


def test_the_coach_records_the_consent_of_a_client_without_bijlage_4(
    coach_client, clients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("subprocessor_add"), add_form())
    page = coach_client.get(reverse("subprocessor_list")).text
    assert page.count("Toestemming nodig: geen Bijlage 4 (artikel 3.4)") == 1  # Anna only
    anna = SubprocessorNotice.objects.get(client__name="Anna")
    eva = SubprocessorNotice.objects.get(client__name="Eva")
    url = reverse("subprocessor_notice_consent", args=[anna.public_id])
    today = timezone.localdate().isoformat()

    response = coach_client.post(
        url, {"consent_received_on": today, "consent": "Akkoord, per e-mail."}
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert (anna.consent_received_on, anna.consent) == (
        timezone.localdate(),
        "Akkoord, per e-mail.",
    )
    (event,) = events_of(clients["anna"], Kind.SUBPROCESSOR_CONSENT)
    assert "Akkoord, per e-mail." in event.detail
    assert evidence.verify_chain(clients["anna"].events.order_by("id")) is None
    page = coach_client.get(reverse("subprocessor_list")).text
    assert "Toestemming gegeven op" in page and "Akkoord, per e-mail." in page
    assert "Toestemming nodig" not in page

    # Once is enough; an objection after it is refused; a client with Bijlage 4 needs none.
    again = coach_client.post(
        url, {"consent_received_on": today, "consent": "Nog eens"}, follow=True
    )
    assert "al vastgelegd" in again.text
    objection = reverse("subprocessor_notice_objection", args=[anna.public_id])
    coach_client.post(objection, {"objection_received_on": today, "objection": "Toch niet"})
    anna.refresh_from_db()
    assert anna.consent == "Akkoord, per e-mail." and anna.objection == ""
    response = coach_client.post(
        reverse("subprocessor_notice_consent", args=[eva.public_id]),
        {"consent_received_on": today, "consent": "Ja"},
        follow=True,
    )
    assert "geen toestemming van deze cliënt nodig" in response.text
    assert coach_client.get(url).status_code == 405


def test_changing_one_tells_what_changed_and_reprints_drafts_and_defaults(
    coach_client, clients, practice, django_capture_on_commit_callbacks
):
    entry = Subprocessor.objects.create(
        practice=practice, **(MAILBOX | {"since": datetime.date(2026, 12, 1)})
    )
    draft_row = clients["dirk"].activities.first()
    default_row = DefaultProcessingActivity.objects.filter(practice=practice).first()
    for row in (draft_row, default_row):
        row.subprocessor_ids = [entry.pk]
        row.sub_processors = entry.print_label()
        row.save()
    signed_row = clients["anna"].activities.first()
    signed_row.sub_processors = "Mailbox.org (E-mail), Duitsland"
    signed_row.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("subprocessor_edit", args=[entry.public_id]),
            add_form(location="Verenigde Staten", outside_eea="on", transfer_safeguard="SCC"),
        )

    assert response.status_code == 302
    change = SubprocessorChange.objects.get()
    assert change.kind == "changed"
    assert "locatie Duitsland → Verenigde Staten" in change.summary
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.test", "eva@example.test"]
    to_anna = next(m for m in mail.outbox if m.to == ["anna@example.test"])
    assert "Verenigde Staten" in to_anna.body and "Duitsland" in to_anna.body
    printed = "Mailbox.org (E-mail), Verenigde Staten, buiten de EER met als waarborg: SCC"
    draft_row.refresh_from_db()
    default_row.refresh_from_db()
    assert draft_row.sub_processors == default_row.sub_processors == printed
    signed_row.refresh_from_db()
    assert signed_row.sub_processors == "Mailbox.org (E-mail), Duitsland"


def test_outside_the_eea_a_safeguard_is_required(coach_client, clients):
    response = coach_client.post(reverse("subprocessor_add"), add_form(outside_eea="on"))

    assert response.status_code == 400
    assert not Subprocessor.objects.exists()
    assert mail.outbox == []


def test_less_than_30_days_notice_is_refused(coach_client, clients):
    response = coach_client.post(
        reverse("subprocessor_add"), add_form(effective_on=in_days(5).isoformat())
    )

    assert response.status_code == 400
    assert not Subprocessor.objects.exists()
    assert not SubprocessorNotice.objects.exists()


def test_ending_one_tells_the_clients_and_takes_it_out_of_drafts(
    coach_client, clients, practice, django_capture_on_commit_callbacks
):
    entry = Subprocessor.objects.create(
        practice=practice, **(MAILBOX | {"since": datetime.date(2026, 1, 1)})
    )
    draft_row = clients["dirk"].activities.first()
    draft_row.subprocessor_ids = [entry.pk]
    draft_row.sub_processors = entry.print_label()
    draft_row.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("subprocessor_end", args=[entry.public_id]),
            {"ended_on": in_days(1).isoformat()},
        )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.ended_on == in_days(1)
    assert SubprocessorChange.objects.get().kind == "ended"
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.test", "eva@example.test"]
    draft_row.refresh_from_db()
    assert (draft_row.subprocessor_ids, draft_row.sub_processors) == ([], "")
    # An ended entry cannot be ended or changed again.
    response = coach_client.post(
        reverse("subprocessor_end", args=[entry.public_id]), {"ended_on": in_days(2).isoformat()}
    )
    entry.refresh_from_db()
    assert entry.ended_on == in_days(1)
    assert SubprocessorChange.objects.count() == 1


def test_bijlage_1_rows_pick_from_the_register(coach_client, practice):
    entry = Subprocessor.objects.create(
        practice=practice, **(MAILBOX | {"since": datetime.date(2026, 1, 1)})
    )
    ended = Subprocessor.objects.create(
        practice=practice,
        **(MAILBOX | {"name": "Oud", "since": datetime.date(2025, 1, 1)}),
        ended_on=datetime.date(2026, 1, 1),
    )
    agreement = make_agreement(practice)
    page = coach_client.get(reverse("agreement_edit", args=[agreement.public_id])).text
    assert "Mailbox.org (E-mail), Duitsland" in page
    assert "Oud (E-mail)" not in page  # an ended entry is not offered

    rows = [a.copy_values() | {"id": a.pk} for a in agreement.activities.all()]
    rows[0]["subprocessor_ids"] = [str(entry.pk)]
    rows[1]["subprocessor_ids"] = [str(ended.pk)]  # not offered: refused
    response = coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )
    assert response.status_code == 200  # the form is shown again, with the error
    rows[1]["subprocessor_ids"] = []
    rows[1]["sub_processors"] = "Getypte tekst"  # free text from the browser is not taken
    response = coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )

    assert response.status_code == 302
    first, second, _third = agreement.activities.order_by("position")
    assert first.subprocessor_ids == [entry.pk]
    assert first.sub_processors == "Mailbox.org (E-mail), Duitsland"
    assert second.sub_processors == ""


def test_the_earlier_free_text_of_a_row_is_kept_until_replaced(coach_client, practice):
    agreement = make_agreement(practice)
    row = agreement.activities.order_by("position").first()
    row.sub_processors = "E-mailprovider"
    row.save()
    rows = [a.copy_values() | {"id": a.pk} for a in agreement.activities.all()]

    coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )
    assert agreement.activities.order_by("position").first().sub_processors == "E-mailprovider"

    # The rows are stored anew on every save: post them as they are now.
    rows = [a.copy_values() | {"id": a.pk} for a in agreement.activities.all()]
    rows[0]["clear_sub_processors"] = True
    coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )
    assert agreement.activities.order_by("position").first().sub_processors == ""


# Owner, stranger, method -----------------------------------------------------------------


@pytest.fixture
def entry(practice):
    return Subprocessor.objects.create(
        practice=practice, **(MAILBOX | {"since": datetime.date(2026, 1, 1)})
    )


@pytest.fixture
def notice(practice, entry, clients):
    change = SubprocessorChange.objects.create(
        practice=practice, subprocessor=entry, kind="added", summary="x", effective_on=in_days(30)
    )
    return SubprocessorNotice.objects.create(
        change=change, client=clients["anna"].client, sent_to="anna@example.test"
    )


def test_the_owner_sees_the_register_pages(coach_client, entry):
    for url in (
        reverse("subprocessor_list"),
        reverse("subprocessor_add"),
        reverse("subprocessor_edit", args=[entry.public_id]),
        reverse("subprocessor_end", args=[entry.public_id]),
    ):
        response = coach_client.get(url)
        assert response.status_code == 200, url
    assert "Mailbox.org" in coach_client.get(reverse("subprocessor_list")).text
    # Showing a form changes nothing: only a POST adds, changes or ends, and tells clients.
    entry.refresh_from_db()
    assert entry.ended_on is None
    assert not SubprocessorChange.objects.exists()
    assert Subprocessor.objects.count() == 1


@pytest.fixture
def stranger_client(client):
    stranger = make_coach("vreemde@elders.test", practice=make_practice("Andere praktijk"))
    return login_verified(client, stranger)


def test_a_stranger_gets_404_and_changes_nothing(stranger_client, entry, notice):
    for url in (
        reverse("subprocessor_edit", args=[entry.public_id]),
        reverse("subprocessor_end", args=[entry.public_id]),
    ):
        assert stranger_client.get(url).status_code == 404
        assert stranger_client.post(url, add_form(ended_on="2030-01-01")).status_code == 404
    response = stranger_client.post(
        reverse("subprocessor_notice_objection", args=[notice.public_id]),
        {"objection_received_on": "2026-11-01", "objection": "x"},
    )
    assert response.status_code == 404
    response = stranger_client.post(
        reverse("subprocessor_notice_consent", args=[notice.public_id]),
        {"consent_received_on": "2026-11-01", "consent": "x"},
    )
    assert response.status_code == 404
    entry.refresh_from_db()
    notice.refresh_from_db()
    assert entry.ended_on is None and entry.name == "Mailbox.org"
    assert notice.objection == "" and notice.consent == ""
    assert "Mailbox.org" not in stranger_client.get(reverse("subprocessor_list")).text


def test_recording_an_objection_is_post_only(coach_client, notice):
    url = reverse("subprocessor_notice_objection", args=[notice.public_id])

    assert coach_client.get(url).status_code == 405
    notice.refresh_from_db()
    assert notice.objection_received_on is None


def test_the_register_list_changes_nothing_on_post(coach_client):
    assert coach_client.post(reverse("subprocessor_list")).status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, entry):
    response = client.get(reverse("subprocessor_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_change_notices_come_a_page_at_a_time_with_the_same_queries(
    coach_client, practice, clients, django_assert_max_num_queries
):
    first = subprocessor_add(
        practice=practice,
        values=MAILBOX | {"since": datetime.date(2026, 12, 1)},
        effective_on=in_days(NOTICE_DAYS),
        origin=Origin(actor=Actor.COACH, name="Mado"),
    )
    url = reverse("subprocessor_list")
    with django_assert_max_num_queries(30) as few:
        coach_client.get(url)
    for number in range(2, 13):
        SubprocessorChange.objects.create(
            practice=practice,
            subprocessor=first.subprocessor,
            kind="changed",
            summary=f"Wijziging {number:02d}",
            effective_on=in_days(NOTICE_DAYS),
            created_at=first.created_at + datetime.timedelta(minutes=number),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        newest = coach_client.get(url).text
    older = coach_client.get(url, {"page": 2}).text
    assert "Wijziging 12" in newest and "Wijziging 03" in newest
    assert "Wijziging 02" not in newest and first.summary not in newest
    assert "Wijziging 02" in older and first.summary in older and "Wijziging 03" not in older
    assert "Pagina 2 van 2" in older


# The record of processing (art. 30(2)) ------------------------------------------------

SUBPROCESSORS = art30.COLUMNS.index("Subverwerkers")
TRANSFERS = art30.COLUMNS.index("Doorgifte naar landen buiten de EER en waarborgen")
WOLK = "Na kennisgeving: Wolk Agenda Inc. (Verenigde Staten): EU-VS Data Privacy Framework"


def entries_of(agreement, on):
    (signed,) = art30.signed_agreements(Agreement.objects.filter(pk=agreement.pk))
    register = art30._register(agreement.practice_id)
    entries = art30.agreement_entries(signed, register, today=on)
    assert entries
    return entries


def column(agreement, on, index):
    """The column's text in every row of the agreement's Bijlage 1: a notice concerns the
    whole agreement, so what is asserted of it must hold in each row (or in none)."""
    return Rows(entry[index] for entry in entries_of(agreement, on))


class Rows(list):
    def __contains__(self, text):
        found = [text in row for row in self]
        assert all(found) or not any(found), (text, self)
        return all(found)


def test_a_notice_and_the_clients_answer_reach_the_record(
    coach, clients, django_capture_on_commit_callbacks
):
    from agreements.models import AgreementEnding
    from agreements.signals import terms_changed

    announced = []

    def listen(sender, agreement_id, **kwargs):
        announced.append(agreement_id)

    terms_changed.connect(listen)
    effective = in_days(NOTICE_DAYS)
    with django_capture_on_commit_callbacks(execute=True):
        subprocessor_add(
            practice=coach.practice,
            values={
                "name": "Wolk Agenda Inc.",
                "service": "Online agenda",
                "data": "Naam en afspraken",
                "location": "Verenigde Staten",
                "outside_eea": True,
                "transfer_safeguard": "EU-VS Data Privacy Framework",
                "since": effective,
            },
            effective_on=effective,
            origin=Origin.of_account(coach),
        )
    anna, eva, eva2 = clients["anna"], clients["eva"], clients["eva2"]
    # Each agreement told of it has its entries laid out again (records.record_entries).
    assert sorted(announced) == sorted([anna.pk, eva.pk, eva2.pk])
    today = timezone.localdate()

    # Listed with its date and the answer so far; an entry reads the same before and on
    # that date, so what was laid out when the notice went out stays right.
    told = column(anna, today, SUBPROCESSORS)
    assert len(told) == 3
    assert "Na ondertekening aangekondigd (artikel 28 lid 2 AVG):" in told
    assert "Nieuwe subverwerker: Wolk Agenda Inc." in told
    assert f"per {effective:%d-%m-%Y}" in told
    assert "toestemming gevraagd (geen Bijlage 4), niet vastgelegd" in told
    assert "geen bezwaar vastgelegd" in column(eva, today, SUBPROCESSORS)
    for table in (SUBPROCESSORS, TRANSFERS):
        assert column(eva, today, table) == column(eva, effective, table)

    # Eva (Bijlage 4, no objection) has the transfer from its date; Anna, who has not
    # consented, has not.
    assert f"{WOLK}, vanaf {effective:%d-%m-%Y}" in column(eva, today, TRANSFERS)
    # What the signed annexes said is said of them, not of the whole: no "Geen" standing
    # alone above a sub-processor outside the EEA.
    assert all(text.startswith("Bijlage 1: Geen") for text in column(eva, today, TRANSFERS))
    assert WOLK not in column(anna, today, TRANSFERS)
    # An agreement that ends before the change's date never had it.
    AgreementEnding.objects.create(agreement=eva2, coaching_ended_on=today)
    assert WOLK not in column(eva2, today, TRANSFERS)
    assert f"per {effective:%d-%m-%Y}" in column(eva2, today, SUBPROCESSORS)

    # Anna consents, Eva objects: the other way round.
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notice_record_consent(
            notice=SubprocessorNotice.objects.get(client=anna.client),
            received_on=today,
            consent="Akkoord.",
            origin=Origin.of_account(coach),
        )
        notice_record_objection(
            notice=SubprocessorNotice.objects.get(client=eva.client),
            received_on=today,
            objection="Liever niet in de VS.",
            origin=Origin.of_account(coach),
        )
    terms_changed.disconnect(listen)
    assert sorted(announced) == sorted([anna.pk, eva.pk, eva2.pk])
    assert WOLK in column(anna, today, TRANSFERS)
    assert f"toestemming gegeven op {today:%d-%m-%Y}" in column(anna, today, SUBPROCESSORS)
    assert WOLK not in column(eva, today, TRANSFERS)
    for agreement in (eva, eva2):
        told = column(agreement, today, SUBPROCESSORS)
        assert f"bezwaar ontvangen op {today:%d-%m-%Y}: geldt niet" in told

    # The export's record reads the same entries; a client who got no notice has none.
    rows = {row[0]: row for row in art30.record_rows(Agreement.objects.all())}
    assert "Nieuwe subverwerker: Wolk Agenda Inc." in rows[anna.client_name][SUBPROCESSORS]
    assert "Na ondertekening" not in rows[clients["bram"].client_name][SUBPROCESSORS]
