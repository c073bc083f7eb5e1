"""Owner-aware getters: the only way views reach tenant-owned objects.

Each looks an object up by its id *and* the logged-in coach's practice, and raises 404 for
anything else, so a coach can never see or change another practice's data.
"""

from django.http import Http404

from .models import Practice


def get_practice(request):
    practice_id = request.user.practice_id
    if practice_id is None:
        # An administrator without a practice has no coach pages.
        raise Http404("No practice for this account")
    return Practice.objects.get(pk=practice_id)
