import uuid

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

kvk_validator = RegexValidator(
    r"^\d{8}$", _("A KvK number has exactly 8 digits, for example 12345678.")
)
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()-]{7,19}$",
    _("Enter a phone number of digits, for example 013 123 45 67 or +31 6 12345678."),
)


class Practice(models.Model):
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

    def __str__(self):
        return self.name

    @property
    def is_complete(self):
        return all(getattr(self, field) for field in self.REQUIRED_FOR_AGREEMENTS)
