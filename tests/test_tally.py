"""The number of a practice's agreements, kept by a database trigger (agreements.tally): it
follows every way rows come and go, and the archive pages with it instead of counting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import tally
from agreements.actions import agreement_delete_draft
from agreements.models import Agreement, AgreementStatus
from core.immutability import lawful_removal
from core.origin import Origin

from .conftest import make_practice
from .factories import make_agreement, make_client

pytestmark = pytest.mark.django_db


def counts(*practices):
    kept = [tally.agreements_of(p.pk) for p in practices]
    assert kept == [Agreement.objects.filter(practice=p).count() for p in practices]
    return kept


def test_the_tally_follows_inserts_moves_and_deletes(coach):
    mine, theirs = coach.practice, make_practice("Praktijk Elders")
    assert counts(mine, theirs) == [0, 0]
    drafts = [make_agreement(mine) for _ in range(3)]
    make_agreement(theirs)
    assert counts(mine, theirs) == [3, 1]
    # Written past the models, as a bulk change or another program would.
    Agreement.objects.filter(pk=drafts[0].pk).update(practice=theirs)
    assert counts(mine, theirs) == [2, 2]
    Agreement.objects.filter(pk=drafts[1].pk).update(practice=mine)  # not moved: unchanged
    assert counts(mine, theirs) == [2, 2]
    agreement_delete_draft(agreement=drafts[1], origin=Origin.of_account(coach))
    with lawful_removal(reason="test: a draft deleted past the model", origin=Origin.system()):
        Agreement.objects.filter(pk=drafts[0].pk).delete()
    assert counts(mine, theirs) == [1, 1]


def test_the_archive_pages_by_the_tally_and_counts_only_a_filtered_list(coach, coach_client):
    practice = coach.practice
    client = make_client(practice)
    for _ in range(26):
        make_agreement(practice, client)
    signed = make_agreement(practice, client)
    Agreement.objects.filter(pk=signed.pk).update(status=AgreementStatus.SIGNED)

    with CaptureQueriesContext(connection) as queries:
        page = coach_client.get(reverse("agreement_list")).text
    assert "Pagina 1 van 2" in page
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    assert "Pagina 2 van 2" in coach_client.get(reverse("agreement_list"), {"page": 9}).text

    with CaptureQueriesContext(connection) as queries:
        page = coach_client.get(reverse("agreement_list"), {"status": "signed"}).text
    assert [q for q in queries if "COUNT(" in q["sql"].upper()]
    assert "Pagina" not in page  # one page
    assert page.count("badge status-signed") == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite remakes tables to migrate")
def test_on_sqlite_a_migrate_puts_the_triggers_back_and_counts_afresh(coach):
    make_agreement(coach.practice)
    tally.lift_before_migrate(using="default")
    make_agreement(coach.practice)  # while a migration runs, nothing counts
    assert tally.agreements_of(coach.practice.pk) == 1
    tally.restore_after_migrate(using="default")
    assert counts(coach.practice) == [2]
    make_agreement(coach.practice)
    assert counts(coach.practice) == [3]
