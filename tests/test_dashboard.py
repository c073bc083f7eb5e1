"""The dashboard as a to-do list: what needs the coach now, most urgent first, in Dutch."""

import datetime

import pytest
from django.test.utils import override_script_prefix
from django.urls import reverse
from django.utils import timezone

from agreements import signing
from breaches.actions import breach_create
from core.origin import Actor, Origin

from .factories import make_agreement, make_client
from .signing_helpers import end_and_send_declaration, send_for_signing
from .test_signing import archived

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_once")]


def todo_titles(page):
    start = page.index('id="todo-heading"')
    section = page[start : page.index("</section>", start)]
    return [part.split("</strong>")[0].strip() for part in section.split("<strong>")[1:]]


def test_an_empty_practice_has_nothing_to_do(coach_client):
    page = coach_client.get(reverse("dashboard")).text
    assert "Wat nu aandacht vraagt" in page
    assert "Er vraagt nu niets om je aandacht." in page


def test_the_most_urgent_comes_first_each_with_its_action(
    coach, coach_client, client, django_capture_on_commit_callbacks
):
    practice = coach.practice
    # Waiting: an ended agreement whose declaration was not asked for yet.
    ended = archived(coach, client, django_capture_on_commit_callbacks)
    signing.agreement_record_end(
        agreement=ended, ended_on=timezone.localdate(), origin=Origin.of_account(coach)
    )
    # A refusal, with the client's reason.
    declined, _token = send_for_signing(
        coach,
        make_agreement(practice, make_client(practice, "Bram Bos")),
        capture=django_capture_on_commit_callbacks,
    )
    signing.agreement_client_decline(
        link=declined.signing_links.get(),
        reason="Ik wil eerst een gesprek.",
        origin=Origin(actor=Actor.CLIENT, name="Bram Bos"),
    )
    # A problem: the invitation bounced.
    bounced, _token = send_for_signing(
        coach,
        make_agreement(practice, make_client(practice, "Cor Claassen")),
        capture=django_capture_on_commit_callbacks,
    )
    bounced.signing_links.update(
        email_failed_at=timezone.now(), email_error="550 mailbox unavailable"
    )
    # Overdue: a breach discovered 80 hours ago (both the 24 and 72 hour deadlines passed).
    breach = breach_create(
        practice=practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen",
        discovered_at=timezone.now() - datetime.timedelta(hours=80),
    )
    make_agreement(practice, make_client(practice, "Dirk Draft"))  # a draft: nothing to do

    page = coach_client.get(reverse("dashboard")).text
    titles = todo_titles(page)
    assert len(titles) == 5, titles
    assert titles[0].endswith(breach.reference) and titles[1].endswith(breach.reference)
    assert titles[2] == "De uitnodiging aan Cor Claassen is niet aangekomen"
    assert titles[3] == "Bram Bos heeft niet ondertekend"
    assert titles[4] == f"Vraag {ended.client_name} om de verklaring van teruggave of vernietiging"
    assert "Te laat" in page and "Probleem" in page and "Antwoord" in page and "Wacht" in page
    assert "550 mailbox unavailable" in page
    assert "Reden: Ik wil eerst een gesprek." in page
    for target in (
        reverse("breach_detail", args=[breach.public_id]),
        reverse("agreement_detail", args=[bounced.public_id]),
        reverse("agreement_detail", args=[declined.public_id]),
        reverse("agreement_detail", args=[ended.public_id]),
    ):
        assert f'href="{target}"' in page
    # Counts in Dutch, singular and plural right; the ended agreement is not "ondertekend".
    assert "4 cliënten · 1 concept · 1 wacht op ondertekening · 1 beëindigd · 1 geweigerd" in page
    assert "1 declined" not in page and ">declined" not in page
    assert ">Beëindigd</span>" in page


def test_a_stranger_sees_none_of_it(coach, stranger, client, django_capture_on_commit_callbacks):
    from .conftest import login_verified

    send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    coach.practice.agreements.get().signing_links.update(email_failed_at=timezone.now())
    login_verified(client, stranger)
    page = client.get(reverse("dashboard")).text
    assert "Er vraagt nu niets om je aandacht." in page


def test_the_menu_links_follow_the_script_prefix(coach_client):
    """The menu's links are reversed once per process (avg_portal.context_processors), for
    each script prefix the site is served under."""
    plain = coach_client.get(reverse("dashboard")).text
    with override_script_prefix("/avg/"):
        prefixed = coach_client.get(reverse("dashboard")).text

    assert f'href="{reverse("agreement_list")}"' in plain
    assert 'href="/avg/agreements/"' in prefixed
    assert 'href="/avg/account/security/"' in prefixed
    assert 'href="/agreements/"' not in prefixed


def test_a_declaration_the_client_has_not_signed_waits_on_the_list(
    coach, coach_client, client, django_capture_on_commit_callbacks
):
    ended = archived(coach, client, django_capture_on_commit_callbacks)
    end_and_send_declaration(ended, coach, django_capture_on_commit_callbacks)

    page = coach_client.get(reverse("dashboard")).text
    assert todo_titles(page) == [
        f"{ended.client_name} heeft de verklaring van teruggave of vernietiging nog niet"
        " ondertekend"
    ]


def test_the_overview_counts_the_practices_own_rows_only(coach, stranger):
    """The dashboard's numbers come from one statement of hand-written SQL
    (`records.overview`): each part filtered on the practice, a closed breach not counted."""
    from agreements.models import AgreementStatus
    from breaches.models import Breach, BreachStatus
    from records.overview import Overview, overview

    practice, other = coach.practice, stranger.practice
    make_agreement(practice, make_client(practice, "Anna"))
    make_agreement(practice, make_client(practice, "Bert"))
    make_agreement(other, make_client(other, "Carla"))
    make_client(other, "Daan")
    for owner, summary in ((practice, "Open"), (practice, "Gesloten"), (other, "Elders")):
        breach_create(
            practice=owner,
            origin=Origin.of_account(coach),
            summary=summary,
            discovered_at=timezone.now(),
        )
    Breach.objects.filter(summary="Gesloten").update(
        status=BreachStatus.CLOSED, closed_at=timezone.now()
    )

    assert overview(practice) == Overview(
        agreements={AgreementStatus.DRAFT: 2}, ended={}, clients=2, open_breaches=1
    )
    assert overview(other) == Overview(
        agreements={AgreementStatus.DRAFT: 1}, ended={}, clients=2, open_breaches=1
    )


def test_the_archive_says_an_agreement_is_being_sealed_rather_than_signed_on_nothing(
    coach, coach_client
):
    from agreements.models import Agreement, AgreementStatus

    waiting = make_agreement(coach.practice, make_client(coach.practice, "Anna"))
    # Both signed; the sealed PDF not made yet (a worker down, a full disk).
    Agreement.objects.filter(pk=waiting.pk).update(status=AgreementStatus.SIGNED)
    make_agreement(coach.practice, make_client(coach.practice, "Bram"))

    page = coach_client.get(reverse("agreement_list")).text
    anna = page[page.index("Anna") : page.index("</tr>", page.index("Anna"))]
    assert "wordt verzegeld" in anna
    bram = page[page.index("Bram") : page.index("</tr>", page.index("Bram"))]
    assert "wordt verzegeld" not in bram and "–" in bram
    # On a phone each row is a card of labelled lines.
    assert 'class="table align-middle stacked-table"' in page
    assert 'data-label="Ondertekend op"' in page
