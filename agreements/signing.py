"""Signing: the coach signs and sends, the client signs (or declines) through his personal
link, and the signed document is sealed and archived.

One path serves every signable document (the agreement, the declaration of clause 9.3, the
addendum, whose sending is in `addenda.py`): render once and hash, a link for the client,
his signature, then one task that renders the final PDF, seals it, stores it with its
SHA-256 and emails it to both parties. What differs per kind of document lives on its model
(`SignableDocument`) and in `documents.py`.

Every transition is a function here: it locks the row, checks the current status, changes
it, writes an evidence event, and leaves emails and rendering for after the commit. The
functions take plain values (an `Origin`, cleaned input), never a request or a form.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import get_args

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from avg_portal.emails import Delivery, delivery_detail, is_pending
from avg_portal.models import OutboxMessage
from core.exceptions import ActionRefused
from core.origin import Origin

# avg_portal.seal (pyHanko, aiohttp: a second or more to import) and evidence_renewal,
# which imports it, are imported where a document is sealed or checked, so that web workers
# and management commands start without them.
from . import archive, documents, notices, signer_codes
from .models import (
    Addendum,
    AddendumStatus,
    Agreement,
    AgreementEnding,
    AgreementEvent,
    AgreementStatus,
    ConcreteDocument,
    Declaration,
    Party,
    SignableDocument,
    Signature,
    SignerCode,
    SigningLink,
)
from .signals import announce_terms_changed

Kind = AgreementEvent.Kind

# 32 random bytes: 256 bits, far beyond guessing; only their SHA-256 is stored.
TOKEN_BYTES = 32
MAX_SIGNATURE_PNG_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = (3000, 1500)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def token_hash(token: str) -> str:
    return sha256_hex(token.encode())


# Signature input -------------------------------------------------------------------------


class SignatureRejected(ActionRefused):
    pass


@dataclass(frozen=True)
class SignatureInput:
    name: str
    function: str
    place: str
    method: str  # Signature.Method
    image: bytes = b""  # PNG, for a drawn signature
    consent_text: str = ""  # the sentence the signer ticked, as shown


UNREADABLE = gettext_noop("The signature could not be read. Draw it again.")


def png_from_data_url(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature, checked to be a real, non-empty, small PNG."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise SignatureRejected(_("Draw your signature in the box, or type it instead."))
    encoded = data_url[len(prefix) :]
    # Base64 grows data by 4/3; refuse oversize input before decoding it.
    if len(encoded) > MAX_SIGNATURE_PNG_BYTES * 4 // 3 + 4:
        raise SignatureRejected(_("The signature image is too large."))
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected(_(UNREADABLE)) from None
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise SignatureRejected(_(UNREADABLE))
    # Pillow only here, where a signature is posted: not in every web worker from the start.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise SignatureRejected(_(UNREADABLE))
            if image.width > MAX_SIGNATURE_PIXELS[0] or image.height > MAX_SIGNATURE_PIXELS[1]:
                raise SignatureRejected(_("The signature image is too large."))
            image.load()
            alpha = image.convert("RGBA").getchannel("A")
            if alpha.getbbox() is None:
                raise SignatureRejected(_("The signature box is empty. Draw your signature."))
    # Crafted files make Pillow raise more than OSError: a chunk type that is not ASCII
    # raises UnicodeDecodeError, broken headers SyntaxError or ValueError.
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
    ):
        raise SignatureRejected(_(UNREADABLE)) from None
    return png


# Links -----------------------------------------------------------------------------------


def _issue_link(
    document: SignableDocument,
    *,
    now: datetime.datetime,
    expires_at: datetime.datetime | None = None,
) -> tuple[SigningLink, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    agreement = document.concrete().dossier
    link = SigningLink.objects.create(
        document=document,
        token_sha256=token_hash(token),
        sent_to=agreement.client.email,
        created_at=now,
        expires_at=expires_at or now + timedelta(days=agreement.practice.signing_link_days),
    )
    return link, token


def link_for_token(token: str) -> SigningLink | None:
    """The link a token belongs to, or None. Compares hashes only."""
    if not token or len(token) > 100:
        return None
    return (
        SigningLink.objects.select_related("document")
        .filter(token_sha256=token_hash(token))
        .first()
    )


def _email_link(link: SigningLink, token: str, *, reminder: bool = False) -> None:
    """Queue the email with the link in the current transaction; it goes out once that has
    committed. The token exists only here and in the email: the database keeps its hash."""
    notices.send_invitation(link.document.concrete(), link, token, reminder=reminder)


def record_link_email(message: OutboxMessage, delivery: Delivery) -> None:
    """What the mail server said to an invitation or reminder: on the link (its status on the
    agreement's page) and on the evidence trail. A reminder counts toward the maximum only
    once it was delivered."""
    link = SigningLink.objects.select_related("document").get(pk=message.subject_id)
    reminder = message.purpose == notices.REMINDER
    now = timezone.now()
    fields = ["last_emailed_at", "email_failed_at", "email_error"]
    if delivery.accepted:
        link.last_emailed_at, link.email_failed_at, link.email_error = now, None, ""
        if reminder:
            link.reminders_sent = 1
            fields.append("reminders_sent")
    else:
        link.email_failed_at, link.email_error = now, delivery.error[:500]
    link.save(update_fields=fields)
    _record_delivery(
        link.document.concrete(), message, delivery, "reminder" if reminder else "invitation"
    )


def link_email_wanted(message: OutboxMessage) -> bool:
    """Whether the outbox should still send this invitation or reminder: not once its link
    was revoked (a new link sent, perhaps to a corrected address; the document withdrawn),
    used or expired while the mail server refused (`avg_portal.emails.wanted_while`). The
    client would get a link that no longer works, at an address that may be wrong."""
    link = SigningLink.objects.filter(pk=message.subject_id).first()
    return link is not None and link.is_usable()


def record_document_email(message: OutboxMessage, delivery: Delivery) -> None:
    """What the mail server said to a message about a document (the decline notice, the
    sealed copies, the delay of the seal), on the evidence trail."""
    document = SignableDocument.objects.get(pk=message.subject_id).concrete()
    _record_delivery(document, message, delivery, _email_name(document, message.purpose))


def record_code_email(message: OutboxMessage, delivery: Delivery) -> None:
    """What the mail server said to the message with a signer code, on the evidence trail."""
    code = SignerCode.objects.select_related("link__document").get(pk=message.subject_id)
    _record_delivery(code.link.document.concrete(), message, delivery, "signing code")


def _email_name(document: ConcreteDocument, purpose: str) -> str:
    signed = "signed PDF" if isinstance(document, Agreement) else f"signed {document.kind}"
    return {
        notices.DECLINED: "declined notice",
        notices.SEALED_TO_CLIENT: f"{signed} to client",
        notices.SEALED_TO_PRACTICE: f"{signed} to coach",
        notices.SEALING_DELAYED: "sealing delayed",
    }[purpose]


def _record_delivery(
    document: ConcreteDocument,
    message: OutboxMessage,
    delivery: Delivery,
    what: str,
) -> None:
    """Whether the mail server took a message, on the evidence trail: a failure is shown to
    the coach, never reported as success, and says whether the outbox tries again."""
    kind = Kind.EMAIL_ACCEPTED if delivery.accepted else Kind.EMAIL_FAILED
    detail = delivery_detail(what, delivery, message)
    document.dossier.log(kind, Origin.system(), document=document, detail=detail)


def _locked(agreement: Agreement, *statuses: str) -> Agreement:
    locked = (
        Agreement.objects.select_for_update()
        .select_related("practice", "client")
        .get(pk=agreement.pk)
    )
    if statuses and locked.status not in statuses:
        raise ActionRefused(
            _("This cannot be done now: the agreement is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    return locked


def _locked_document(document: SignableDocument) -> ConcreteDocument:
    concrete = document.concrete()
    return type(concrete).objects.select_for_update().get(pk=concrete.pk)


def _create_signature(
    document: SignableDocument, party: str, signature: SignatureInput, origin: Origin
) -> Signature:
    return Signature.objects.create(
        document=document,
        party=party,
        name=signature.name,
        function=signature.function,
        place=signature.place,
        method=signature.method,
        image=signature.image,
        document_sha256=document.document_sha256,
        consent_text=signature.consent_text,
        text_version=document.concrete().text_version,
        signed_at=origin.at,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )


# The coach -------------------------------------------------------------------------------


def agreement_sign_and_send(
    *, agreement: Agreement, signature: SignatureInput, origin: Origin
) -> Agreement:
    """The coach signs the draft inside her two-factor session and sends it to the client.

    The document both parties sign is rendered here, once; its SHA-256 goes into both
    signatures and the evidence page.
    """
    origin = dataclasses.replace(origin, name=signature.name)
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.DRAFT)
        if not locked.activities.exists():
            raise ActionRefused(_("Bijlage 1 needs at least one processing activity."))
        locked.status = AgreementStatus.SENT
        locked.sent_at = origin.at
        locked.decline_reason = ""
        pdf = documents.render_pdf(locked)
        locked.document_pdf = pdf
        locked.document_sha256 = sha256_hex(pdf)
        locked.save(
            update_fields=["status", "sent_at", "decline_reason", "document_pdf", "document_sha256"]
        )
        locked.signatures.all().delete()
        _create_signature(locked, Party.PRACTICE, signature, origin)
        # Her signature, her signing event and the hash she signed share one moment.
        locked.log(
            Kind.SIGNED_BY_PRACTICE,
            origin,
            document=locked,
            detail=f"SHA-256 {locked.document_sha256}",
            at=origin.at,
        )
        send_for_client_signature(
            locked, event=Kind.SENT, detail=locked.client.email, origin=origin
        )
    return locked


def send_for_client_signature(
    document: ConcreteDocument,
    *,
    event: str,
    detail: str,
    origin: Origin,
    at: datetime.datetime | None = None,
) -> SigningLink:
    """Give the client his link to a document just rendered and hashed: the link, the
    sending on the agreement's evidence trail, the invitation after the commit, and an RFC
    3161 timestamp of what was sent. Every kind of document is sent through here; the caller
    holds the rows' locks."""
    link, token = _issue_link(document, now=origin.at)
    document.dossier.log(event, origin, document=document, detail=detail, at=at)
    _email_link(link, token)
    _timestamp_after_commit(document)
    return link


def _timestamp_after_commit(document: SignableDocument) -> None:
    """The document the parties sign gets an RFC 3161 timestamp once it is sent."""
    from . import evidence_renewal

    key = document.key
    # robust: a queue that cannot take it now leaves it to the recovery sweep, which asks for
    # missing timestamps again; the sending is done and must not look failed.
    transaction.on_commit(
        lambda: evidence_renewal.timestamp_sent_document.enqueue(key), robust=True
    )


def _send_link(agreement: Agreement, origin: Origin) -> None:
    link, token = _issue_link(agreement, now=origin.at)
    agreement.log(Kind.SENT, origin, document=agreement, detail=agreement.client.email)
    _email_link(link, token)


def agreement_resend(*, agreement: Agreement, origin: Origin) -> Agreement:
    """A new link by email; every earlier link stops working."""
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SENT)
        locked.signing_links.filter(used_at=None, revoked_at=None).update(revoked_at=origin.at)
        _send_link(locked, origin)
    return locked


