"""Owner-aware getters: the only way views reach a breach. Anything outside the logged-in
coach's practice is a 404, never a 403 that would confirm it exists."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Breach


def _practice_id(request):
    if request.user.practice_id is None:
        # An administrator without a practice has no breaches.
        raise Http404("No practice for this account")
    return request.user.practice_id


def get_breach_for_coach(request, public_id):
    return get_object_or_404(
        Breach.objects.select_related("practice"),
        public_id=public_id,
        practice_id=_practice_id(request),
    )


def breaches_for_coach(request):
    return Breach.objects.filter(practice_id=_practice_id(request)).prefetch_related(
        "clients", "notifications"
    )
