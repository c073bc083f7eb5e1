"""Erasure (GDPR art. 17) and the breach register: it keeps every breach but no longer who
the erased client was, changing exactly her references and nothing else. (That erasure
removes her sealed dossier through the lawful removal: tests/test_immutability.py.)"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from breaches import actions
from breaches.models import Breach, BreachUpdate, ClientNotification
from core.models import LawfulRemoval
from core.origin import Origin
from records.erasure import client_erase

from .factories import close_breach, make_client

pytestmark = pytest.mark.django_db

ERASED = "(gewiste cliënt)"


def report(coach, summary, clients):
    breach = actions.breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary=summary,
        discovered_at=timezone.now() - datetime.timedelta(hours=3),
        clients=clients,
    )
    # What the clients' email must tell them (art. 34(2)), without a timeline entry of its own.
    Breach.objects.filter(pk=breach.pk).update(consequences="Onbekend", measures="Geen")
    breach.refresh_from_db()
    return breach


def erase(coach, client):
    return client_erase(client=client, origin=Origin.of_account(coach))


def timeline(breach):
    return [(entry.text, entry.changes) for entry in BreachUpdate.objects.filter(breach=breach)]


def reference(client, **extra):
    return {"client": str(client.public_id), "name": client.name} | extra


def test_erasing_jan_keeps_januari(coach):
    jan = make_client(coach.practice, name="Jan", email="jan@example.test")
    bram = make_client(coach.practice, name="Bram Bos", email="bram@example.test")
    breach = report(
        coach, "Op 3 januari liet Jan zijn tas in de trein; JAN belde in februari.", [jan, bram]
    )
    origin = Origin.of_account(coach)
    actions.breach_update(
        breach=breach,
        origin=origin,
        changes={"root_cause": "Tas van jan onbeheerd, januari-drukte"},
        note="Jan gebeld op jan@example.test",
    )
    actions.breach_notify_clients(
        breach=breach, origin=origin, clients=[jan, bram], message="Beste Jan en Bram,"
    )
    # Another breach, not linked to this Jan, that happens to name a Jan.
    other = report(coach, "Jan de buurman vond in januari een USB-stick", [bram])
    other_timeline = timeline(other)
    close_breach(breach, coach)  # an open breach that concerns her keeps her data

    erase(coach, jan)

    breach.refresh_from_db()
    assert breach.summary == (
        f"Op 3 januari liet {ERASED} zijn tas in de trein; {ERASED} belde in februari."
    )
    assert breach.root_cause == f"Tas van {ERASED} onbeheerd, januari-drukte"
    reported, updated, notified, *_decisions_and_closing = timeline(breach)
    assert reported[1]["summary"] == breach.summary
    assert reported[1]["clients"] == [{"client": None, "name": ERASED}, reference(bram)]
    assert updated == (
        f"{ERASED} gebeld op {ERASED}",
        {"root_cause": f"Tas van {ERASED} onbeheerd, januari-drukte"},
    )
    assert notified[0] == f"Beste {ERASED} en Bram,"
    assert notified[1]["clients"] == [
        {"client": None, "name": ERASED},
        reference(bram, email="bram@example.test"),
    ]
    # Bram's notification and the breach that does not concern Jan stay as they were.
    told_bram = ClientNotification.objects.get(client=bram)
    assert told_bram.client_name == "Bram Bos"
    assert told_bram.message == f"Beste {ERASED} en Bram,"
    assert f"Beste {ERASED} en Bram," in told_bram.text
    assert "Jan" not in told_bram.text.replace("januari", "")
    assert ClientNotification.objects.get(client=None).text == ""
    assert ClientNotification.objects.filter(client=None, client_name=ERASED).count() == 1
    other.refresh_from_db()
    assert other.summary == "Jan de buurman vond in januari een USB-stick"
    assert timeline(other) == other_timeline
    (permit,) = LawfulRemoval.objects.all()
    assert permit.reason == "erasure after retention (GDPR art. 17)"
    assert not permit.active


def test_her_full_name_first_then_each_part_that_names_her(coach):
    client = make_client(coach.practice, name="Jan de Vries", email="jdv@example.test")
    breach = report(
        coach,
        "Jan de Vries meldde het: de map van Vries lag in de auto. Janneke en Vriesland niet.",
        [client],
    )
    close_breach(breach, coach)
    erase(coach, client)
    breach.refresh_from_db()
    assert breach.summary == (
        f"{ERASED} meldde het: de map van {ERASED} lag in de auto. Janneke en Vriesland niet."
    )


def test_a_client_unlinked_since_is_found_by_her_reference(coach):
    client = make_client(coach.practice, name="Jan", email="jan@example.test")
    breach = report(coach, "Jan verloor zijn telefoon", [client])
    actions.breach_update(breach=breach, origin=Origin.of_account(coach), changes={}, clients=[])
    erase(coach, client)
    breach.refresh_from_db()
    assert breach.summary == f"{ERASED} verloor zijn telefoon"
    reported, unlinked = timeline(breach)
    assert reported[1]["clients"] == [{"client": None, "name": ERASED}]
    assert unlinked[1]["clients"] == []


def test_the_timeline_names_clients_old_entries_and_new(coach_client, coach):
    jan = make_client(coach.practice, name="Jan", email="jan@example.test")
    breach = report(coach, "Tas kwijt", [jan])
    origin = Origin.of_account(coach)
    # An entry written before clients were referenced by identity.
    breach.log(BreachUpdate.Kind.UPDATED, origin, changes={"clients": "Anna Oud, Piet Oud"})
    actions.breach_notify_clients(breach=breach, origin=origin, clients=[jan])
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert "Anna Oud, Piet Oud" in page
    assert "Jan &lt;jan@example.test&gt;" in page