def agreement_withdraw(*, agreement: Agreement, origin: Origin) -> Agreement:
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SENT)
        locked.status = AgreementStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        locked.signing_links.filter(revoked_at=None).update(revoked_at=origin.at)
        locked.log(Kind.WITHDRAWN, origin, document=locked)
    return locked


def agreement_reopen(*, agreement: Agreement, origin: Origin) -> Agreement:
    """A withdrawn, declined or expired agreement becomes a draft again, to edit and resend.
    The coach's earlier signature no longer applies to what she will change."""
    with transaction.atomic():
        locked = _locked(
            agreement, AgreementStatus.WITHDRAWN, AgreementStatus.DECLINED, AgreementStatus.EXPIRED
        )
        locked.status = AgreementStatus.DRAFT
        locked.document_pdf = b""
        locked.document_sha256 = ""
        locked.save(update_fields=["status", "document_pdf", "document_sha256"])
        locked.signatures.all().delete()
        locked.log(Kind.REOPENED, origin, document=locked)
    return locked


# The client ------------------------------------------------------------------------------


def link_open(*, link: SigningLink, origin: Origin) -> None:
    """Record that the client opened his link (the first GET that trades it for a session)."""
    link_record(link=link, kind=Kind.OPENED, origin=origin)


def link_record(*, link: SigningLink, kind: str, origin: Origin) -> None:
    document = link.document.concrete()
    document.dossier.log(kind, origin, document=link.document)


