"""The security log: who logged in, who failed, what changed about the second factor.

Authentication happens inside Django and django-otp, so the events they emit as signals are
recorded here; everything else calls `record` directly from the view that does the work.
"""

from typing import Any

from django.contrib.auth import signals as auth_signals
from django.contrib.auth.models import AnonymousUser
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.origin import client_ip, user_agent

from .models import SecurityEvent, User


def record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | AnonymousUser | None = None,
    attempted_email: str = "",
) -> SecurityEvent:
    if user is not None and not user.is_authenticated:
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        attempted_email=attempted_email[:254],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )


def _logged_in(sender: type[User], request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(SecurityEvent.Kind.LOGIN, request=request, user=user)


def _logged_out(
    sender: type[User] | None, request: HttpRequest, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        record(SecurityEvent.Kind.LOGOUT, request=request, user=user)


def _login_failed(
    sender: str, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record(
        SecurityEvent.Kind.LOGIN_FAILED,
        request=request,
        attempted_email=str(credentials.get("username", "")),
    )


def _totp_saved(
    sender: type[TOTPDevice], instance: TOTPDevice, created: bool, **kwargs: Any
) -> None:
    if created and instance.confirmed:
        record(SecurityEvent.Kind.OTP_DEVICE_ADDED, user=instance.user)


def _totp_deleted(sender: type[TOTPDevice], instance: TOTPDevice, **kwargs: Any) -> None:
    if instance.confirmed:  # an app that was never set up was never in use
        record(SecurityEvent.Kind.OTP_DEVICE_REMOVED, user=instance.user)


def connect_signals() -> None:
    auth_signals.user_logged_in.connect(_logged_in, dispatch_uid="audit_logged_in")
    auth_signals.user_logged_out.connect(_logged_out, dispatch_uid="audit_logged_out")
    auth_signals.user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
    post_save.connect(_totp_saved, sender=TOTPDevice, dispatch_uid="audit_totp_saved")
    post_delete.connect(_totp_deleted, sender=TOTPDevice, dispatch_uid="audit_totp_deleted")
