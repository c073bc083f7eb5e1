"""The breach report is complete against the AP's datalek-meldformulier: each new question is
asked in the form, kept on the breach and printed in the report PDF and the register; a
notification to the AP can be followed up and withdrawn; the clients' email holds what
art. 34(2) GDPR requires; the register shows who was notified, a page at a time."""

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from breaches import actions
from breaches.models import (
    AuthorityDecision,
    Breach,
    BreachUpdate,
    ClientNotification,
    SubjectsDecision,
)
from core.origin import Origin

from .conftest import login_verified
from .factories import make_client
from .test_breaches import ART34, HTML, log_breach, pdf_text

pytestmark = pytest.mark.django_db


def edit(breach, section):
    return reverse("breach_edit", args=[breach.public_id, section])


def register_records(coach_client):
    raw = coach_client.get(reverse("breach_register_csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def notify_ap(breach, coach, **extra):
    return actions.breach_record_authority_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        notified=True,
        notified_at=extra.pop("notified_at", timezone.now() - datetime.timedelta(minutes=30)),
        reference=extra.pop("reference", "M-2026-0042"),
    )


# The new questions, through the form, into the report and the register -------------------


def fill_in_every_ap_question(coach_client, breach):
    """The coach answers the AP's questions section by section, as on the page."""
    responses = [
        coach_client.post(
            edit(breach, "what"),
            {
                "summary": "Laptop met sessieverslagen gestolen uit de auto",
                "incident": ["lost_device", "other"],
                "incident_other": "Auto opengebroken op parkeerplaats",
                "system_name": "Laptop",
                "discovered_at": "2026-11-28T09:15",
                "occurred_from": "2026-11-27",
                "occurred_from_time": "22:30",
                "occurred_until": "2026-11-28",
                "occurred_until_time": "07:45",
                "ongoing": "False",
                "nature_confidentiality": "on",
            },
        ),
        coach_client.post(
            edit(breach, "data"),
            {
                "common_categories": ["name"],
                "special_categories": [
                    "ethnicity",
                    "political",
                    "beliefs",
                    "trade_union",
                    "genetic",
                    "biometric",
                    "health",
                    "sexuality",
                ],
                "sensitive_categories": ["criminal", "bsn", "financial", "children"],
                "unintelligible": "no",
            },
        ),
        coach_client.post(
            edit(breach, "cause"),
            {
                "root_cause": "Laptop onbeheerd in de auto",
                "consequence": ["stigma", "fraud"],
                "consequence_severity": "significant",
                "consequences": "Anderen kunnen gezondheidsgegevens lezen.",
                "measures": "Laptop op afstand gewist.",
            },
        ),
        coach_client.post(
            edit(breach, "others"),
            {
                "other_org_name": "Wolkopslag B.V.",
                "other_org_role": "sub_processor",
                "other_org_details": "Back-updienst in Utrecht, contact: J. Smit",
                "cross_border": "True",
                "cross_border_countries": "België, Duitsland",
                "other_authorities_notified": "True",
                "other_authorities": "Gegevensbeschermingsautoriteit (België)",
            },
        ),
    ]
    assert [r.status_code for r in responses] == [302, 302, 302, 302]


def test_every_ap_question_is_kept_and_printed_in_the_report_and_the_register(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    fill_in_every_ap_question(coach_client, breach)
    notify_ap(breach, coach, notified_at=timezone.now() - datetime.timedelta(hours=1))
    actions.breach_record_authority_followup(
        breach=breach,
        origin=Origin.of_account(coach),
        sent_at=timezone.now() - datetime.timedelta(minutes=20),
        text="Aantal betrokkenen bijgesteld naar 12.",
    )
    actions.breach_withdraw_authority_notification(
        breach=breach,
        origin=Origin.of_account(coach),
        withdrawn_at=timezone.now() - datetime.timedelta(minutes=5),
        reference="M-2026-0042-I",
        reason="Laptop ongeopend teruggevonden.",
    )

    breach.refresh_from_db()
    assert breach.incident_kinds == ["lost_device", "other"]
    assert breach.data_categories == [
        "name",
        "financial",
        "health",
        "bsn",
        "ethnicity",
        "beliefs",
        "sexuality",
        "criminal",
        "political",
        "trade_union",
        "genetic",
        "biometric",
        "children",
    ]
    assert breach.consequence_kinds == ["stigma", "fraud"]
    # The times are Dutch wall-clock times, on the dates beside them.
    start = breach.occurred_start
    assert (start.year, start.month, start.day, start.hour, start.minute) == (2026, 11, 27, 22, 30)
    assert start.utcoffset() == datetime.timedelta(hours=1)  # CET in November
    assert breach.occurred_end.astimezone(datetime.UTC).hour == 6

    expected = [
        "Auto opengebroken op parkeerplaats",
        "Apparaat verloren of gestolen",
        "27-11-2026 22:30 t/m 28-11-2026 07:45",
        "Wolkopslag B.V.",
        "een subverwerker",
        "Back-updienst in Utrecht",
        "ras of etnische afkomst",
        "politieke opvattingen",
        "religieuze of levensbeschouwelijke overtuigingen",
        "lidmaatschap van een vakbond",
        "genetische gegevens",
        "biometrische gegevens",
        "gezondheidsgegevens",
        "seksueel leven of seksuele gerichtheid",
        "strafrechtelijke gegevens",
        "burgerservicenummer (BSN)",
        "financiële gegevens",
        "gegevens van kinderen",
        "stigmatisering of uitsluiting",
        "(identiteits)fraude",
        "aanzienlijk",
        "België, Duitsland",
        "Gegevensbeschermingsautoriteit (België)",
        "M-2026-0042",
        "Aantal betrokkenen bijgesteld naar 12.",
        "M-2026-0042-I",
        "Laptop ongeopend teruggevonden.",
    ]
    report = pdf_text(
        coach_client.get(reverse("breach_report_pdf", args=[breach.public_id])).content
    )
    missing = [value for value in expected if value.lower() not in report.lower()]
    assert missing == []
    # In the order of the AP's form.
    order = ["Soort incident", "Andere organisatie", "Soort gevolgen", "Ernst van de gevolgen"]
    order += ["Internationale aspecten", "Aanvullingen", "Melding ingetrokken op"]
    positions = [report.index(label) for label in order]
    assert positions == sorted(positions)

    (record,) = register_records(coach_client)
    assert record["Soort incident"] == (
        "apparaat verloren of gestolen (bijv. laptop, telefoon, USB-stick), "
        "Auto opengebroken op parkeerplaats"
    )
    assert record["Plaatsgevonden"] == "27-11-2026 22:30 t/m 28-11-2026 07:45"
    assert record["Andere organisatie betrokken"] == (
        "Wolkopslag B.V. (een subverwerker): Back-updienst in Utrecht, contact: J. Smit"
    )
    assert "politieke opvattingen" in record["Soorten persoonsgegevens"]
    assert "gegevens van kinderen" in record["Soorten persoonsgegevens"]
    assert record["Bijzondere of gevoelige gegevens"] == "ja"
    assert record["Soort gevolgen"] == "stigmatisering of uitsluiting, (identiteits)fraude"
    assert record["Ernst van de gevolgen"] == "aanzienlijk"
    assert record["Betrokkenen in andere EU-landen"] == "ja"
    assert record["Welke landen"] == "België, Duitsland"
    assert record["Andere toezichthouders ingelicht"] == "ja"
    assert record["Welke toezichthouders"] == "Gegevensbeschermingsautoriteit (België)"
    assert record["Melding AP"].startswith("gemeld bij de AP, ingetrokken op ")
    assert record["Kenmerk AP"] == "M-2026-0042"
    assert (
        "(kenmerk M-2026-0042): Aantal betrokkenen bijgesteld naar 12."
        in (record["Aanvullingen bij AP"])
    )
    assert record["Ingetrokken bij AP op"]
    assert record["Kenmerk intrekking"] == "M-2026-0042-I"
    assert record["Reden intrekking"] == "Laptop ongeopend teruggevonden."

    register = pdf_text(coach_client.get(reverse("breach_register_pdf")).content)
    for value in ("Wolkopslag B.V.", "politieke opvattingen", "M-2026-0042-I", "aanzienlijk"):
        assert value in register


def test_a_section_shows_what_was_ticked_and_saving_it_again_changes_nothing(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    fill_in_every_ap_question(coach_client, breach)
    breach.refresh_from_db()
    entries = breach.updates.count()
    for section, ticked in (
        ("what", ["lost_device", "other"]),
        ("data", ["political", "children"]),
        ("cause", ["stigma", "fraud"]),
    ):
        page = coach_client.get(edit(breach, section)).text
        for code in ticked:
            assert f'value="{code}"' in page
            tag = page[page.rindex("<input", 0, page.index(f'value="{code}"')) :]
            assert tag[: tag.index(">")].count("checked") == 1, code
    # The section posted again as the page shows it: nothing changes, nothing is logged.
    response = coach_client.post(
        edit(breach, "data"),
        {
            "common_categories": ["name"],
            "special_categories": [
                "ethnicity",
                "political",
                "beliefs",
                "trade_union",
                "genetic",
                "biometric",
                "health",
                "sexuality",
            ],
            "sensitive_categories": ["criminal", "bsn", "financial", "children"],
            "unintelligible": "no",
        },
    )
    assert response.status_code == 302
    before = breach.data_categories
    breach.refresh_from_db()
    assert breach.data_categories == before
    assert breach.updates.count() == entries


def test_other_incident_needs_a_description_and_a_period_in_order(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    response = coach_client.post(
        edit(breach, "what"),
        {
            "summary": "Iets anders",
            "discovered_at": "2026-11-28T09:15",
            "incident": ["other"],
        },
    )
    assert response.status_code == 200
    assert "Beschrijf het andere soort incident." in response.text
    response = coach_client.post(
        edit(breach, "what"),
        {
            "summary": "Lek",
            "discovered_at": "2026-11-28T09:15",
            "occurred_from": "2026-11-27",
            "occurred_from_time": "15:00",
            "occurred_until": "2026-11-27",
            "occurred_until_time": "14:00",
        },
    )
    assert response.status_code == 200
    assert "Het einde van de periode kan niet vóór het begin liggen." in response.text
    response = coach_client.post(
        edit(breach, "what"),
        {"summary": "Lek", "discovered_at": "2026-11-28T09:15", "occurred_from_time": "15:00"},
    )
    assert response.status_code == 200
    assert "Vul de datum in die bij de tijd hoort." in response.text
    breach.refresh_from_db()
    assert breach.updates.count() == 1
    assert breach.occurred_from_time is None
    # Nor can the database hold a time without its date, or an unknown kind of incident.
    with pytest.raises(IntegrityError), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(occurred_until_time=datetime.time(14))
    with pytest.raises(IntegrityError), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(consequence_severity="enorm")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        actions.breach_update(
            breach=breach, origin=Origin.of_account(coach), changes={"incident_kinds": ["x"]}
        )


def test_a_breach_from_before_the_new_questions_still_shows_and_prints(coach_client, coach):
    """Reports made before the AP's questions were added have dates only and no ticks: they
    read as unanswered, not as errors."""
    breach = log_breach(
        coach.practice,
        coach,
        occurred_from=datetime.date(2026, 11, 20),
        occurred_until=datetime.date(2026, 11, 21),
    )
    assert breach.occurred_start is None
    assert coach_client.get(reverse("breach_detail", args=[breach.public_id])).status_code == 200
    report = pdf_text(
        coach_client.get(reverse("breach_report_pdf", args=[breach.public_id])).content
    )
    assert "20-11-2026 t/m 21-11-2026" in report
    (record,) = register_records(coach_client)
    assert record["Soort incident"] == ""
    assert record["Plaatsgevonden"] == "20-11-2026 t/m 21-11-2026"
    page = coach_client.get(edit(breach, "what")).text
    assert 'name="incident"' in page and 'type="checkbox"' in page
    assert 'type="time" name="occurred_from_time"' in page


# Follow-up and withdrawal of the notification to the AP ---------------------------------


def test_a_follow_up_and_a_withdrawal_are_recorded_with_time_and_reference(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    followup = reverse("breach_authority_followup", args=[breach.public_id])
    withdraw = reverse("breach_authority_withdraw", args=[breach.public_id])
    sent = timezone.localtime() - datetime.timedelta(minutes=10)

    # Nothing to follow up before the AP was notified.
    response = coach_client.post(
        followup, {"sent_at": sent.strftime("%Y-%m-%dT%H:%M"), "text": "Aanvulling"}
    )
    assert response.status_code == 200
    assert "Leg eerst vast dat je de AP hebt ingelicht." in response.text
    assert not breach.updates.filter(kind=BreachUpdate.Kind.AUTHORITY_FOLLOWUP).exists()

    notify_ap(breach, coach)
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert followup in page and withdraw in page

    response = coach_client.post(followup, {"sent_at": sent.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 200  # what was added is required
    response = coach_client.post(
        followup,
        {
            "sent_at": sent.strftime("%Y-%m-%dT%H:%M"),
            "reference": "",
            "text": "De laptop bevatte ook facturen.",
        },
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert timezone.localtime(breach.authority_followup_at).strftime("%H:%M") == (
        sent.strftime("%H:%M")
    )
    entry = breach.updates.get(kind=BreachUpdate.Kind.AUTHORITY_FOLLOWUP)
    assert entry.text == "De laptop bevatte ook facturen."
    # Without a reference of its own, the follow-up goes under the notification's.
    assert entry.changes == {
        "authority_followup_at": sent.strftime("%Y-%m-%d %H:%M"),
        "authority_reference": "M-2026-0042",
    }
    assert entry.author == coach

    response = coach_client.post(
        withdraw, {"withdrawn_at": sent.strftime("%Y-%m-%dT%H:%M"), "reason": "  "}
    )
    assert response.status_code == 200
    assert "Geef de reden" in response.text or "Dit veld is verplicht." in response.text
    later = timezone.localtime() - datetime.timedelta(minutes=2)
    response = coach_client.post(
        withdraw,
        {
            "withdrawn_at": later.strftime("%Y-%m-%dT%H:%M"),
            "reference": "M-2026-0042-I",
            "reason": "Geen datalek: de laptop is ongeopend teruggevonden.",
        },
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.authority_decision == AuthorityDecision.NOTIFIED
    assert breach.authority_withdrawn_at is not None
    assert breach.authority_withdrawal_reference == "M-2026-0042-I"
    assert breach.authority_withdrawal_reason.startswith("Geen datalek")
    entry = breach.updates.get(kind=BreachUpdate.Kind.AUTHORITY_WITHDRAWN)
    assert entry.changes["authority_withdrawal_reference"] == "M-2026-0042-I"
    assert entry.text.startswith("Geen datalek")

    # Once withdrawn, nothing more is sent under it.
    with pytest.raises(actions.BreachActionRefused):
        actions.breach_record_authority_followup(
            breach=breach, origin=Origin.of_account(coach), sent_at=timezone.now(), text="x"
        )
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert "De melding is ingetrokken" in page
    assert "De laptop bevatte ook facturen." in page
    kinds = [u.kind for u in breach.updates.all()]
    assert kinds[-2:] == ["authority_followup", "authority_withdrawn"]


def test_follow_up_moments_are_checked(coach):
    breach = log_breach(coach.practice, coach)
    notified_at = timezone.now() - datetime.timedelta(hours=1)
    notify_ap(breach, coach, notified_at=notified_at)
    origin = Origin.of_account(coach)
    for moment in (
        None,
        notified_at - datetime.timedelta(minutes=1),
        timezone.now() + datetime.timedelta(hours=1),
    ):
        with pytest.raises(actions.BreachActionRefused):
            actions.breach_record_authority_followup(
                breach=breach, origin=origin, sent_at=moment, text="Aanvulling"
            )
        with pytest.raises(actions.BreachActionRefused):
            actions.breach_withdraw_authority_notification(
                breach=breach, origin=origin, withdrawn_at=moment, reason="Geen lek"
            )
    breach.refresh_from_db()
    assert breach.authority_followup_at is None and breach.authority_withdrawn_at is None
    # The database holds no withdrawal of a notification that was not made.
    with pytest.raises(IntegrityError), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(
            authority_decision=AuthorityDecision.PENDING,
            authority_withdrawn_at=timezone.now(),
            authority_withdrawal_reason="x",
        )


def test_html_in_a_follow_up_and_a_withdrawal_is_escaped(coach_client, coach):
    breach = log_breach(coach.practice, coach)
    notify_ap(breach, coach, reference=f"M-1 {HTML}")
    origin = Origin.of_account(coach)
    moment = timezone.now() - datetime.timedelta(minutes=1)
    actions.breach_record_authority_followup(
        breach=breach, origin=origin, sent_at=moment, text=f"aanvulling {HTML}"
    )
    actions.breach_withdraw_authority_notification(
        breach=breach, origin=origin, withdrawn_at=moment, reason=f"intrekking {HTML}"
    )
    for url in (reverse("breach_detail", args=[breach.public_id]), reverse("breach_list")):
        page = coach_client.get(url).text
        assert "<script>alert" not in page and "<b>vet</b>" not in page
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert "aanvulling &lt;script&gt;" in page
    assert "intrekking &lt;script&gt;" in page
    report = pdf_text(
        coach_client.get(reverse("breach_report_pdf", args=[breach.public_id])).content
    )
    assert "aanvulling <script>" in report and "intrekking <script>" in report
    assert "<b>vet</b>" in report


@pytest.mark.parametrize("name", ["breach_authority_followup", "breach_authority_withdraw"])
def test_follow_up_and_withdrawal_refuse_get_and_strangers(client, coach, stranger, name):
    breach = log_breach(coach.practice, coach)
    notify_ap(breach, coach)
    url = reverse(name, args=[breach.public_id])
    coach_client = login_verified(type(client)(), coach)
    assert coach_client.get(url).status_code == 405

    login_verified(client, stranger)
    moment = (timezone.localtime() - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url, {"sent_at": moment, "withdrawn_at": moment, "text": "x", "reason": "x"}
    )
    assert response.status_code == 404
    breach.refresh_from_db()
    assert breach.authority_followup_at is None
    assert breach.authority_withdrawn_at is None
    assert [u.kind for u in breach.updates.all()] == ["reported", "authority"]


# Art. 34(2): what the clients' email must say --------------------------------------------


def test_the_clients_email_holds_the_four_elements_of_art_34_in_text_and_html(
    coach_client, coach, django_capture_on_commit_callbacks
):
    client = make_client(coach.practice)
    breach = log_breach(
        coach.practice,
        coach,
        clients=[client],
        incident_kinds=["lost_device", "hacking"],
        nature_confidentiality=True,
        consequences="Iemand kan je sessieverslagen lezen.",
        measures="Laptop op afstand gewist; voortaan versleuteld.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("breach_notify", args=[breach.public_id]), {"clients": [client.pk]}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    html = message.alternatives[0].content
    for body in (message.body, html):
        # The nature of the breach: the kinds of incident as words, not as a list.
        assert "Laptop gestolen uit de auto" in body
        assert (
            "Soort incident: apparaat verloren of gestolen (bijv. laptop, telefoon, USB-stick), "
            "hacking, malware of phishing"
        ) in body
        assert "['" not in body
        assert "vertrouwelijkheid" in body
        # The contact point: the practice's name, email and phone.
        assert "Coachpraktijk De Linde" in body
        assert "privacy@delinde.test" in body
        assert "06 12345678" in body
        # The likely consequences, and the measures taken or proposed.
        assert "Wat het voor jou kan betekenen" in body
        assert "Iemand kan je sessieverslagen lezen." in body
        assert "Genomen of voorgestelde maatregelen" in body
        assert "Laptop op afstand gewist; voortaan versleuteld." in body


@pytest.mark.parametrize("empty", ["nature", "contact", "consequences", "measures"])
def test_sending_is_refused_while_an_element_of_art_34_is_empty(
    coach_client, coach, empty, django_capture_on_commit_callbacks
):
    client = make_client(coach.practice)
    breach = log_breach(coach.practice, coach, clients=[client])
    if empty == "nature":
        Breach.objects.filter(pk=breach.pk).update(summary="  ")
    elif empty == "contact":
        type(coach.practice).objects.filter(pk=coach.practice_id).update(
            email="", phone="", breach_contact_email="", breach_contact_phone=""
        )
    else:
        actions.breach_update(breach=breach, origin=Origin.of_account(coach), changes={empty: ""})
    url = reverse("breach_notify", args=[breach.public_id])
    missing = {
        "nature": "wat er is gebeurd (de aard van het datalek)",
        "contact": "een e-mailadres of telefoonnummer",
        "consequences": "de waarschijnlijke gevolgen voor de personen",
        "measures": "de genomen of voorgestelde maatregelen",
    }[empty]

    detail = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert missing in detail
    preview = coach_client.post(url, {"clients": [client.pk], "preview": "1"})
    assert preview.status_code == 200
    assert "De e-mail kan nog niet worden verstuurd" in preview.text
    assert missing in preview.text
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(url, {"clients": [client.pk]})
    assert response.status_code == 200
    assert "De e-mail kan nog niet worden verstuurd" in response.text
    assert not ClientNotification.objects.exists()
    assert mail.outbox == []
    assert not breach.updates.filter(kind=BreachUpdate.Kind.CLIENTS_NOTIFIED).exists()


# The register reflects the notifications, a page at a time -------------------------------


def test_the_register_shows_who_was_notified_and_the_aps_status(
    coach_client, coach, django_capture_on_commit_callbacks
):
    zoe = make_client(coach.practice)
    breach = log_breach(coach.practice, coach, clients=[zoe])
    page = coach_client.get(reverse("breach_list")).text
    assert "nog geen besluit" in page

    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("breach_notify", args=[breach.public_id]), {"clients": [zoe.pk]})
    notify_ap(breach, coach)
    actions.breach_record_authority_followup(
        breach=breach,
        origin=Origin.of_account(coach),
        sent_at=timezone.now() - datetime.timedelta(minutes=1),
        text="Aanvulling",
        reference="M-2026-0042-A",
    )
    (notification,) = ClientNotification.objects.all()
    sent_on = timezone.localtime(notification.sent_at)

    page = coach_client.get(reverse("breach_list")).text
    assert "nog geen besluit" not in page
    assert zoe.name in page
    assert "Gemaild:" in page
    assert "M-2026-0042" in page
    assert "Aanvulling:" in page and "M-2026-0042-A" in page

    (record,) = register_records(coach_client)
    assert record["Betrokkenen informeren"] == (
        f"cliënten per e-mail geïnformeerd op {sent_on:%d-%m-%Y}"
    )
    assert zoe.name in record["Cliënten geïnformeerd"]
    assert record["Melding AP"] == "gemeld bij de AP"
    register = pdf_text(coach_client.get(reverse("breach_register_pdf")).content)
    assert "nog geen besluit" not in register
    assert "cliënten per e-mail geïnformeerd" in register

    # A recorded decision is shown as it is, beside the emails.
    actions.breach_record_data_subjects_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        decision=SubjectsDecision.INFORMED,
        reason="Per e-mail geïnformeerd.",
    )
    (record,) = register_records(coach_client)
    assert record["Betrokkenen informeren"].startswith("geïnformeerd")


def many_breaches(coach, count):
    """Breaches with what the register shows: a client emailed, the AP notified and
    followed up."""
    practice = coach.practice
    origin = Origin.of_account(coach)
    for number in range(count):
        client = make_client(practice, name=f"Cliënt {number}", email=f"c{number}@example.test")
        breach = log_breach(
            practice,
            coach,
            clients=[client],
            discovered_at=timezone.now() - datetime.timedelta(hours=2, minutes=number),
        )
        ClientNotification.objects.create(
            breach=breach,
            client=client,
            client_name=client.name,
            email=client.email,
            sent_at=timezone.now(),
            delivered=True,
        )
        if number % 2:
            notify_ap(breach, coach)
            actions.breach_record_authority_followup(
                breach=breach, origin=origin, sent_at=timezone.now(), text="Aanvulling"
            )


# The user and the OTP device (the session comes from the cache); the register's count and
# one page of rows; that page's clients, notifications and follow-ups.
REGISTER_QUERIES = 7


def test_the_register_pages_with_the_same_queries_at_10_and_many_breaches(
    coach_client, coach, django_assert_num_queries
):
    many_breaches(coach, 10)
    with django_assert_num_queries(REGISTER_QUERIES):
        page = coach_client.get(reverse("breach_list"))
    assert page.text.count('href="/breaches/') >= 10

    many_breaches(coach, 50)
    with django_assert_num_queries(REGISTER_QUERIES):
        first = coach_client.get(reverse("breach_list"))
    with django_assert_num_queries(REGISTER_QUERIES):
        third = coach_client.get(reverse("breach_list"), {"page": 3})
    assert "Pagina 1 van 3" in first.text
    assert "Pagina 3 van 3" in third.text
    newest = Breach.objects.filter(practice=coach.practice).order_by("-discovered_at").first()
    oldest = Breach.objects.filter(practice=coach.practice).order_by("discovered_at").first()
    assert newest.reference in first.text and newest.reference not in third.text
    assert oldest.reference in third.text
    assert "60 datalekken in het register" in first.text


def test_the_register_order_and_filter_have_an_index():
    indexes = {tuple(index.fields) for index in Breach._meta.indexes}
    assert ("practice", "-discovered_at", "-id") in indexes
    assert ("practice", "status", "-discovered_at") in indexes


def test_art34_constant_is_what_log_breach_fills_in(coach):
    """The helper the other tests use fills in what the clients' email needs."""
    breach = log_breach(coach.practice, coach, clients=[make_client(coach.practice)])
    assert {name: getattr(breach, name) for name in ART34} == ART34
    assert actions.art34_missing(breach) == []


BOXES = ["nature_confidentiality", "nature_integrity", "nature_availability", "vulnerable_group"]


def test_an_unticked_box_is_a_no_only_once_its_question_is_answered(coach_client, coach):
    """Just logged, nothing is said about the nature of the breach or a vulnerable group:
    not "no" (the report for the AP would say confidentiality was not affected)."""
    from breaches.display import shown_value

    breach = log_breach(coach.practice, coach)
    assert [shown_value(breach, box) for box in BOXES] == ["", "", "", ""]
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert (
        "Vertrouwelijkheid: anderen konden de gegevens lezen of kopiëren</dt>"
        '<dd class="text-break"><span class="text-muted">nog niet beantwoord'
    ) in page

    breach = log_breach(
        coach.practice, coach, nature_confidentiality=True, persons_group="Cliënten"
    )
    assert [shown_value(breach, box) for box in BOXES] == ["ja", "nee", "nee", "nee"]


def test_the_notify_form_says_who_was_informed_and_when(
    coach_client, coach, django_capture_on_commit_callbacks
):
    informed, waiting = make_client(coach.practice), make_client(coach.practice, "Bram")
    breach = log_breach(coach.practice, coach, clients=[informed, waiting])
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("breach_notify", args=[breach.public_id]), {"clients": [informed.pk]}
        )
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    sent_at = breach.notifications.get().sent_at
    when = date_format(timezone.localtime(sent_at), "j F Y, H:i")
    assert f"{informed.name} (geïnformeerd op {when})" in page
    # Only who is still to inform is ticked; the browser does not tick it again on a reload.
    assert re.search(rf'checked[^>]*value="{waiting.pk}"|value="{waiting.pk}"[^>]*checked', page)
    assert not re.search(
        rf'checked[^>]*value="{informed.pk}"|value="{informed.pk}"[^>]*checked', page
    )
    assert (
        'action="{}" autocomplete="off"'.format(reverse("breach_notify", args=[breach.public_id]))
        in page
    )
