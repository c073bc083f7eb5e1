"""The authentication backend: Django's own, loading a coach's practice with the user.

Every coach page works inside the practice of the logged-in coach (`core.access`). Loaded
with the user, in the query Django makes for every logged-in request anyway, it costs no
query of its own; and that query is made once, not built anew for each request (`rowload`).
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from .models import User
from .rowload import get_by_pk


class PracticeModelBackend(ModelBackend):
    """Django's ModelBackend; `get_user` (once per request) also reads the practice."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            key = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = get_by_pk(User, key, related="practice")
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id: Any) -> User | None:
        try:
            user = await User._default_manager.select_related("practice").aget(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
