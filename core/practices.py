"""Making a practice: the tenant every coach works in."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from .models import Practice


def practice_create(*, name: str, **details: Any) -> Practice:
    """A new practice, made ready by each app that keeps defaults for it.

    The apps that do (Bijlage 1 and 2 defaults, say) are listed in `settings.PRACTICE_SETUP`
    rather than imported here, so this kernel depends on no domain app.
    """
    with transaction.atomic():
        practice = Practice(name=name, **details)
        practice.full_clean()
        practice.save()
        for path in settings.PRACTICE_SETUP:
            import_string(path)(practice)
    return practice
