import csv
import datetime
import io

import pytest
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from breaches import actions
from breaches.models import (
    AuthorityDecision,
    Breach,
    BreachStatus,
    BreachUpdate,
    ClientNotification,
    ImmutableEntryError,
    SubjectsDecision,
)
from core.origin import Origin

from .conftest import login_verified
from .factories import make_client
from .pdf_reading import pdf_text

pytestmark = pytest.mark.django_db

HTML = '<script>alert("x")</script><b>vet</b>'


# What art. 34(2) requires the clients' email to tell them, besides what happened.
ART34 = {
    "consequences": "Anderen kunnen je sessieverslagen lezen.",
    "measures": "Laptop op afstand gewist, wachtwoorden gewijzigd.",
}


def log_breach(practice, user, **fields):
    """A breach as the coach logs it; with clients, also what their email needs (art. 34)."""
    clients = fields.pop("clients", ())
    if clients:
        fields = ART34 | fields
    breach = actions.breach_create(
        practice=practice,
        origin=Origin.of_account(user),
        summary=fields.pop("summary", "Laptop gestolen uit de auto"),
        discovered_at=fields.pop("discovered_at", timezone.now() - datetime.timedelta(hours=2)),
        clients=clients,
    )
    if fields:
        actions.breach_update(breach=breach, origin=Origin.of_account(user), changes=fields)
        breach.refresh_from_db()
    return breach


def detail(breach):
    return reverse("breach_detail", args=[breach.public_id])


# Logging and updating ------------------------------------------------------------------