def client_sign(
    *,
    link: SigningLink,
    signature: SignatureInput,
    origin: Origin,
    signer_code: SignerCode | None = None,
) -> SignableDocument:
    """The client's signature on the document of his link. Exactly one can ever be made: the
    row lock serialises concurrent requests, the status check turns the later ones away, and
    the database's unique constraint stands behind both.

    When the practice asks for a signer code, `signer_code` is the code this signer
    confirmed (agreements.signer_codes); it is tied to the signature and serves no other."""
    origin = dataclasses.replace(origin, name=signature.name)
    with transaction.atomic():
        document = _locked_document(link.document)
        link = SigningLink.objects.select_for_update().get(pk=link.pk)
        if not document.awaits_client_signature or not link.is_usable(origin.at):
            raise ActionRefused(_("This link can no longer be used."))
        code = signer_codes.require_confirmed(link=link, code=signer_code, now=origin.at)
        made = _create_signature(document, Party.CLIENT, signature, origin)
        if code is not None:
            code.signature = made
            code.save(update_fields=["signature"])
        document.mark_signed_by_client()
        document.signing_links.filter(used_at=None).update(used_at=origin.at)
        document.dossier.log(
            document.SIGNED_EVENT,
            origin,
            document=document,
            detail=f"SHA-256 {document.document_sha256}",
            at=origin.at,
        )
        key = document.key
        # robust: the signature is stored; a queue that cannot take the sealing now leaves
        # it to the recovery sweep, and the signer is not shown an error.
        transaction.on_commit(lambda: complete_signed_document.enqueue(key), robust=True)
    return document


