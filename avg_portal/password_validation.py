"""Password checks beyond Django's own."""

from typing import Any

from django.contrib.auth.password_validation import UserAttributeSimilarityValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class SimilarityValidator(UserAttributeSimilarityValidator):
    """Django's check against the account's own details (our user has an email address and
    a name), and also against the name of the coach's practice: a password equal to it was
    accepted, and that name is on every agreement the practice sends."""

    def __init__(
        self, user_attributes: tuple[str, ...] = ("email", "full_name"), max_similarity: float = 0.7
    ) -> None:
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)

    def validate(self, password: str, user: Any = None) -> None:
        super().validate(password, user)
        practice = getattr(user, "practice", None)
        if practice is not None and practice.name:
            try:
                UserAttributeSimilarityValidator(
                    user_attributes=("name",), max_similarity=self.max_similarity
                ).validate(password, practice)
            except ValidationError:
                raise ValidationError(
                    _("The password is too similar to the name of your practice."),
                    code="password_too_similar",
                ) from None
