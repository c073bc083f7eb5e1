"""core.constraints: a model's check constraints validated in one query report exactly what
Django's own validation, one query per constraint, reports."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from breaches.models import Breach

from .factories import make_agreement

pytestmark = pytest.mark.django_db


def reported(validate, exclude=None):
    try:
        validate(exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return None


# Rows, and whether they break a constraint.
BREACHES = [
    ({}, False),
    ({"persons_min": 2, "persons_max": None}, False),
    ({"status": "bogus"}, True),
    ({"status": "closed"}, True),
    ({"persons_min": 5, "persons_max": 2}, True),
    ({"authority_decision": "notified"}, True),
    ({"subjects_decision": "bogus", "unintelligible": "zz"}, True),
    ({"consequence_severity": "enorm", "other_org_role": "baas"}, True),
]


@pytest.mark.parametrize("exclude", [None, {"status"}, {"persons_max", "subjects_decision"}])
@pytest.mark.parametrize(("fields", "broken"), BREACHES)
def test_a_breach_is_reported_as_django_reports_it(coach, fields, broken, exclude):
    breach = Breach(
        practice=coach.practice, summary="Laptop", discovered_at=timezone.now(), **fields
    )
    expected = reported(lambda **kw: models.Model.validate_constraints(breach, **kw), exclude)
    assert reported(breach.validate_constraints, exclude) == expected
    if exclude is None:
        assert (expected is not None) == broken


def test_a_breach_is_checked_in_one_query(coach):
    breach = Breach(
        practice=coach.practice, summary="Laptop", discovered_at=timezone.now(), status="x"
    )
    with CaptureQueriesContext(connection) as queries:
        assert reported(breach.validate_constraints) == {
            "__all__": [
                "Beperking ‘breach_status_valid’ is geschonden.",
                "Beperking ‘breach_closed_has_time’ is geschonden.",
            ]
        }
    # Inside the test's transaction it runs in a savepoint, as Django's own check does.
    selects = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(selects) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": "bogus"},
        {"penalty_per_day": -1, "data_kind": "anders"},
        # The parent's (the signable document's) constraint, with the parent's fields.
        {"kind": "anders", "status": "bogus"},
    ],
)
def test_an_agreement_and_its_parent_are_reported_as_django_reports_them(coach, fields):
    agreement = make_agreement(coach.practice)
    for name, value in fields.items():
        setattr(agreement, name, value)
    expected = reported(lambda **kw: models.Model.validate_constraints(agreement, **kw))
    assert reported(agreement.validate_constraints) == expected
    assert (expected is None) == (not fields)