def test_the_new_breach_form_sent_twice_logs_one_breach(coach_client, coach, monkeypatch):
    """A double click or a retry on a slow connection sends the same form again: the breach
    register gets one breach, and both answers lead to it."""
    page = coach_client.get(reverse("breach_create"))
    key = page.context["form"]["submission_key"].value()
    assert f'name="submission_key" value="{key}"' in page.text
    form = {
        "summary": "Laptop gestolen",
        "discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "submission_key": str(key),
    }
    first = coach_client.post(reverse("breach_create"), form)
    again = coach_client.post(reverse("breach_create"), form)
    breach = Breach.objects.get()
    assert first.url == again.url == detail(breach)
    assert breach.updates.count() == 1
    # Sent at the same moment: the second is refused by the key's uniqueness, not before.
    monkeypatch.setattr(actions, "_logged_by", lambda *a: None)
    with pytest.raises(IntegrityError):
        coach_client.post(reverse("breach_create"), form)
    monkeypatch.undo()
    real = actions._logged_by
    calls = []

    def too_late(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(actions, "_logged_by", too_late)
    raced = coach_client.post(reverse("breach_create"), form)
    assert raced.url == detail(breach) and Breach.objects.count() == 1
    # Another form, another breach.
    other = coach_client.get(reverse("breach_create")).context["form"]["submission_key"].value()
    coach_client.post(reverse("breach_create"), form | {"submission_key": str(other)})
    assert Breach.objects.count() == 2


def test_first_report_needs_only_what_and_when(coach_client, coach):
    response = coach_client.post(
        reverse("breach_create"),
        {"summary": "E-mail met verslag naar verkeerde Zoë gestuurd", "discovered_at": ""},
    )
    assert response.status_code == 200
    assert not Breach.objects.exists()
    # What was typed is still there after the validation error.
    assert "E-mail met verslag naar verkeerde Zoë gestuurd" in response.text

    response = coach_client.post(
        reverse("breach_create"),
        {
            "summary": "E-mail met verslag naar verkeerde Zoë gestuurd",
            "discovered_at": "2026-11-28T09:15",
        },
    )
    breach = Breach.objects.get()
    assert response.status_code == 302
    assert response.url == detail(breach)
    assert breach.practice == coach.practice
    assert breach.status == BreachStatus.OPEN
    assert timezone.localtime(breach.discovered_at).strftime("%Y-%m-%d %H:%M") == (
        "2026-11-28 09:15"
    )
    assert breach.authority_decision == AuthorityDecision.PENDING
    (entry,) = breach.updates.all()
    assert entry.kind == BreachUpdate.Kind.REPORTED
    assert entry.author == coach


def test_three_updates_make_an_ordered_unchangeable_timeline(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    client = make_client(coach.practice)
    url = lambda section: reverse("breach_edit", args=[breach.public_id, section])  # noqa: E731

    response = coach_client.post(
        url("data"),
        {
            "common_categories": ["name", "session_notes"],
            "special_categories": ["health"],
            "records_count": "12",
            "unintelligible": "no",
        },
    )
    assert response.status_code == 302
    response = coach_client.post(
        url("people"),
        {
            "persons_min": "1",
            "persons_max": "3",
            "persons_group": "Cliënten van de praktijk",
            "contact_details_known": "yes",
            "clients": [client.pk],
        },
    )
    assert response.status_code == 302
    response = coach_client.post(
        url("cause"),
        {
            "root_cause": "Laptop onbeheerd in de auto",
            "consequences": "Gezondheidsgegevens in handen van derden",
            "measures": "Wachtwoorden gewijzigd, aangifte gedaan",
        },
    )
    assert response.status_code == 302

    breach.refresh_from_db()
    assert breach.data_categories == ["name", "session_notes", "health"]
    assert breach.has_sensitive_data
    assert (breach.persons_min, breach.persons_max) == (1, 3)
    assert list(breach.clients.all()) == [client]
    assert breach.measures == "Wachtwoorden gewijzigd, aangifte gedaan"

    entries = list(breach.updates.all())
    assert [e.kind for e in entries] == ["reported", "updated", "updated", "updated"]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[1].changes["data_categories"] == "name, session_notes, health"
    assert entries[2].changes["persons_max"] == "3"
    # Affected clients are recorded by identity, with their name as it was then.
    assert entries[2].changes["clients"] == [{"client": str(client.public_id), "name": client.name}]
    assert entries[3].changes["root_cause"] == "Laptop onbeheerd in de auto"

    # The timeline cannot be changed, one by one or in bulk.
    first = entries[1]
    first.text = "herschreven"
    with pytest.raises(ImmutableEntryError):
        first.save()
    with pytest.raises(ImmutableEntryError):
        first.delete()
    with pytest.raises(ImmutableEntryError):
        BreachUpdate.objects.filter(breach=breach).update(text="weg")
    with pytest.raises(ImmutableEntryError):
        BreachUpdate.objects.filter(breach=breach).delete()
    assert BreachUpdate.objects.get(pk=first.pk).text == ""

    page = coach_client.get(detail(breach)).text
    assert page.index("Laptop onbeheerd in de auto") > page.index("Cliënten van de praktijk")


def test_saving_a_section_without_changes_adds_no_entry(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    coach_client.post(reverse("breach_edit", args=[breach.public_id, "cause"]), {})
    assert breach.updates.count() == 1


def test_unknown_section_is_404(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    assert coach_client.get(f"{detail(breach)}edit/nothing/").status_code == 404


# Client notification -------------------------------------------------------------------


def test_notification_reaches_each_client_over_real_smtp(
    coach_client, coach, smtp_server, django_capture_on_commit_callbacks
):
    zoe = make_client(coach.practice)
    bram = make_client(coach.practice, name="Bram de Vries", email="bram@example.test")
    breach = log_breach(
        coach.practice,
        coach,
        clients=[zoe, bram],
        data_categories=["name", "health"],
        measures="Laptop op afstand gewist.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("breach_notify", args=[breach.public_id]),
            {"clients": [zoe.pk, bram.pk], "message": "Bel me gerust."},
        )
    assert response.status_code == 302

    for client in (zoe, bram):
        (message,) = smtp_server.to(client.email)
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "datalek" in message["Subject"].lower()
        assert f"Beste {client.name}" in body
        assert "Laptop gestolen uit de auto" in body
        assert "gezondheidsgegevens" in body
        assert "Laptop op afstand gewist." in body
        assert "Bel me gerust." in body
        assert "privacy@delinde.test" in body
        assert "06 12345678" in body
        assert message["Reply-To"] == "privacy@delinde.test"

    notifications = ClientNotification.objects.filter(breach=breach)
    assert {(n.client, n.email, n.delivered, n.error) for n in notifications} == {
        (zoe, zoe.email, True, ""),
        (bram, bram.email, True, ""),
    }
    assert all(n.sent_at is not None for n in notifications)
    breach.refresh_from_db()
    assert breach.clients_informed_at is not None
    assert breach.deadlines()[0].is_met
    assert breach.updates.filter(kind=BreachUpdate.Kind.CLIENTS_NOTIFIED).exists()


def test_what_each_client_was_told_is_kept_when_the_facts_change_later(
    coach_client, coach, smtp_server, django_capture_on_commit_callbacks
):
    """Art. 34(2) and 5(2): the register shows the text each client received, also after the
    breach's facts were updated (the outbox forgets its copy once it is sent)."""
    zoe = make_client(coach.practice)
    breach = log_breach(coach.practice, coach, clients=[zoe])
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("breach_notify", args=[breach.public_id]),
            {"clients": [zoe.pk], "message": "Bel me gerust."},
        )
    (message,) = smtp_server.to(zoe.email)
    received = message.get_body(preferencelist=("plain",)).get_content()
    actions.breach_update(
        breach=breach,
        origin=Origin.of_account(coach),
        changes={"consequences": "Later gebleken: niemand heeft iets gelezen."},
    )

    (notification,) = ClientNotification.objects.filter(breach=breach)
    assert notification.text.strip().splitlines() == received.strip().splitlines()
    assert ART34["consequences"] in notification.text
    page = coach_client.get(detail(breach)).text
    assert "De e-mail aan Zoë Ünal-Brontë, zoals verzonden" in page
    assert ART34["consequences"] in page
    report = pdf_text(
        coach_client.get(reverse("breach_report_pdf", args=[breach.public_id])).content
    )
    assert "Tekst van de e-mail aan Zoë Ünal-Brontë" in report
    assert "Anderen kunnen je sessieverslagen lezen." in " ".join(report.split())
    assert "niemand heeft iets gelezen" in " ".join(report.split())  # the facts, as now


@pytest.mark.parametrize(
    ("hours_ago", "signed", "promised"),
    [(2, True, True), (30, True, False), (2, False, False)],
)
def test_the_email_promises_24_hours_only_when_it_keeps_the_promise(
    coach, hours_ago, signed, promised, django_capture_on_commit_callbacks
):
    """Clause 7.1: word within 24 hours. A late email, or one to a client without a signed
    agreement, does not claim it."""
    from agreements.models import Agreement

    from .factories import make_agreement

    zoe = make_client(coach.practice)
    if signed:
        agreement = make_agreement(coach.practice, zoe)
        Agreement.objects.filter(pk=agreement.pk).update(status="signed")
    breach = log_breach(
        coach.practice,
        coach,
        clients=[zoe],
        discovered_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.breach_notify_clients(breach=breach, origin=Origin.of_account(coach), clients=[zoe])
    (message,) = mail.outbox
    assert "is een datalek geweest waarbij jouw persoonsgegevens betrokken zijn." in message.body
    assert ("hoor je dat binnen 24 uur" in message.body) == promised


def test_a_failed_email_is_recorded_and_shown(
    coach_client, coach, settings, django_capture_on_commit_callbacks
):
    from .conftest import _free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _free_port(), "timeout": 2},
        }
    }
    zoe = make_client(coach.practice)
    breach = log_breach(coach.practice, coach, clients=[zoe])
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("breach_notify", args=[breach.public_id]), {"clients": [zoe.pk]})
    # The email was tried when the transaction committed (here: when the block ended).
    response = coach_client.get(reverse("breach_detail", args=[breach.public_id]))
    (notification,) = ClientNotification.objects.all()
    assert notification.delivered is False
    assert notification.error
    assert notification.sent_at is not None
    assert "kon niet worden verstuurd" in response.text
    breach.refresh_from_db()
    assert breach.clients_informed_at is None
    assert breach.updates.filter(kind=BreachUpdate.Kind.EMAIL_FAILED).exists()


