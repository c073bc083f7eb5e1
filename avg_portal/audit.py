"""The security log: who logged in, who failed, what changed about the second factor.

Authentication happens inside Django and django-otp, so the events they emit as signals are
recorded here; everything else calls `record` directly from the view that does the work.
"""

from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_delete, post_save
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import SecurityEvent


def client_ip(request):
    """The address the request came from; behind DJANGO_PROXY_COUNT trusted proxies, the
    address the nearest of them saw."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:500]


def record(kind, *, request=None, user=None, attempted_email=""):
    if user is not None and not user.is_authenticated:
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        attempted_email=attempted_email[:254],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )


def _logged_in(sender, request, user, **kwargs):
    record(SecurityEvent.Kind.LOGIN, request=request, user=user)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(SecurityEvent.Kind.LOGOUT, request=request, user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    record(
        SecurityEvent.Kind.LOGIN_FAILED,
        request=request,
        attempted_email=str(credentials.get("username", "")),
    )


def _totp_saved(sender, instance, created, **kwargs):
    if created and instance.confirmed:
        record(SecurityEvent.Kind.OTP_DEVICE_ADDED, user=instance.user)


def _totp_deleted(sender, instance, **kwargs):
    record(SecurityEvent.Kind.OTP_DEVICE_REMOVED, user=instance.user)


def connect_signals():
    auth_signals.user_logged_in.connect(_logged_in, dispatch_uid="audit_logged_in")
    auth_signals.user_logged_out.connect(_logged_out, dispatch_uid="audit_logged_out")
    auth_signals.user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
    post_save.connect(_totp_saved, sender=TOTPDevice, dispatch_uid="audit_totp_saved")
    post_delete.connect(_totp_deleted, sender=TOTPDevice, dispatch_uid="audit_totp_deleted")
