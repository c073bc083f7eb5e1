import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
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

    def extra_measure_lines(self):
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
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["practice", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=["nl", "en"]), name="client_language_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def has_signed_agreement(self):
        return self.agreements.filter(status__in=KEPT_STATUSES).exists()


class RetentionUnit(models.TextChoices):
    DAY = "day", _("days")
    MONTH = "month", _("months")
    YEAR = "year", _("years")


class RetentionFrom(models.TextChoices):
    AGREEMENT_END = "agreement_end", _("after the end of the agreement")
    FINANCIAL_YEAR_END = "financial_year_end", _("after the end of the financial year")


RETENTION_ALL_OR_NONE = _(
    "To compute the retention period, fill in all three: the number, the unit and from when "
    "it runs; or leave all three empty."
)


class ProcessingActivityFields(models.Model):
    """One row of Bijlage 1: a processing activity and what it involves."""

    description = models.TextField(_("description of the processing"), max_length=2000)
    purposes = models.TextField(_("purposes"), max_length=2000)
    controller = models.CharField(_("controller"), max_length=200)
    processor = models.CharField(_("processor"), max_length=200)
    sub_processors = models.CharField(
        _("sub-processors"),
        max_length=500,
        blank=True,
        help_text=_("E.g. your email provider or accounting software; leave empty if none."),
    )
    personal_data = models.TextField(_("personal data processed"), max_length=2000)
    location = models.CharField(_("location of processing"), max_length=300)
    retention = models.CharField(_("retention period"), max_length=300)
    # The same period, structured, so that the app can compute when the data is due for
    # destruction. Optional: the free text above is what the document prints.
    retention_amount = models.PositiveSmallIntegerField(
        _("retention: how many"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    retention_unit = models.CharField(
        _("retention: unit"), max_length=5, choices=RetentionUnit, blank=True
    )
    retention_from = models.CharField(
        _("retention: counted from"), max_length=20, choices=RetentionFrom, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            # A computed due date needs all three parts; half a period would be a guess.
            models.CheckConstraint(
                condition=models.Q(
                    retention_amount__isnull=True, retention_unit="", retention_from=""
                )
                | models.Q(
                    retention_amount__gte=1,
                    retention_amount__lte=100,
                    retention_unit__in=RetentionUnit.values,
                    retention_from__in=RetentionFrom.values,
                ),
                name="%(app_label)s_%(class)s_retention_all_or_none",
                violation_error_message=RETENTION_ALL_OR_NONE,
            ),
        ]

    COPIED_FIELDS = (
        "description",
        "purposes",
        "controller",
        "processor",
        "sub_processors",
        "personal_data",
        "location",
        "retention",
        "retention_amount",
        "retention_unit",
        "retention_from",
        "position",
    )

    def __str__(self):
        return self.description[:60]

    def copy_values(self):
        return {field: getattr(self, field) for field in self.COPIED_FIELDS}


class DefaultProcessingActivity(ProcessingActivityFields):
    """A Bijlage 1 row every new agreement of the practice starts with."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="default_activities"
    )

    class Meta(ProcessingActivityFields.Meta):
        verbose_name = _("default processing activity")
        verbose_name_plural = _("default processing activities")


class ArchivedAgreementError(Exception):
    """Something tried to change an agreement that is sealed and archived."""


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent for signing")
    SIGNED = "signed", _("signed")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


# Agreements that are evidence: never deleted, and they keep their client.
KEPT_STATUSES = (AgreementStatus.SIGNED,)


class Agreement(SecurityProfileFields):
    """A processing agreement (verwerkersovereenkomst) between a practice and a client.

    The party details are copied in when the draft is made, so the agreement prints what the
    parties agreed on even if the practice or client details change later.
    """

    Status = AgreementStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="agreements")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="agreements")
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus, default=AgreementStatus.DRAFT
    )
    template_version = models.CharField(_("template version"), max_length=20, editable=False)

    agreement_date = models.DateField(_("date of this agreement"))
    coaching_agreement_date = models.DateField(_("date of the coaching agreement"))
    penalty_per_violation = models.DecimalField(
        _("penalty per violation (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    penalty_per_day = models.DecimalField(
        _("penalty per day of violation (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )

    # Party 1, the practice, as printed.
    practice_name = models.CharField(_("practice name"), max_length=200)
    practice_seat = models.CharField(_("statutory seat"), max_length=100)
    # Party 2, the client, as printed.
    client_name = models.CharField(_("client's name"), max_length=200)
    client_residence = models.CharField(_("client's place of residence"), max_length=100)
    # Bijlage 3: whom to contact about a breach.
    breach_contact_role = models.CharField(_("breach contact (role or name)"), max_length=150)
    breach_contact_phone = models.CharField(
        _("breach contact phone"), max_length=20, validators=[phone_validator]
    )
    breach_contact_email = models.EmailField(_("breach contact email"))

    # The version both parties sign: rendered once when the coach signs and sends it.
    document_pdf = models.BinaryField(default=b"", blank=True, editable=False)
    document_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    decline_reason = models.TextField(blank=True, max_length=2000, editable=False)
    # The final document: both signatures and the evidence page, sealed, stored once.
    final_pdf = models.FileField(upload_to="agreements/%Y/%m/", blank=True, editable=False)
    final_sha256 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("processing agreement")
        verbose_name_plural = _("processing agreements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AgreementStatus.values),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(data_kind__in=DataKind.values),
                name="agreement_data_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(penalty_per_violation__gte=0, penalty_per_day__gte=0),
                name="agreement_penalties_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.client_name} ({self.agreement_date:%d-%m-%Y})"

    def save(self, *args, **kwargs):
        # A sealed agreement is evidence: once archived, no code path may change its row.
        # Asking the database (not this object's copy) also catches stale instances.
        self._refuse_if_archived()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_archived()
        return super().delete(*args, **kwargs)

    def _refuse_if_archived(self):
        if self.pk and Agreement.objects.filter(pk=self.pk).exclude(final_sha256="").exists():
            raise ArchivedAgreementError(f"Agreement {self.public_id} is archived and immutable.")

    @property
    def is_draft(self):
        return self.status == AgreementStatus.DRAFT

    @property
    def is_archived(self):
        return bool(self.final_sha256)


class ProcessingActivity(ProcessingActivityFields):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="activities")

    class Meta(ProcessingActivityFields.Meta):
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")


class Party(models.TextChoices):
    PRACTICE = "practice", _("the practice (Verantwoordelijke)")
    CLIENT = "client", _("the client (Verwerker)")


class Signature(models.Model):
    """One party's signature on one exact version of an agreement (its SHA-256)."""

    class Method(models.TextChoices):
        DRAWN = "drawn", _("drawn")
        TYPED = "typed", _("typed")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    # Set when this is a signature on the agreement's declaration of return or destruction.
    declaration = models.ForeignKey(
        "Declaration", on_delete=models.CASCADE, null=True, blank=True, related_name="signatures"
    )
    party = models.CharField(max_length=10, choices=Party)
    name = models.CharField(_("name"), max_length=200)
    function = models.CharField(_("function"), max_length=200)
    place = models.CharField(_("place"), max_length=100)
    method = models.CharField(max_length=10, choices=Method)
    # A PNG of a drawn signature; a typed one is printed from `name` in a script face.
    image = models.BinaryField(blank=True, default=b"", editable=False)
    document_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One signature per party: the database refuses a second, whatever the timing.
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=models.Q(declaration=None),
                name="one_signature_per_party",
            ),
            models.UniqueConstraint(
                fields=["declaration", "party"],
                condition=models.Q(declaration__isnull=False),
                name="one_declaration_signature_per_party",
            ),
            models.CheckConstraint(
                condition=models.Q(party__in=["practice", "client"]), name="signature_party_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=["drawn", "typed"]), name="signature_method_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.party})"