def agreement_client_decline(*, link: SigningLink, reason: str, origin: Origin) -> Agreement:
    with transaction.atomic():
        document = _locked_document(link.document)
        link = SigningLink.objects.select_for_update().get(pk=link.pk)
        if not document.DECLINABLE or not document.awaits_client_signature:
            raise ActionRefused(_("This link can no longer be used."))
        if not link.is_usable(origin.at):
            raise ActionRefused(_("This link can no longer be used."))
        agreement = _locked(document.dossier, AgreementStatus.SENT)
        agreement.status = AgreementStatus.DECLINED
        agreement.decline_reason = reason
        agreement.save(update_fields=["status", "decline_reason"])
        agreement.signing_links.filter(used_at=None).update(used_at=origin.at)
        agreement.log(Kind.DECLINED, origin, document=agreement, detail=reason)
        notices.send_declined(agreement)
    return agreement


# Completion ------------------------------------------------------------------------------


def complete(key: int) -> SignableDocument | None:
    """Render the final PDF once (the signatures, the evidence page), seal it, store it with
    its SHA-256, and email it to both parties.

    Idempotent: the row lock serialises runs (a task and the recovery sweep may both start
    one), and a run that finds the document archived does nothing, so nothing is sealed,
    logged or emailed twice. A failure rolls everything back, leaves no file behind, and is
    written on the document for the recovery sweep (agreements.recovery), which tries again.
    """
    try:
        with transaction.atomic():
            document = _locked_document(SignableDocument.objects.get(pk=key))
            if not document.is_signed or document.is_archived:
                return None
            document.dossier.log(
                document.COMPLETED_EVENT,
                Origin.system(),
                document=document,
                detail=f"SHA-256 of the signed text {document.document_sha256}",
            )
            _seal_and_store(document, documents.render_pdf(document, final=True))
            # Queued in the same transaction as the seal: sealed means the copies will go.
            notices.send_sealed_copies(document)
            if isinstance(document, (Agreement, Addendum)):
                # Its entries in the processing record change (records lays them out).
                announce_terms_changed(document.dossier.pk)
    except Exception as error:
        archive.note_failure(key, error)
        raise
    return document


