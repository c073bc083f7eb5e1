"""Owner-aware getters: the only way views reach tenant-owned objects.

Each looks an object up by its id *and* the logged-in coach's practice, and raises 404 for
anything else, so a coach can never see or change another practice's data.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Agreement, Client, Practice


def get_practice(request):
    practice_id = request.user.practice_id
    if practice_id is None:
        # An administrator without a practice has no coach pages.
        raise Http404("No practice for this account")
    return Practice.objects.get(pk=practice_id)


def get_client_for_coach(request, public_id):
    return get_object_or_404(Client, public_id=public_id, practice_id=_practice_id(request))


def get_agreement_for_coach(request, public_id):
    return get_object_or_404(
        Agreement.objects.select_related("client", "practice"),
        public_id=public_id,
        practice_id=_practice_id(request),
    )


def _practice_id(request):
    if request.user.practice_id is None:
        raise Http404("No practice for this account")
    return request.user.practice_id
