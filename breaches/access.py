"""Owner-aware getters: the only way views reach a breach. Anything outside the logged-in
coach's practice is a 404, never a 403 that would confirm it exists."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from core.access import practice_id_of as _practice_id

from .models import Breach


def get_breach_for_coach(request: HttpRequest, public_id: object) -> Breach:
    return get_object_or_404(
        Breach.objects.select_related("practice"),
        public_id=public_id,
        practice_id=_practice_id(request),
    )


def breaches_for_coach(request: HttpRequest) -> QuerySet[Breach]:
    return Breach.objects.filter(practice_id=_practice_id(request)).prefetch_related(
        "clients", "notifications"
    )