@task
def complete_signed_document(key: int) -> None:
    complete(key)


def _seal_and_store(document: SignableDocument, pdf: bytes) -> None:
    """Seal the final PDF and store it, once, verified, with its SHA-256; from then on
    downloads serve this file."""
    from avg_portal.seal import seal_pdf

    archive.store_sealed(document, seal_pdf(pdf), at=timezone.now())


# Expiry and reminders --------------------------------------------------------------------


def expire_and_remind(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Remind clients who have not signed a document sent to them (an agreement, a
    declaration, an addendum: every kind alike), and mark what they can no longer sign
    because all its links ran out. Run by a task or `manage.py signing_reminders` from cron;
    safe to run at any time. Returns (expired, reminded)."""
    now = now or timezone.now()
    system = dataclasses.replace(Origin.system(), at=now)
    expired = reminded = 0
    for model in get_args(ConcreteDocument):
        # Every kind has a status "sent" while it waits for the client (agreements.checks).
        manager = model._default_manager
        for pk in manager.filter(status="sent").values_list("pk", flat=True):
            with transaction.atomic():
                outcome = _expire_or_remind(manager.select_for_update().get(pk=pk), system, now)
            expired += outcome == "expired"
            reminded += outcome == "reminded"
    return expired, reminded


def _expire_or_remind(
    document: ConcreteDocument, system: Origin, now: datetime.datetime
) -> str | None:
    """One waiting document, locked: "expired", "reminded" or None (nothing due)."""
    if not document.awaits_client_signature:
        return None
    dossier = document.dossier
    live = [link for link in document.signing_links.select_for_update() if link.is_usable(now)]
    if not live:
        return "expired" if _expire(document, system) else None
    newest = max(live, key=lambda link: link.created_at)
    due = (newest.last_emailed_at or newest.created_at) + timedelta(
        days=settings.SIGNING_REMINDER_AFTER_DAYS
    )
    # Only delivered reminders count (record_link_email marks them), and one still waiting
    # in the outbox is not followed by another.
    delivered = sum(link.reminders_sent for link in document.signing_links.all())
    if due > now or delivered >= settings.SIGNING_MAX_REMINDERS:
        return None
    if is_pending(notices.REMINDER, newest.pk):
        return None
    # The reminder carries a new link with the same end date; the earlier one keeps working,
    # so an older email is not suddenly dead.
    link, token = _issue_link(document, now=now, expires_at=newest.expires_at)
    dossier.log(Kind.REMINDED, system, document=document, detail=dossier.client.email)
    _email_link(link, token, reminder=True)
    return "reminded"


def _expire(document: ConcreteDocument, system: Origin) -> bool:
    """Every link of `document` ran out: an agreement becomes expired (the coach sends it
    again from its page); a declaration or an addendum keeps its status, and its trail says
    once, per round of links, that they ran out. False when already said."""
    dossier = document.dossier
    if isinstance(document, Agreement):
        document.status = AgreementStatus.EXPIRED
        document.save(update_fields=["status"])
    else:
        newest_link = document.signing_links.order_by("-created_at").first()
        said = AgreementEvent.objects.filter(document=document, kind=Kind.EXPIRED)
        if newest_link is not None:
            said = said.filter(at__gte=newest_link.created_at)
        if said.exists():
            return False
    # Dated by the sweep's moment, which the check above compares with the links' dates.
    dossier.log(Kind.EXPIRED, system, document=document, at=system.at)
    return True


@task
def send_signing_reminders() -> None:
    expire_and_remind()


# Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    genuine: bool
    sealed_at: datetime.datetime | None = None
    # When the certificate of the file's last timestamp expires (None: no timestamp).
    evidence_expires_at: datetime.datetime | None = None

    @property
    def evidence_expired(self) -> bool:
        """The file alone no longer proves its seal to a validator elsewhere (our archive
        still recognises it)."""
        return self.evidence_expires_at is not None and self.evidence_expires_at <= timezone.now()


def verify_document(pdf_bytes: bytes) -> Verification:
    """Genuine when the file is, byte for byte, a final document in our archive (any version
    of it: renewed evidence is a new version) and its seal is intact and ours."""
    if not archive.is_sealed_sha256(sha256_hex(pdf_bytes)):
        return Verification(genuine=False)
    from avg_portal.seal import SealInvalid, evidence_expires_at, verify_seal

    try:
        sealed_at = verify_seal(pdf_bytes)
    except SealInvalid:
        return Verification(genuine=False)
    return Verification(
        genuine=True, sealed_at=sealed_at, evidence_expires_at=evidence_expires_at(pdf_bytes)
    )


# The end ---------------------------------------------------------------------------------


def agreement_record_end(
    *, agreement: Agreement, ended_on: datetime.date, origin: Origin
) -> AgreementEnding:
    """The coaching agreement ended, so this agreement ends with it (clause 2.3). Its row
    stays as signed; the end is a record of its own."""
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SIGNED)
        if AgreementEnding.objects.filter(agreement=locked).exists():
            raise ActionRefused(_("The end of this agreement is already recorded."))
        if ended_on < locked.agreement_date:
            raise ActionRefused(_("The agreement cannot end before it was made."))
        # An ended agreement can no longer be changed, so nothing may still change it.
        if locked.addenda.filter(status__in=(AddendumStatus.DRAFT, AddendumStatus.SENT)).exists():
            raise ActionRefused(
                _(
                    "This agreement has an addendum in progress: withdraw or delete it before "
                    "you record the end."
                )
            )
        ending = AgreementEnding.objects.create(
            agreement=locked, coaching_ended_on=ended_on, recorded_by=origin.account
        )
        locked.log(Kind.ENDED, origin, detail=f"{ended_on:%Y-%m-%d}")
        announce_terms_changed(locked.pk)
    return ending


# The declaration of return or destruction (clause 9.3) -----------------------------------


def declaration_send(
    *,
    agreement: Agreement,
    disposition: str,
    data_description: str,
    done_on: datetime.date,
    method: str,
    origin: Origin,
) -> Declaration:
    """After the agreement ended, the coach sends the client the declaration to sign."""
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SIGNED)
        if not hasattr(locked, "ending"):
            raise ActionRefused(_("Record the end of the agreement first."))
        if Declaration.objects.filter(agreement=locked).exists():
            raise ActionRefused(_("A declaration for this agreement was already sent."))
        declaration = Declaration(
            agreement=locked,
            disposition=disposition,
            data_description=data_description,
            done_on=done_on,
            method=method,
            sent_at=origin.at,
        )
        pdf = documents.render_pdf(declaration)
        declaration.document_pdf = pdf
        declaration.document_sha256 = sha256_hex(pdf)
        declaration.full_clean(exclude=["document"])
        declaration.save()
        send_for_client_signature(
            declaration,
            event=Kind.DECLARATION_SENT,
            detail=f"{locked.client.email}; SHA-256 {declaration.document_sha256}",
            origin=origin,
        )
    return declaration
