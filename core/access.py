"""The tenant of a request: every coach page works inside the logged-in coach's practice.

Each app's owner-aware getters (`agreements.access`, `breaches.access`) scope their lookups
with `practice_id_of`; a coach can never reach another practice's data.
"""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from .models import Client, Practice


def practice_id_of(request: HttpRequest) -> int:
    practice_id: int | None = getattr(request.user, "practice_id", None)
    if practice_id is None:
        # An administrator without a practice has no coach pages.
        raise Http404("No practice for this account")
    return practice_id


def get_practice(request: HttpRequest) -> Practice:
    # Read with the user (the authentication backend, avg_portal.auth_backends, joins it):
    # no query of its own.
    practice: Practice | None = getattr(request.user, "practice", None)
    if practice is None:
        # An administrator without a practice has no coach pages.
        raise Http404("No practice for this account")
    return practice


def get_client_for_coach(request: HttpRequest, public_id: object) -> Client:
    return get_object_or_404(Client, public_id=public_id, practice_id=practice_id_of(request))
