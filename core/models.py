"""The tenant and what every app shares: the practice (party 1 and owner of all data), its
clients (party 2 of agreements, the affected people of breaches), and the Bijlage 2 fields a
practice keeps as defaults and an agreement as agreed."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .origin import Actor

kvk_validator = RegexValidator(
    r"^\d{8}$", _("A KvK number has exactly 8 digits, for example 12345678.")
)
# Spaces may be no-break ones (U+00A0, U+202F), as in a number copied from an email.
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 \u00a0\u202f()-]{7,19}$",
    _("Enter a phone number of digits, for example 013 123 45 67 or +31 6 12345678."),
)


class DataKind(models.TextChoices):
    NORMAL = "normal", _("normal personal data")
    SPECIAL = "special", _("special categories (e.g. health)")
    SENSITIVE = "sensitive", _("sensitive data (e.g. BSN, financial)")


class SecurityProfileFields(models.Model):
    """Bijlage 2: the risk considerations and the measures taken."""

    data_kind = models.CharField(
        _("kind of personal data"), max_length=10, choices=DataKind, default=DataKind.SPECIAL
    )
    data_subjects = models.CharField(
        _("number of data subjects"),
        max_length=200,
        default="",
        blank=True,
        help_text=_("E.g. '1: the client'."),
    )
    processing_purpose = models.CharField(
        _("purpose of the processing"), max_length=500, default="", blank=True
    )
    storage = models.CharField(
        _("how long and how the data is stored"), max_length=500, default="", blank=True
    )
    measures = models.JSONField(_("security measures"), default=list, blank=True)
    extra_measures = models.TextField(
        _("your own additional measures"),
        max_length=4000,
        blank=True,
        help_text=_("One measure per line."),
    )

    class Meta:
        abstract = True

    def extra_measure_lines(self) -> list[str]:
        return [line.strip() for line in self.extra_measures.splitlines() if line.strip()]


class Practice(SecurityProfileFields):
    """The coach's practice: party 1 ("Ik") of every agreement, and the tenant that owns
    clients, agreements and breaches. Everything a coach sees is reached through it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("practice name"), max_length=200)
    statutory_seat = models.CharField(
        _("statutory seat"),
        max_length=100,
        blank=True,
        help_text=_("The city where the practice is registered, e.g. Tilburg."),
    )
    address = models.CharField(
        _("address"), max_length=300, blank=True, help_text=_("Street, number, postcode, city.")
    )
    kvk_number = models.CharField(
        _("KvK number"), max_length=8, blank=True, validators=[kvk_validator]
    )
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])

    # Bijlage 3 names whom a client contacts about a (possible) data breach.
    breach_contact_role = models.CharField(
        _("breach contact (role or name)"),
        max_length=150,
        blank=True,
        help_text=_("Who the client contacts about a data breach, e.g. 'de coach' or a name."),
    )
    breach_contact_phone = models.CharField(
        _("breach contact phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    breach_contact_email = models.EmailField(_("breach contact email"), blank=True)
    # Art. 37 GDPR: few coaching practices must have one, but one that has names it in the
    # record of processing (art. 30(2)(a)) and in a breach report to the AP (art. 33(3)(b)).
    data_protection_officer = models.CharField(
        _("data protection officer"),
        max_length=300,
        blank=True,
        help_text=_(
            "Only if your practice has one: name and how to reach them. Most coaching "
            "practices do not need one."
        ),
    )

    # Clause 8.3: the default penalties a new agreement starts with.
    default_penalty_per_violation = models.DecimalField(
        _("penalty per violation (€)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    default_penalty_per_day = models.DecimalField(
        _("penalty per day of violation (€)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    signing_link_days = models.PositiveSmallIntegerField(
        _("signing links work for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long a client can use the link to sign; 14 days unless you change it."),
    )

    # Whether new agreements include Bijlage 4, the supplement that completes the text
    # against art. 28 GDPR (agreements.document_versions).
    default_with_supplement = models.BooleanField(
        _("add Bijlage 4 (art. 28 GDPR) to new agreements"), default=False
    )

    # Whether the client types a code, sent to him separately, before he can sign
    # (agreements.signer_codes). On unless the coach switches it off.
    signer_code_required = models.BooleanField(
        _("ask the client for a code before signing"),
        default=True,
        help_text=_(
            "Before signing, the client receives a 6-digit code in a separate email and types"
            " it in. This shows that he had access to his mailbox when he signed."
        ),
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # The fields an agreement cannot be drafted without.
    REQUIRED_FOR_AGREEMENTS = (
        "name",
        "statutory_seat",
        "email",
        "breach_contact_role",
        "breach_contact_phone",
        "breach_contact_email",
    )

    class Meta:
        verbose_name = _("practice")
        verbose_name_plural = _("practices")
        # Made in the agreements app and moved here; the table kept its name.
        db_table = "agreements_practice"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_penalty_per_violation__gte=0)
                | models.Q(default_penalty_per_violation__isnull=True),
                name="practice_penalty_per_violation_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(default_penalty_per_day__gte=0)
                | models.Q(default_penalty_per_day__isnull=True),
                name="practice_penalty_per_day_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_complete(self) -> bool:
        return all(getattr(self, field) for field in self.REQUIRED_FOR_AGREEMENTS)

    def notice_recipients(self) -> list[str]:
        """Where the practice's notices go: its own address first, then each coach's."""
        addresses = list(self.members.values_list("email", flat=True))
        if self.email and self.email not in addresses:
            addresses.insert(0, self.email)
        return addresses


class Client(models.Model):
    """A coaching client: party 2 ("Jij") of an agreement. He has no account."""

    class Language(models.TextChoices):
        DUTCH = "nl", _("Dutch")
        ENGLISH = "en", _("English")

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="clients")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    residence = models.CharField(
        _("place of residence"), max_length=100, help_text=_("The town or city, e.g. Breda.")
    )
    email = models.EmailField(_("email address"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    language = models.CharField(
        _("language for emails"), max_length=2, choices=Language, default=Language.DUTCH
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        db_table = "agreements_client"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["practice", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=["nl", "en"]), name="client_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LawfulRemoval(models.Model):
    """One use of the single lawful way past the database's immutability triggers
    (`core.immutability.lawful_removal`): erasure after the retention period, the end of a
    draft. The row is active only inside the transaction that made it and is kept afterwards
    as the record that sealed evidence or an evidence trail was changed or removed, why, and
    by whom."""

    at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=10, choices=Actor)
    account = models.CharField(max_length=254, blank=True)
    # True only between the start and the end of the `lawful_removal` block: other
    # transactions never see it true, because it is false again before the commit.
    active = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("lawful removal")
        verbose_name_plural = _("lawful removals")
        ordering = ["-at", "-id"]
        indexes = [
            # What every trigger asks; the index holds only the (at most a few) active rows.
            models.Index(
                fields=["active"], condition=models.Q(active=True), name="lawful_removal_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.reason}"