def test_a_client_of_another_practice_can_never_be_linked(coach_client, coach, stranger):
    theirs = make_client(stranger.practice, name="Andermans cliënt", email="ander@example.test")
    ours = make_client(coach.practice)

    response = coach_client.post(
        reverse("breach_create"),
        {"summary": "Lek", "discovered_at": "2026-11-28T09:15", "clients": [theirs.pk]},
    )
    assert response.status_code == 200
    assert not Breach.objects.exists()
    assert "Andermans cliënt" not in response.text

    breach = log_breach(coach.practice, coach, clients=[ours])
    response = coach_client.post(
        reverse("breach_edit", args=[breach.public_id, "people"]), {"clients": [theirs.pk]}
    )
    assert response.status_code == 200
    assert list(breach.clients.all()) == [ours]

    response = coach_client.post(
        reverse("breach_notify", args=[breach.public_id]), {"clients": [theirs.pk]}
    )
    assert response.status_code == 200
    assert not ClientNotification.objects.exists()

    with pytest.raises(actions.BreachActionRefused):
        actions.breach_update(
            breach=breach, origin=Origin.of_account(coach), changes={}, clients=[theirs]
        )
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_notify_clients(
            breach=breach, origin=Origin.of_account(coach), clients=[theirs]
        )
    with pytest.raises(actions.BreachActionRefused):
        log_breach(coach.practice, coach, clients=[theirs])
    assert list(breach.clients.all()) == [ours]
    assert mail.outbox == []


