import sys
from base64 import b32encode
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from two_factor.utils import get_otpauth_url

from core.text import PlainTextForm

from . import accounts, audit
from .forms import (
    ConfirmPasswordForm,
    EmailAuthenticationForm,
    OutboxPasswordResetForm,
    ResendConfirmationForm,
    SignupForm,
)
from .middleware import second_factor_not_required
from .models import SecurityEvent, User
from .two_factor_views import two_factor_views

# Where a coach was going when the second-factor enrolment interrupted her.
AFTER_SETUP_KEY = "after_two_factor_setup"


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = accounts.coach_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            practice_name=form.cleaned_data["practice_name"],
            request=request,
        )
        return render(
            request,
            "accounts/signup_done.html",
            {"email": user.email, "sent": accounts.confirmation_email_sent(user)},
        )
    return render(request, "accounts/signup.html", {"form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    # A GET only shows a button: mail scanners open links, and must not confirm anything.
    try:
        if request.method == "POST":
            accounts.coach_confirm_email(token=token, request=request)
            messages.success(request, _("Your email address is confirmed. You can log in now."))
            return redirect("two_factor:login")
        user = accounts.user_for_confirmation_token(token)
    except accounts.ConfirmationLinkInvalid as error:
        return render(
            request,
            "accounts/confirm_email_invalid.html",
            {"reason": error.reason, "form": ResendConfirmationForm()},
            status=400 if request.method == "POST" else 200,
        )
    return render(request, "accounts/confirm_email.html", {"email": user.email})


@login_not_required
@require_http_methods(["GET", "POST"])
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.resend_email_confirmation(email=form.cleaned_data["email"])
        # Never says whether it was sent: that would tell which addresses have accounts.
        return render(
            request,
            "accounts/signup_done.html",
            {"email": form.cleaned_data["email"], "sent": False},
        )
    return render(request, "accounts/resend_confirmation.html", {"form": form})


@login_not_required
def login_throttled(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What django-axes shows after too many failed logins: when to try again."""
    audit.record(
        SecurityEvent.Kind.LOGIN_THROTTLED,
        request=request,
        attempted_email=str((credentials or {}).get("username", "")),
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request, "accounts/login_throttled.html", {"cooloff_minutes": minutes}, status=429
    )


OTP_ERROR_MESSAGES = {
    "token_required": gettext_lazy("Enter the code from your authenticator app."),
    "invalid_token": gettext_lazy(
        "This code is not right, or was already used. Enter the code your app shows now."
    ),
    "n_failed_attempts": gettext_lazy(
        "Too many wrong codes in a row. Wait a few seconds and enter the code your app shows now."
    ),
    "verification_not_allowed": gettext_lazy(
        "Checking codes is paused for a moment. Try again in a few seconds."
    ),
}
# On the step for a backup code, the app's code is not what is asked for.
BACKUP_ERROR_MESSAGES = OTP_ERROR_MESSAGES | {
    "token_required": gettext_lazy("Enter one of your backup codes."),
    "invalid_token": gettext_lazy(
        "This backup code is not right, or was already used: each code works once. "
        "Enter another of your backup codes."
    ),
    "n_failed_attempts": gettext_lazy(
        "Too many wrong codes in a row. Wait a few seconds and enter another backup code."
    ),
}


class LoginView(two_factor_views.LoginView):
    """Email and password, then the code from the authenticator app (or a backup code)."""

    template_name = "accounts/login.html"
    form_list = (
        (two_factor_views.LoginView.AUTH_STEP, EmailAuthenticationForm),
        *two_factor_views.LoginView.form_list[1:],
    )

    def get_form(self, step: str | None = None, **kwargs: Any) -> forms.Form:
        form = super().get_form(step=step, **kwargs)
        current = step or self.steps.current
        if current in (self.TOKEN_STEP, self.BACKUP_STEP):
            # django-otp's own messages are not translated into Dutch.
            form.otp_error_messages = form.otp_error_messages | (
                BACKUP_ERROR_MESSAGES if current == self.BACKUP_STEP else OTP_ERROR_MESSAGES
            )
            form.fields["otp_token"].label = _("Code")
        return form

    def render(self, form: forms.Form | None = None, **kwargs: Any) -> HttpResponse:
        if (
            form is not None
            and form.is_bound
            and self.steps.current in (self.TOKEN_STEP, self.BACKUP_STEP)
            and form.errors
        ):
            audit.record(
                SecurityEvent.Kind.SECOND_FACTOR_FAILED, request=self.request, user=self.get_user()
            )
        return super().render(form, **kwargs)


# The field for an authenticator app's code: the phone's number pad, and the code offered
# from the app or a text message where the phone can.
CODE_INPUT = {"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}


@method_decorator(second_factor_not_required, name="dispatch")
class SetupView(two_factor_views.SetupView):
    template_name = "accounts/otp_setup.html"

    def get_form(self, step: str | None = None, **kwargs: Any) -> forms.Form:
        form = super().get_form(step=step, **kwargs)
        if "token" in form.fields:
            form.fields["token"].label = _("Code")
            form.fields["token"].widget = forms.TextInput(attrs=CODE_INPUT)
        return form

    def get_success_url(self) -> str:
        # Enrolment always ends with the backup codes, whatever page the coach came from:
        # without them a lost phone locks her out. Where she was going waits till after.
        self.request.session[AFTER_SETUP_KEY] = self.get_redirect_url()
        return reverse("two_factor:setup_complete")

    def get_context_data(self, form: forms.Form, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form, **kwargs)
        if "secret_key" in context:
            # The app shows this name above the codes; the host name would mean nothing.
            context["otpauth_url"] = get_otpauth_url(
                self.request.user.get_username(), context["secret_key"], settings.OTP_TOTP_ISSUER
            )
        return context


class SetupCompleteView(two_factor_views.SetupCompleteView):
    template_name = "accounts/otp_setup_complete.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The library would jump to the page the coach came from; she makes codes first.
        return self.render_to_response(self.get_context_data(**kwargs))


class BackupTokensView(two_factor_views.BackupTokensView):
    """Backup codes are shown once, right after they are made; afterwards only their count."""

    template_name = "accounts/backup_tokens.html"

    def form_valid(self, form: forms.Form) -> HttpResponse:
        device = self.get_device()
        device.token_set.all().delete()
        tokens = [StaticToken.random_token() for _ in range(self.number_of_tokens)]
        device.token_set.bulk_create([StaticToken(device=device, token=t) for t in tokens])
        audit.record(
            SecurityEvent.Kind.BACKUP_CODES_GENERATED, request=self.request, user=self.request.user
        )
        return self.render_to_response(
            self.get_context_data(form=form, new_tokens=tokens, continue_url=self._continue_url())
        )

    def _continue_url(self) -> str:
        """Where the coach was going when enrolment started, else where she starts."""
        user = cast(User, self.request.user)
        after_setup = self.request.session.pop(AFTER_SETUP_KEY, "")
        if after_setup and after_setup != reverse("dashboard"):
            return str(after_setup)
        if user.practice and not user.practice.is_complete:
            return reverse("practice_edit")
        return reverse("dashboard")


@method_decorator(second_factor_not_required, name="dispatch")
class QRGeneratorView(two_factor_views.QRGeneratorView):
    def get_issuer(self) -> str:
        return settings.OTP_TOTP_ISSUER


def security_log(request: HttpRequest) -> HttpResponse:
    events = cast(User, request.user).security_events.all()[:50]
    return render(request, "accounts/security_log.html", {"events": events})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(SecurityEvent.Kind.PASSWORD_CHANGED, request=self.request, user=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(SecurityEvent.Kind.PASSWORD_CHANGED, request=self.request, user=form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """The link in the email goes to DJANGO_SITE_URL, as in every other email, not to
    whatever Host the request came with; the email goes through the outbox."""

    form_class = OutboxPasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


# The session's new, unconfirmed authenticator app while it replaces the current one.
REPLACEMENT_KEY = "avg_portal.authenticator_replacement"
# Where two-factor's QR code view reads the key to draw (a session key's name).
QR_SECRET_KEY = two_factor_views.QRGeneratorView.session_key_name


@require_http_methods(["GET", "POST"])
def replace_authenticator(request: HttpRequest) -> HttpResponse:
    """A new phone: only from a session that passed the second factor, after the password is
    typed again. The current app keeps working until the new one gave a right code."""
    form = ConfirmPasswordForm(cast(User, request.user), request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = accounts.coach_start_authenticator_replacement(user=cast(User, request.user))
        request.session[REPLACEMENT_KEY] = device.pk
        return redirect("replace_authenticator_confirm")
    return render(request, "accounts/replace_authenticator.html", {"form": form})


@require_http_methods(["GET", "POST"])
def replace_authenticator_confirm(request: HttpRequest) -> HttpResponse:
    """Scan the new app's QR code and type its code; only then does it replace the old one."""
    user = cast(User, request.user)
    device = TOTPDevice.objects.filter(
        user=user,
        pk=request.session.get(REPLACEMENT_KEY),
        name=accounts.REPLACEMENT,
        confirmed=False,
    ).first()
    if device is None:
        return redirect("replace_authenticator")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            accounts.coach_finish_authenticator_replacement(user=user, device=device)
            otp_login(request, device)
            request.session.pop(REPLACEMENT_KEY, None)
            request.session.pop(QR_SECRET_KEY, None)
            messages.success(
                request, _("Your new authenticator app is set up; the old one no longer works.")
            )
            return redirect("security_log")
        form.add_error("code", _("This code is not right. Enter the code the new app shows now."))
    secret = b32encode(device.bin_key).decode()
    request.session[QR_SECRET_KEY] = secret
    return render(
        request,
        "accounts/replace_authenticator_confirm.html",
        {"form": form, "secret_key": secret, "QR_URL": reverse("two_factor:qr")},
        status=400 if form.errors else 200,
    )


class CodeForm(PlainTextForm, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=6,
        widget=forms.TextInput(attrs=CODE_INPUT),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, except when the database or the cache (Redis: sessions, rate
    limits) cannot be reached or gave up for a moment: then a 503 that says the service is
    briefly unavailable and nothing was lost, with Retry-After. (What failed was rolled
    back; what was stored before is there.) Rendered without context processors, as Django's
    own 500 page is: the database or the session may be what failed."""
    error = sys.exc_info()[1]
    if _briefly_unavailable(error):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "60"
        return response
    return defaults.server_error(request)


def _briefly_unavailable(error: BaseException | None) -> bool:
    """Redis not answering; the database not reachable, its connection lost, or a passing
    refusal (a deadlock, a lock or statement timeout): all OperationalError, unlike a
    mistake in a query or a broken constraint."""
    return isinstance(
        error, (RedisConnectionError, RedisTimeoutError, DatabaseOperationalError, InterfaceError)
    )
