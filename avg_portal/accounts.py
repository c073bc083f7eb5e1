"""Account actions: signing up a coach and confirming her email address."""

from typing import Any

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.practices import practice_create

from . import audit, emails
from .models import SecurityEvent, User
from .tokens import read_email_confirmation_token


class ConfirmationLinkInvalid(Exception):
    """The link was tampered with, expired, or already used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def coach_sign_up(
    *, email: str, password: str, practice_name: str, request: HttpRequest | None = None
) -> User:
    """Create a practice and its first coach; the coach logs in after confirming her email."""
    with transaction.atomic():
        practice = practice_create(name=practice_name)
        user = User.objects.create_user(email=email, password=password, practice=practice)
        audit.record(SecurityEvent.Kind.SIGNUP, request=request, user=user)
        # Queued with the account: a mail server that is down delays the email, never the
        # sign-up.
        emails.send_email_confirmation(user)
    return user


def confirmation_email_sent(user: User) -> bool:
    """Whether the mail server has taken the newest confirmation email for this account."""
    message = emails.latest_message([emails.EMAIL_CONFIRMATION], user.pk)
    return message is not None and message.status == message.Status.SENT


def user_for_confirmation_token(token: str) -> User:
    """The not yet confirmed user a confirmation link belongs to, or ConfirmationLinkInvalid."""
    try:
        user_id, email = read_email_confirmation_token(token)
    except signing.SignatureExpired:
        raise ConfirmationLinkInvalid("expired") from None
    except signing.BadSignature:
        raise ConfirmationLinkInvalid("invalid") from None
    user = User.objects.filter(pk=user_id, email=email).first()
    if user is None:
        raise ConfirmationLinkInvalid("invalid")
    if user.email_confirmed:
        raise ConfirmationLinkInvalid("used")
    return user


def coach_confirm_email(*, token: str, request: HttpRequest | None = None) -> User:
    with transaction.atomic():
        user = user_for_confirmation_token(token)
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.email_confirmed:
            raise ConfirmationLinkInvalid("used")
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
        audit.record(SecurityEvent.Kind.EMAIL_CONFIRMED, request=request, user=user)
    return user


def resend_email_confirmation(*, email: str) -> None:
    """Send a new link if an unconfirmed account has this address; silent otherwise, so the
    form does not tell strangers which addresses have accounts."""
    user = User.objects.filter(email__iexact=email, email_confirmed_at__isnull=True).first()
    if user is not None:
        with transaction.atomic():
            emails.send_email_confirmation(user)


def login_attempt_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The email address a login attempt was for, as django-axes counts failures per account.
    The two-factor login form prefixes its fields with its step name."""
    if credentials and credentials.get("username"):
        username = credentials["username"]
    else:
        username = request.POST.get("auth-username", "")
    return str(username).strip().lower()


# The name of a new authenticator app while it is not confirmed yet.
REPLACEMENT = "replacement"


def coach_start_authenticator_replacement(*, user: User) -> TOTPDevice:
    """A new phone: a new, unconfirmed authenticator beside the current one, which keeps
    working until the new one is confirmed (`coach_finish_authenticator_replacement`). A
    replacement left half-way, or tried by someone who knows only the password, changes
    nothing: a login still needs a code from the current app."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, name=REPLACEMENT, confirmed=False).delete()
        device: TOTPDevice = TOTPDevice.objects.create(user=user, name=REPLACEMENT, confirmed=False)
    return device


def coach_finish_authenticator_replacement(*, user: User, device: TOTPDevice) -> None:
    """The new app gave a right code: it becomes the one, the old one stops working, and the
    coach is told by email (someone else may have done it). Backup codes stay valid."""
    with transaction.atomic():
        for old in TOTPDevice.objects.filter(user=user).exclude(pk=device.pk):
            old.delete()  # each deletion is logged (audit.py)
        device.name, device.confirmed = "default", True
        device.save(update_fields=["name", "confirmed"])
        audit.record(SecurityEvent.Kind.OTP_DEVICE_ADDED, user=user)
        emails.send_authenticator_replaced(user)