class SigningLink(models.Model):
    """The personal link a client signs with. Only the SHA-256 of its token is stored."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signing_links")
    # Set when the link is for the declaration of return or destruction, not the agreement.
    declaration = models.ForeignKey(
        "Declaration", on_delete=models.CASCADE, null=True, blank=True, related_name="links"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_emailed_at = models.DateTimeField(null=True, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"link for {self.agreement_id} until {self.expires_at:%Y-%m-%d}"

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class AgreementEvent(models.Model):
    """The evidence trail: what happened to an agreement, when, by whom, from where."""

    class Kind(models.TextChoices):
        CREATED = "created", _("draft made")
        SIGNED_BY_PRACTICE = "signed_practice", _("signed by the coach")
        SENT = "sent", _("sent to the client")
        EMAIL_ACCEPTED = "email_accepted", _("email accepted by the mail server")
        EMAIL_FAILED = "email_failed", _("email could not be sent")
        OPENED = "opened", _("link opened")
        VIEWED = "viewed", _("document viewed")
        DOWNLOADED = "downloaded", _("PDF downloaded")
        SIGNED_BY_CLIENT = "signed_client", _("signed by the client")
        DECLINED = "declined", _("declined by the client")
        REMINDED = "reminded", _("reminder sent")
        WITHDRAWN = "withdrawn", _("withdrawn by the coach")
        EXPIRED = "expired", _("signing link expired")
        REOPENED = "reopened", _("made a draft again")
        COMPLETED = "completed", _("sealed and archived")
        ENDED = "ended", _("ended with the coaching agreement")
        DECLARATION_SENT = "declaration_sent", _("declaration of return or destruction sent")
        DECLARATION_SIGNED = "declaration_signed", _("declaration signed by the client")
        DECLARATION_COMPLETED = "declaration_completed", _("declaration sealed and archived")

    class Actor(models.TextChoices):
        COACH = "coach", _("coach")
        CLIENT = "client", _("client")
        SYSTEM = "system", _("system")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind)
    actor = models.CharField(max_length=10, choices=Actor)
    actor_name = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"


class AgreementEnding(models.Model):
    """The end of a signed agreement (clause 2.3: it ends with the coaching agreement).

    A row of its own, because the signed agreement itself is archived and never changes."""

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, related_name="ending")
    coaching_ended_on = models.DateField(_("the coaching agreement ended on"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("end of an agreement")
        verbose_name_plural = _("ends of agreements")

    def __str__(self):
        return f"{self.agreement_id} ended {self.coaching_ended_on}"


class Declaration(models.Model):
    """The client's written declaration that the personal data was returned or destroyed
    (clause 9.3), signed through the same link-and-sign machinery as the agreement."""

    class Disposition(models.TextChoices):
        RETURNED = "returned", _("returned")
        DESTROYED = "destroyed", _("destroyed")
        BOTH = "both", _("returned, and what remained destroyed")

    class Status(models.TextChoices):
        SENT = "sent", _("sent for signing")
        SIGNED = "signed", _("signed")

    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, related_name="declaration"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    disposition = models.CharField(
        _("what happened to the data"), max_length=10, choices=Disposition
    )
    data_description = models.TextField(_("which personal data"), max_length=2000)
    done_on = models.DateField(_("when"))
    method = models.TextField(
        _("how"), max_length=2000, help_text=_("E.g. files deleted and the bin emptied.")
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.SENT)
    document_pdf = models.BinaryField(default=b"", editable=False)
    document_sha256 = models.CharField(max_length=64, editable=False)
    final_pdf = models.FileField(upload_to="declarations/%Y/%m/", blank=True, editable=False)
    final_sha256 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    sent_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["sent", "signed"]), name="declaration_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(disposition__in=["returned", "destroyed", "both"]),
                name="declaration_disposition_valid",
            ),
        ]

    def __str__(self):
        return f"declaration for {self.agreement_id}"

    @property
    def is_archived(self):
        return bool(self.final_sha256)


class ErasureRecord(models.Model):
    """That a client's personal data was erased (GDPR art. 17), and what: counts, never the
    data itself, so the practice can show it erased without keeping what it erased."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="erasures")
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.CharField(max_length=254)
    agreements = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    breach_notifications = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self):
        return f"erasure {self.erased_at:%Y-%m-%d}"


class RetentionReminder(models.Model):
    """That the coach was reminded of a Bijlage 1 row falling due for destruction, so that
    the daily reminder run mails each row once."""

    activity = models.OneToOneField(
        ProcessingActivity, on_delete=models.CASCADE, related_name="retention_reminder"
    )
    due_on = models.DateField()
    sent_on = models.DateField(default=timezone.localdate)

    def __str__(self):
        return f"reminder for {self.activity_id} due {self.due_on}"


class DossierExport(models.Model):
    """A large dossier, built in the background and fetched through an emailed link: a
    practice with hundreds of agreements should not wait on one long request."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="exports")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.EmailField()
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"export {self.public_id}"

    def is_ready(self, now=None):
        now = now or timezone.now()
        return bool(self.completed_at) and self.expires_at > now
