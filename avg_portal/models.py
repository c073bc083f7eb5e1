from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        extra_fields.setdefault("email_confirmed_at", timezone.now())
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: a coach (with a practice) or an administrator."""

    email = models.EmailField(
        _("email address"),
        max_length=254,
        unique=True,
        error_messages={"unique": _("An account with this email address already exists.")},
    )
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    practice = models.ForeignKey(
        "core.Practice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("practice"),
    )
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Addresses are stored lower-cased, so uniqueness is case-insensitive.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.get_full_name()

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class SecurityEventKind(models.TextChoices):
    SIGNUP = "signup", _("signed up")
    EMAIL_CONFIRMED = "email_confirmed", _("email address confirmed")
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("login failed")
    LOGIN_THROTTLED = "login_throttled", _("login throttled")
    SECOND_FACTOR_FAILED = "otp_failed", _("second factor refused")
    LOGOUT = "logout", _("logged out")
    OTP_DEVICE_ADDED = "otp_added", _("authenticator app enrolled")
    OTP_DEVICE_REMOVED = "otp_removed", _("authenticator app removed")
    BACKUP_CODES_GENERATED = "backup_codes", _("backup codes generated")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("password reset requested")
    # Not about an account: a stored document no longer matches the archive's record.
    ARCHIVE_MISMATCH = "archive_mismatch", _("stored file does not match the archive")


class SecurityEvent(models.Model):
    """An append-only record of what happened to an account: logins, failures, 2FA changes."""

    Kind = SecurityEventKind

    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="security_events"
    )
    kind = models.CharField(max_length=32, choices=SecurityEventKind)
    # What was typed as the login name on a failed attempt (there may be no such user).
    attempted_email = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SecurityEventKind.values),
                name="securityevent_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.user or self.attempted_email}"


class OutboxMessage(models.Model):
    """One email, written in the same transaction as what it tells about, and sent by a task
    afterwards: a message is never lost to a crash between the two, and a mail server that
    refuses it is tried again later with growing pauses (`avg_portal.emails`).

    `purpose` names what the message is for (e.g. "agreements.invitation"); the app that
    queued it registered a handler for that purpose, which records the outcome in its own
    evidence, finding its row by `subject_id`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        SENT = "sent", _("accepted by the mail server")
        FAILED = "failed", _("could not be sent")

    purpose = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=64, blank=True)
    sender = models.CharField(max_length=300)
    to = models.JSONField(default=list)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # At most one attachment (a sealed PDF), copied in when the message is queued.
    attachment = models.BinaryField(default=b"", blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["purpose", "subject_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]),
                name="outboxmessage_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {', '.join(self.to)} ({self.status})"