def test_only_linked_clients_can_be_notified(coach):
    breach = log_breach(coach.practice, coach)
    unlinked = make_client(coach.practice)
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_notify_clients(
            breach=breach, origin=Origin.of_account(coach), clients=[unlinked]
        )


# Decisions and the register --------------------------------------------------------------


def test_not_notifying_the_authority_needs_a_reason(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    url = reverse("breach_authority_decision", args=[breach.public_id])
    response = coach_client.post(url, {"decision": "not_notified", "reason": "   "})
    assert response.status_code == 200
    assert "reden" in response.text.lower()
    breach.refresh_from_db()
    assert breach.authority_decision == AuthorityDecision.PENDING
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_record_authority_decision(
            breach=breach, origin=Origin.of_account(coach), notified=False
        )

    reason = "Versleutelde laptop (BitLocker); geen risico voor de cliënt, géén melding."
    response = coach_client.post(url, {"decision": "not_notified", "reason": reason})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.authority_decision == AuthorityDecision.NOT_NOTIFIED
    assert breach.authority_reason == reason
    assert breach.deadlines()[1].is_met
    assert breach.updates.last().kind == BreachUpdate.Kind.AUTHORITY_DECISION

    response = coach_client.get(reverse("breach_register_csv"))
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, (row,) = rows[0], rows[1:]
    assert header[:3] == ["Kenmerk", "Status", "Ontdekt op"]
    assert "Reden (niet of te laat) melden" in header
    assert "Cliënten geïnformeerd" in header
    record = dict(zip(header, row, strict=True))
    assert record["Kenmerk"] == breach.reference
    assert record["Melding AP"] == "niet gemeld"
    assert record["Reden (niet of te laat) melden"] == reason
    assert record["Wat is er gebeurd"] == "Laptop gestolen uit de auto"

    pdf = coach_client.get(reverse("breach_register_pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Register van datalekken" in text
    assert "géén melding" in text

    page = coach_client.get(reverse("breach_list")).text
    assert breach.reference in page
    assert "géén melding" in page


def test_notified_needs_time_and_reference_and_a_reason_when_late(coach):
    breach = log_breach(
        coach.practice, coach, discovered_at=timezone.now() - datetime.timedelta(hours=100)
    )
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_record_authority_decision(
            breach=breach,
            origin=Origin.of_account(coach),
            notified=True,
            notified_at=timezone.now(),
        )
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_record_authority_decision(
            breach=breach,
            origin=Origin.of_account(coach),
            notified=True,
            notified_at=timezone.now(),
            reference="M-123",
        )
    actions.breach_record_authority_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        notified=True,
        notified_at=timezone.now(),
        reference="M-123",
        reason="Pas na het weekend ontdekt wat er weg was.",
    )
    breach.refresh_from_db()
    assert breach.authority_decision == AuthorityDecision.NOTIFIED
    assert breach.authority_reference == "M-123"
    assert breach.deadlines()[1].met_late


def test_a_notification_recorded_afterwards_counts_from_when_the_ap_was_notified(
    coach, coach_client
):
    """Notified within 72 hours but written down in the app a day later: the deadline was
    met at the notification, not at the moment of writing it down."""
    discovered = timezone.now() - datetime.timedelta(hours=100)
    notified = discovered + datetime.timedelta(hours=50)
    breach = log_breach(coach.practice, coach, discovered_at=discovered)
    actions.breach_record_authority_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        notified=True,
        notified_at=notified,
        reference="M-77",
    )
    breach.refresh_from_db()
    authority = breach.deadlines()[1]
    assert authority.met_at == notified
    assert not authority.met_late
    # The timeline writes the moment as the page does, not as it is stored.
    local = timezone.localtime(notified)
    page = coach_client.get(detail(breach)).text
    assert local.strftime("%Y-%m-%d %H:%M") not in page
    with translation.override("nl"):
        in_words = date_format(local, "j F Y, H:i")
    assert f"Gemeld bij de AP op: {in_words}" in page


def test_a_discovery_moved_after_the_notification_must_still_agree_with_it(coach_client, coach):
    discovered = timezone.now() - datetime.timedelta(hours=3)
    breach = log_breach(coach.practice, coach, discovered_at=discovered)
    origin = Origin.of_account(coach)
    notified = timezone.now() - datetime.timedelta(hours=1)
    actions.breach_record_authority_decision(
        breach=breach, origin=origin, notified=True, notified_at=notified, reference="M-78"
    )
    url = reverse("breach_edit", args=[breach.public_id, "what"])
    form = {"summary": breach.summary, "system_name": ""}

    # Discovered four days ago after all: the notification was late and gave no reason.
    earlier = timezone.localtime() - datetime.timedelta(days=4)
    response = coach_client.post(url, form | {"discovered_at": earlier.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 200
    assert "later dan 72 uur" in response.text
    # After the notification: impossible.
    later = timezone.localtime() - datetime.timedelta(minutes=30)
    response = coach_client.post(url, form | {"discovered_at": later.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 200
    assert "na het moment" in response.text
    breach.refresh_from_db()
    assert breach.discovered_at == discovered
    assert breach.updates.filter(kind="updated").count() == 0

    # With the reason recorded, the earlier discovery is accepted.
    actions.breach_record_authority_decision(
        breach=breach,
        origin=origin,
        notified=True,
        notified_at=notified,
        reference="M-78",
        reason="Pas later begrepen wat er weg was.",
    )
    response = coach_client.post(url, form | {"discovered_at": earlier.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.discovered_at == earlier.replace(second=0, microsecond=0)
    assert breach.deadlines()[1].met_late


def test_not_informing_because_encrypted_needs_the_report_to_say_so(coach_client, coach):
    """Art. 34(3)(a) holds only for data made unintelligible: the decision must agree with
    the report's answer, and the answer cannot be changed under the decision."""
    breach = log_breach(coach.practice, coach)
    decide = reverse("breach_subjects_decision", args=[breach.public_id])
    chosen = {"decision": "unintelligible", "reason": "De laptop was versleuteld."}
    response = coach_client.post(decide, chosen)
    assert response.status_code == 200
    assert "niet dat de gegevens versleuteld" in response.text
    breach.refresh_from_db()
    assert breach.subjects_decision == SubjectsDecision.PENDING

    origin = Origin.of_account(coach)
    actions.breach_update(breach=breach, origin=origin, changes={"unintelligible": "yes"})
    assert coach_client.post(decide, chosen).status_code == 302
    breach.refresh_from_db()
    assert breach.subjects_decision == SubjectsDecision.UNINTELLIGIBLE
    with pytest.raises(actions.BreachActionRefused, match="andere beslissing"):
        actions.breach_update(breach=breach, origin=origin, changes={"unintelligible": "no"})
    breach.refresh_from_db()
    assert breach.unintelligible == "yes"


def test_before_closing_the_page_names_the_facts_the_report_lacks(coach_client, coach):
    """Art. 33(5): the register holds the facts. The close step says which of the AP's first
    questions are still open, with a link to each, and still lets the coach close."""
    breach = log_breach(coach.practice, coach)
    page = coach_client.get(detail(breach)).text
    warning = page[page.index('id="unanswered-facts"') :].split("</div>", 1)[0]
    for words, section in [
        ("de aard van de inbreuk", "what"),
        ("welke persoonsgegevens", "data"),
        ("hoeveel personen", "people"),
        ("de waarschijnlijke gevolgen", "cause"),
    ]:
        assert words in warning
        assert reverse("breach_edit", args=[breach.public_id, section]) in warning
    actions.breach_update(
        breach=breach,
        origin=Origin.of_account(coach),
        changes={"nature_confidentiality": True, "data_categories": ["name"], "persons_max": 3}
        | ART34,
    )
    assert 'id="unanswered-facts"' not in coach_client.get(detail(breach)).text


def test_close_needs_the_decisions_and_reopen_needs_a_reason(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    close = reverse("breach_close", args=[breach.public_id])
    response = coach_client.post(close, {"measures": "Wachtwoorden gewijzigd"})
    assert response.status_code == 200
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN

    actions.breach_record_authority_decision(
        breach=breach, origin=Origin.of_account(coach), notified=False, reason="Geen risico."
    )
    response = coach_client.post(
        reverse("breach_subjects_decision", args=[breach.public_id]),
        {"decision": "low_risk", "reason": ""},
    )
    assert response.status_code == 200
    response = coach_client.post(
        reverse("breach_subjects_decision", args=[breach.public_id]),
        {"decision": "low_risk", "reason": "Versleuteld"},
    )
    assert response.status_code == 302
    response = coach_client.post(close, {"measures": "Wachtwoorden gewijzigd"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == BreachStatus.CLOSED
    assert breach.closed_at is not None
    assert breach.measures == "Wachtwoorden gewijzigd"

    # Closed: still readable, no longer changeable.
    assert coach_client.get(detail(breach)).status_code == 200
    response = coach_client.post(
        reverse("breach_edit", args=[breach.public_id, "cause"]), {"root_cause": "Iets anders"}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.root_cause == ""
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_update(
            breach=breach, origin=Origin.of_account(coach), changes={"root_cause": "x"}
        )

    reopen = reverse("breach_reopen", args=[breach.public_id])
    assert coach_client.post(reopen, {"reason": ""}).status_code == 200
    breach.refresh_from_db()
    assert breach.status == BreachStatus.CLOSED
    assert coach_client.post(reopen, {"reason": "Nieuwe informatie"}).status_code == 302
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN
    assert breach.closed_at is None
    assert [u.kind for u in breach.updates.all()][-2:] == ["closed", "reopened"]


def test_report_pdf_answers_the_questions_in_the_aps_order(coach_client, coach):
    breach = log_breach(
        coach.practice,
        coach,
        persons_min=2,
        persons_max=5,
        root_cause="Onversleutelde USB-stick",
        measures="Nieuwe versleutelde sticks",
        unintelligible="no",
    )
    coach.full_name = "Mado Remkes"
    coach.save(update_fields=["full_name"])
    response = coach_client.get(reverse("breach_report_pdf", args=[breach.public_id]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    # The AP's form asks for a contact person by name.
    assert "Contactpersoon Mado Remkes, de coach · 06 12345678" in " ".join(text.split())
    order = [
        "Samenvatting",
        "Aantal personen: minimum",
        "Omschrijving groep personen",
        "Datum of periode",
        "Ontdekt op",
        "Aard van de inbreuk",
        "Soorten persoonsgegevens",
        "Oorzaak",
        "Maatregelen",
        "Waren de gegevens versleuteld",
        "Zijn de contactgegevens bekend",
        "Melding aan de Autoriteit Persoonsgegevens",
    ]
    positions = [text.index(label) for label in order]
    assert positions == sorted(positions)
    assert "Onversleutelde USB-stick" in text


# Owner and stranger ------------------------------------------------------------------------

BREACH_URLS = [
    ("breach_detail", "get"),
    ("breach_report_pdf", "get"),
    ("breach_notify", "post"),
    ("breach_authority_decision", "post"),
    ("breach_subjects_decision", "post"),
    ("breach_close", "post"),
    ("breach_reopen", "post"),
]


@pytest.mark.parametrize(("name", "method"), BREACH_URLS)
def test_stranger_gets_404(client, coach, stranger, name, method):
    breach = log_breach(coach.practice, coach, clients=[make_client(coach.practice)])
    login_verified(client, stranger)
    data = {
        "decision": "not_notified",
        "reason": "x",
        "measures": "x",
        "clients": [c.pk for c in breach.clients.all()],
    }
    entries = breach.updates.count()
    response = getattr(client, method)(reverse(name, args=[breach.public_id]), data)
    assert response.status_code == 404
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN
    assert breach.authority_decision == AuthorityDecision.PENDING
    assert breach.updates.count() == entries
    assert not ClientNotification.objects.exists()


@pytest.mark.parametrize("section", ["what", "data", "people", "cause", "others", "triage"])
def test_stranger_gets_404_on_every_section(client, coach, stranger, section):
    breach = log_breach(coach.practice, coach)
    login_verified(client, stranger)
    url = reverse("breach_edit", args=[breach.public_id, section])
    assert client.get(url).status_code == 404
    assert (
        client.post(
            url, {"summary": "overgenomen", "discovered_at": "2026-11-01T10:00"}
        ).status_code
        == 404
    )
    breach.refresh_from_db()
    assert breach.summary == "Laptop gestolen uit de auto"


def test_strangers_lists_and_exports_hold_none_of_ours(client, coach, stranger):
    breach = log_breach(coach.practice, coach, summary="Geheim lek van De Linde")
    login_verified(client, stranger)
    assert breach.reference not in client.get(reverse("breach_list")).text
    assert "Geheim lek" not in client.get(reverse("breach_register_csv")).content.decode()
    assert "Geheim lek" not in pdf_text(client.get(reverse("breach_register_pdf")).content)
    assert "Geheim lek" not in client.get(reverse("dashboard")).text


@pytest.mark.parametrize(
    "name",
    [
        "breach_notify",
        "breach_authority_decision",
        "breach_subjects_decision",
        "breach_close",
        "breach_reopen",
    ],
)
def test_mutating_views_refuse_get(coach_client, coach, name):
    breach = log_breach(coach.practice, coach)
    response = coach_client.get(reverse(name, args=[breach.public_id]))
    assert response.status_code == 405
    breach.refresh_from_db()
    assert breach.updates.count() == 1
    assert breach.status == BreachStatus.OPEN


# Bad input -------------------------------------------------------------------------------


def test_max_below_min_persons_is_refused(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    response = coach_client.post(
        reverse("breach_edit", args=[breach.public_id, "people"]),
        {"persons_min": "10", "persons_max": "3", "persons_group": "Cliënten"},
    )
    assert response.status_code == 200
    assert "Het maximum kan niet lager zijn dan het minimum" in response.text
    # What was typed stays in the form.
    assert 'value="10"' in response.text
    breach.refresh_from_db()
    assert breach.persons_min is None
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        actions.breach_update(
            breach=breach,
            origin=Origin.of_account(coach),
            changes={"persons_min": 10, "persons_max": 3},
        )
    # Nor can the database hold it.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(persons_min=10, persons_max=3)


def test_discovery_in_the_future_is_refused(coach_client, coach):
    future = timezone.localtime() + datetime.timedelta(hours=2)
    response = coach_client.post(
        reverse("breach_create"),
        {"summary": "Lek", "discovered_at": future.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 200
    assert "toekomst" in response.text
    assert not Breach.objects.exists()
    with pytest.raises(actions.BreachActionRefused):
        log_breach(coach.practice, coach, discovered_at=timezone.now() + datetime.timedelta(days=1))


@pytest.mark.parametrize("section", ["what", "data", "people", "cause", "others"])
def test_100000_character_fields_are_refused(coach_client, coach, section):
    breach = log_breach(coach.practice, coach)
    huge = "a" * 100_000
    data = {
        "summary": huge,
        "system_name": huge,
        "discovered_at": "2026-11-28T09:15",
        "occurred_note": huge,
        "data_other": huge,
        "unintelligible_note": huge,
        "persons_group": huge,
        "root_cause": huge,
        "consequences": huge,
        "measures": huge,
        "incident_other": huge,
        "other_org_name": huge,
        "other_org_details": huge,
        "cross_border_countries": huge,
        "other_authorities": huge,
    }
    response = coach_client.post(reverse("breach_edit", args=[breach.public_id, section]), data)
    assert response.status_code == 200
    assert "is-invalid" in response.text
    breach.refresh_from_db()
    assert breach.updates.count() == 1
    assert len(breach.summary) < 100


def test_100000_characters_on_create_and_decisions_are_refused(coach_client, coach):
    huge = "a" * 100_000
    response = coach_client.post(
        reverse("breach_create"), {"summary": huge, "discovered_at": "2026-11-28T09:15"}
    )
    assert response.status_code == 200
    assert not Breach.objects.exists()
    breach = log_breach(coach.practice, coach)
    response = coach_client.post(
        reverse("breach_authority_decision", args=[breach.public_id]),
        {"decision": "not_notified", "reason": huge},
    )
    assert response.status_code == 200
    breach.refresh_from_db()
    assert breach.authority_decision == AuthorityDecision.PENDING


def test_html_in_every_field_is_escaped_in_page_email_and_pdf(
    coach_client, coach, django_capture_on_commit_callbacks
):
    practice = coach.practice
    client = make_client(practice, name=f"Zoë {HTML}")
    text_fields = [
        "system_name",
        "occurred_note",
        "data_other",
        "unintelligible_note",
        "persons_group",
        "root_cause",
        "consequences",
        "measures",
        "incident_other",
        "other_org_name",
        "other_org_details",
        "cross_border_countries",
        "other_authorities",
    ]
    breach = log_breach(
        practice,
        coach,
        summary=HTML,
        clients=[client],
        **{name: f"{name} {HTML}" for name in text_fields},
    )
    actions.breach_record_authority_decision(
        breach=breach, origin=Origin.of_account(coach), notified=False, reason=HTML
    )
    actions.breach_record_data_subjects_decision(
        breach=breach, origin=Origin.of_account(coach), decision="low_risk", reason=HTML
    )
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("breach_notify", args=[breach.public_id]),
            {"clients": [client.pk], "message": HTML},
        )

    for url in (detail(breach), reverse("breach_list"), reverse("dashboard")):
        page = coach_client.get(url).text
        assert "<script>alert" not in page
        assert "<b>vet</b>" not in page
    page = coach_client.get(detail(breach)).text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;vet&lt;/b&gt;" in page
    for name in text_fields:
        assert f"{name} &lt;script&gt;" in page

    (message,) = mail.outbox
    html_body = message.alternatives[0].content
    assert "<script>" not in html_body
    assert "<b>vet</b>" not in html_body
    assert "&lt;b&gt;vet&lt;/b&gt;" in html_body
    assert HTML in message.body  # plain text shows it as typed, harmlessly

    text = pdf_text(coach_client.get(reverse("breach_report_pdf", args=[breach.public_id])).content)
    # Escaped markup prints as the characters typed; unescaped it would vanish into markup.
    assert "<b>vet</b>" in text
    assert "<script>" in text
    register = pdf_text(coach_client.get(reverse("breach_register_pdf")).content)
    assert "<b>vet</b>" in register


def test_an_empty_breach_list_and_dashboard_invite_to_log_one(coach_client):
    page = coach_client.get(reverse("breach_list")).text
    assert reverse("breach_create") in page
    assert reverse("breach_create") in coach_client.get(reverse("dashboard")).text


def test_forms_offer_only_the_practices_own_clients(coach_client, coach, stranger):
    make_client(coach.practice, name="Eigen Cliënt")
    make_client(stranger.practice, name="Andermans Cliënt")
    for url in (
        reverse("breach_create"),
        reverse("breach_edit", args=[log_breach(coach.practice, coach).public_id, "people"]),
    ):
        page = coach_client.get(url).text
        assert 'type="checkbox" class="form-check-input"  name="clients"' in page
        assert "Eigen Cliënt" in page
        assert "Andermans Cliënt" not in page
