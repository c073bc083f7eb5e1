"""Owner-aware getters: the only way views reach a breach. Anything outside the logged-in
coach's practice is a 404, never a 403 that would confirm it exists."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from core.access import practice_id_of as _practice_id

from .models import Breach, BreachUpdate


def get_breach_for_coach(request: HttpRequest, public_id: object) -> Breach:
    return get_object_or_404(
        Breach.objects.select_related("practice"),
        public_id=public_id,
        practice_id=_practice_id(request),
    )


def with_register_data(breaches: QuerySet[Breach]) -> QuerySet[Breach]:
    """Breaches with what a register row shows (clients, emails to them, follow-ups to the
    AP) fetched in one query per kind, whatever the number of rows. The dossier export
    may use it too."""
    return breaches.prefetch_related(
        "clients",
        "notifications",
        Prefetch(
            "updates",
            queryset=BreachUpdate.objects.filter(kind=BreachUpdate.Kind.AUTHORITY_FOLLOWUP),
            to_attr="prefetched_followups",
        ),
    )


def breaches_for_coach(request: HttpRequest) -> QuerySet[Breach]:
    """The practice's register."""
    return with_register_data(Breach.objects.filter(practice_id=_practice_id(request)))
