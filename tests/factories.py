"""Builders for the agreement side of the tests."""

import datetime

from agreements.actions import agreement_create_draft
from agreements.models import Client
from core.origin import Actor, Origin


def make_client(practice, name="Zoë Ünal-Brontë", **fields):
    defaults = {"residence": "Breda", "email": "zoe@example.test"}
    return Client.objects.create(practice=practice, name=name, **(defaults | fields))


def make_agreement(practice, client=None, **fields):
    agreement = agreement_create_draft(
        practice=practice,
        client=client or make_client(practice),
        coaching_agreement_date=datetime.date(2026, 9, 1),
        origin=Origin(actor=Actor.COACH),
    )
    if fields:
        for name, value in fields.items():
            setattr(agreement, name, value)
        agreement.save()
    return agreement


def close_breach(breach, user):
    """Both decisions recorded and the breach closed, as the coach would."""
    from breaches import actions

    origin = Origin.of_account(user)
    actions.breach_record_authority_decision(
        breach=breach, origin=origin, notified=False, reason="Versleuteld, geen risico."
    )
    actions.breach_record_data_subjects_decision(
        breach=breach, origin=origin, decision="low_risk", reason="Versleuteld."
    )
    actions.breach_close(breach=breach, origin=origin, measures="Wachtwoorden gewijzigd.")
