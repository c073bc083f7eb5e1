"""The agreement page: its history is one tap from the top, above the long text."""

import pytest
from django.urls import reverse

from .signing_helpers import send_for_signing

pytestmark = pytest.mark.django_db


def test_the_history_is_linked_from_the_top(
    coach_client, coach, django_capture_on_commit_callbacks
):
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    events = agreement.events.count()
    link = f'<a href="#timeline-heading">Geschiedenis ({events} gebeurtenissen)</a>'
    assert link in page
    assert (
        page.index(link) < page.index('id="agreement-text"') < page.index('id="timeline-heading"')
    )
