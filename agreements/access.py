"""Owner-aware getters: the only way views reach tenant-owned objects.

Each looks an object up by its id *and* the logged-in coach's practice, and raises 404 for
anything else, so a coach can never see or change another practice's data.
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from core.access import practice_id_of

from .models import Addendum, Agreement


def get_agreement_for_coach(request: HttpRequest, public_id: object) -> Agreement:
    return get_object_or_404(
        # The unsigned PDF (tens of kilobytes) only for the view that downloads it.
        Agreement.objects.select_related("client", "practice").defer("document_pdf"),
        public_id=public_id,
        practice_id=practice_id_of(request),
    )


def get_addendum_for_coach(request: HttpRequest, public_id: object) -> Addendum:
    return get_object_or_404(
        Addendum.objects.select_related("agreement", "agreement__client", "agreement__practice"),
        public_id=public_id,
        agreement__practice_id=practice_id_of(request),
    )
