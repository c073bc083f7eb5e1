from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from core.models import Practice
from core.text import PlainTextForm

from . import emails
from .models import User


class EmailAuthenticationForm(PlainTextForm, AuthenticationForm):
    """The password step of the login: email address and password."""

    username = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _(
            "This email address and password do not match. Check both and try again."
        ),
        "inactive": _("This account has been switched off. Contact the administrator."),
        "email_unconfirmed": _(
            "Confirm your email address first, with the link in the email we sent you."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.email_confirmed:
            raise forms.ValidationError(
                self.error_messages["email_unconfirmed"], code="email_unconfirmed"
            )


class SignupForm(PlainTextForm, forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    practice_name = forms.CharField(
        label=_("Name of your practice"),
        max_length=200,
        help_text=_("As registered with the KvK, e.g. 'Coachpraktijk De Linde'."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "An account with this email address already exists. Log in, or reset your "
                    "password if you forgot it."
                ),
                code="duplicate_email",
            )
        return email

    def clean_practice_name(self) -> str:
        name = self.cleaned_data["practice_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name of your practice."), code="required")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1 and cleaned.get("email"):
            candidate = User(
                email=cleaned["email"], practice=Practice(name=cleaned.get("practice_name", ""))
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ResendConfirmationForm(PlainTextForm, forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)


class ConfirmPasswordForm(PlainTextForm, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This password is not right."), code="wrong_password")
        return password


class OutboxPasswordResetForm(PlainTextForm, PasswordResetForm):
    """Django's form, its email put in the outbox instead of sent while the page waits."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        message = emails.Email(
            subject, render_to_string(email_template_name, context), from_email, [to_email]
        )
        if html_email_template_name is not None:
            message.attach_alternative(
                render_to_string(html_email_template_name, context), "text/html"
            )
        emails.queue_password_reset(message, context["user"].pk)
