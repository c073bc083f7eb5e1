"""A coach, as a new coach would: she sees the art. 28 check before sending, adds Bijlage 4
with one click, adds a sub-processor, and her client with a signed agreement is told."""

import pytest
from django.core import mail
from django.urls import reverse

from agreements.models import Agreement, AgreementStatus, SubprocessorNotice

from ..conftest import make_coach
from ..factories import make_agreement, make_client
from .test_draft_agreement_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_add_bijlage_4_and_tell_clients_of_a_sub_processor(page, live_server):
    coach = make_coach()
    practice = coach.practice
    draft = make_agreement(practice)
    signed = make_agreement(practice, make_client(practice, "Anna", email="anna@example.test"))
    Agreement.objects.filter(pk=signed.pk).update(status=AgreementStatus.SIGNED)
    log_in(page, live_server.url, coach)

    page.goto(live_server.url + reverse("agreement_send", args=[draft.public_id]))
    assert page.get_by_text("dekt 11 van de 15 punten").is_visible()
    law = page.get_by_text("De verwerker neemt geen andere verwerker in dienst")
    assert not law.is_visible()
    page.get_by_text("Tekst van art. 28(2)").click()
    assert law.is_visible()

    page.get_by_role("button", name="Bijlage 4 toevoegen (vult al deze gaten)").click()
    page.get_by_text("Met Bijlage 4 dekt je overeenkomst elk punt van artikel 28 AVG.").wait_for()
    draft.refresh_from_db()
    assert draft.supplement_version == "2026.1"

    page.goto(live_server.url + reverse("practice_edit"))
    page.get_by_role("link", name="Subverwerkers", exact=True).click()
    page.get_by_role("link", name="Subverwerker toevoegen").click()
    page.get_by_label("Naam").fill("Mailbox.org")
    page.get_by_label("Dienst").fill("E-mail")
    page.get_by_label("Welke persoonsgegevens").fill("Naam, e-mailadres en inhoud van e-mails")
    page.get_by_label("Locatie (land)").fill("Duitsland")
    page.get_by_role("button", name="Opslaan en mijn cliënten informeren").click()
    page.get_by_text("e-mail aangenomen door de mailserver").wait_for()

    assert [m.to for m in mail.outbox] == [["anna@example.test"]]
    assert SubprocessorNotice.objects.get().client.name == "Anna"
