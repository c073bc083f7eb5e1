"""Breaches logged before the AP's questions were added (migration breaches 0004) keep
their answers and their timeline as they were, and read as not answered yet."""

import datetime

import pytest
from django.utils import timezone

from breaches.models import Breach, BreachUpdate

from .conftest import make_practice
from .migrating import latest, migrate

BEFORE = [("breaches", "0003_immutable_timeline")]


@pytest.fixture
def old_apps(transactional_db):
    apps = migrate(BEFORE).apps
    yield apps
    migrate(latest())


def test_an_existing_breach_keeps_its_answers_and_timeline(old_apps):
    OldBreach = old_apps.get_model("breaches", "Breach")
    OldUpdate = old_apps.get_model("breaches", "BreachUpdate")
    # Only the breaches app went back: the practice is of today's model.
    practice = make_practice()
    discovered = timezone.now() - datetime.timedelta(days=3)
    old = OldBreach.objects.create(
        practice_id=practice.pk,
        summary="Laptop gestolen",
        discovered_at=discovered,
        occurred_from=datetime.date(2026, 11, 20),
        data_categories=["name", "beliefs", "criminal"],
        consequences="Verslagen leesbaar",
    )
    entry = OldUpdate.objects.create(
        breach=old, kind="reported", changes={"summary": "Laptop gestolen"}, at=discovered
    )

    migrate(latest())

    breach = Breach.objects.get(pk=old.pk)
    assert breach.summary == "Laptop gestolen"
    assert breach.occurred_from == datetime.date(2026, 11, 20)
    assert breach.occurred_from_time is None and breach.occurred_start is None
    assert breach.incident_kinds == [] and breach.consequence_kinds == []
    assert breach.consequence_severity == "" and breach.other_org_name == ""
    assert breach.cross_border is None and breach.other_authorities_notified is None
    assert breach.authority_followup_at is None and breach.authority_withdrawn_at is None
    # Stored codes keep their meaning under the AP's wording.
    assert [str(label) for label in breach.category_labels()] == [
        "naam",
        "religieuze of levensbeschouwelijke overtuigingen",
        "strafrechtelijke gegevens (veroordelingen, strafbare feiten)",
    ]
    breach.full_clean()
    (kept,) = BreachUpdate.objects.filter(breach=breach)
    assert (kept.pk, kept.kind, kept.changes, kept.at) == (
        entry.pk,
        "reported",
        {"summary": "Laptop gestolen"},
        discovered,
    )
