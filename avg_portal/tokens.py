"""Signed, expiring, single-use tokens for emailed account links."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing

if TYPE_CHECKING:
    from .models import User

_EMAIL_CONFIRMATION_SALT = "avg_portal.email-confirmation"


def make_email_confirmation_token(user: "User") -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_EMAIL_CONFIRMATION_SALT)


def read_email_confirmation_token(token: str) -> tuple[int, str]:
    """Return (user id, email) or raise signing.SignatureExpired / signing.BadSignature."""
    data = signing.loads(
        token,
        salt=_EMAIL_CONFIRMATION_SALT,
        max_age=settings.EMAIL_CONFIRMATION_MAX_AGE,
    )
    return data["u"], data["e"]
