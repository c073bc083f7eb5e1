"""Signing: the coach signs and sends, the client signs (or declines) through his personal
link, and the signed agreement is sealed and archived.

Every transition is a function here: it locks the agreement row, checks the current status,
changes it, writes an evidence event, and leaves emails and rendering for after the commit.
"""

import base64
import binascii
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from avg_portal import emails
from avg_portal.audit import client_ip, user_agent
from avg_portal.seal import SealInvalid, seal_pdf, verify_seal

from . import documents
from .actions import ActionRefused
from .models import (
    Agreement,
    AgreementEvent,
    AgreementStatus,
    Party,
    Signature,
    SigningLink,
)

Kind = AgreementEvent.Kind
Actor = AgreementEvent.Actor

# 32 random bytes: 256 bits, far beyond guessing; only their SHA-256 is stored.
TOKEN_BYTES = 32
MAX_SIGNATURE_PNG_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = (3000, 1500)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def token_hash(token):
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


def png_from_data_url(data_url):
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
        raise SignatureRejected(_("The signature could not be read. Draw it again.")) from None
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise SignatureRejected(_("The signature could not be read. Draw it again."))
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise SignatureRejected(_("The signature could not be read. Draw it again."))
            if image.width > MAX_SIGNATURE_PIXELS[0] or image.height > MAX_SIGNATURE_PIXELS[1]:
                raise SignatureRejected(_("The signature image is too large."))
            image.load()
            alpha = image.convert("RGBA").getchannel("A")
            if alpha.getbbox() is None:
                raise SignatureRejected(_("The signature box is empty. Draw your signature."))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise SignatureRejected(_("The signature could not be read. Draw it again.")) from None
    return png


# Links -----------------------------------------------------------------------------------


def _issue_link(agreement, *, declaration=None, expires_at=None, now=None):
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = SigningLink.objects.create(
        agreement=agreement,
        declaration=declaration,
        token_sha256=token_hash(token),
        created_at=now,
        expires_at=expires_at or now + timedelta(days=agreement.practice.signing_link_days),
    )
    return link, token


def link_for_token(token):
    """The link a token belongs to, or None. Compares hashes only."""
    if not token or len(token) > 100:
        return None
    return (
        SigningLink.objects.select_related("agreement", "agreement__practice", "declaration")
        .filter(token_sha256=token_hash(token))
        .first()
    )


def _event(agreement, kind, *, actor, actor_name="", request=None, detail=""):
    return AgreementEvent.objects.create(
        agreement=agreement,
        kind=kind,
        actor=actor,
        actor_name=actor_name[:200],
        ip_address=client_ip(request) if request else None,
        user_agent=user_agent(request) if request else "",
        detail=detail[:1000],
    )


def _locked(agreement, *statuses):
    locked = Agreement.objects.select_for_update().select_related("practice").get(pk=agreement.pk)
    if statuses and locked.status not in statuses:
        raise ActionRefused(
            _("This cannot be done now: the agreement is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    return locked


# The coach -------------------------------------------------------------------------------


def agreement_sign_and_send(*, agreement, signature, request):
    """The coach signs the draft inside her two-factor session and sends it to the client.

    The document both parties sign is rendered here, once; its SHA-256 goes into both
    signatures and the evidence page.
    """
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.DRAFT)
        if not locked.activities.exists():
            raise ActionRefused(_("Bijlage 1 needs at least one processing activity."))
        now = timezone.now()
        locked.status = AgreementStatus.SENT
        locked.sent_at = now
        locked.decline_reason = ""
        pdf = documents.render_agreement_pdf(locked)
        locked.document_pdf = pdf
        locked.document_sha256 = sha256_hex(pdf)
        locked.save(
            update_fields=["status", "sent_at", "decline_reason", "document_pdf", "document_sha256"]
        )
        locked.signatures.filter(declaration=None).delete()
        _create_signature(locked, Party.PRACTICE, signature, request=request, now=now)
        _event(
            locked,
            Kind.SIGNED_BY_PRACTICE,
            actor=Actor.COACH,
            actor_name=signature.name,
            request=request,
            detail=f"SHA-256 {locked.document_sha256}",
        )
        _send_link(locked, actor_name=signature.name, request=request, now=now)
    return locked


def _send_link(agreement, *, actor_name, request, now):
    """A new link for the client, emailed once the transaction has committed. The token
    exists only in this function and the email: the database keeps its hash."""
    link, token = _issue_link(agreement, now=now)
    _event(
        agreement,
        Kind.SENT,
        actor=Actor.COACH,
        actor_name=actor_name,
        request=request,
        detail=agreement.client.email,
    )
    transaction.on_commit(lambda: emails.send_invitation(link, token))


def agreement_resend(*, agreement, request):
    """A new link by email; every earlier link stops working."""
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SENT)
        now = timezone.now()
        locked.signing_links.filter(used_at=None, revoked_at=None).update(revoked_at=now)
        _send_link(locked, actor_name=request.user.get_full_name(), request=request, now=now)
    return locked


def agreement_withdraw(*, agreement, request):
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SENT)
        locked.status = AgreementStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        locked.signing_links.filter(revoked_at=None).update(revoked_at=timezone.now())
        _event(
            locked,
            Kind.WITHDRAWN,
            actor=Actor.COACH,
            actor_name=request.user.get_full_name(),
            request=request,
        )
    return locked


def agreement_reopen(*, agreement, request):
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
        locked.signatures.filter(declaration=None).delete()
        _event(
            locked,
            Kind.REOPENED,
            actor=Actor.COACH,
            actor_name=request.user.get_full_name(),
            request=request,
        )
    return locked


# The client ------------------------------------------------------------------------------


def link_open(*, link, request):
    """Record that the client opened his link (the first GET that trades it for a session)."""
    _event(
        link.agreement,
        Kind.OPENED,
        actor=Actor.CLIENT,
        actor_name=link.agreement.client_name,
        request=request,
    )


def link_record(*, link, kind, request):
    _event(
        link.agreement,
        kind,
        actor=Actor.CLIENT,
        actor_name=link.agreement.client_name,
        request=request,
    )


def agreement_client_sign(*, link, signature, request):
    """The client's signature. Exactly one can ever be made: the row lock serialises
    concurrent requests, the status check turns the later ones away, and the database's
    unique constraint stands behind both."""
    from . import tasks  # tasks.py imports this module

    with transaction.atomic():
        locked = _locked(link.agreement, AgreementStatus.SENT)
        link = SigningLink.objects.select_for_update().get(pk=link.pk)
        now = timezone.now()
        if not link.is_usable(now):
            raise ActionRefused(_("This link can no longer be used."))
        _create_signature(locked, Party.CLIENT, signature, request=request, now=now)
        locked.status = AgreementStatus.SIGNED
        locked.save(update_fields=["status"])
        locked.signing_links.filter(used_at=None).update(used_at=now)
        _event(
            locked,
            Kind.SIGNED_BY_CLIENT,
            actor=Actor.CLIENT,
            actor_name=signature.name,
            request=request,
            detail=f"SHA-256 {locked.document_sha256}",
        )
        agreement_id = locked.pk
        transaction.on_commit(lambda: tasks.complete_agreement.enqueue(agreement_id))
    return locked


def agreement_client_decline(*, link, reason, request):
    with transaction.atomic():
        locked = _locked(link.agreement, AgreementStatus.SENT)
        link = SigningLink.objects.select_for_update().get(pk=link.pk)
        now = timezone.now()
        if not link.is_usable(now):
            raise ActionRefused(_("This link can no longer be used."))
        locked.status = AgreementStatus.DECLINED
        locked.decline_reason = reason
        locked.save(update_fields=["status", "decline_reason"])
        locked.signing_links.filter(used_at=None).update(used_at=now)
        _event(
            locked,
            Kind.DECLINED,
            actor=Actor.CLIENT,
            actor_name=locked.client_name,
            request=request,
            detail=reason,
        )
        transaction.on_commit(lambda: emails.send_declined(locked))
    return locked


def _create_signature(agreement, party, signature, *, request, now, declaration=None):
    return Signature.objects.create(
        agreement=agreement,
        declaration=declaration,
        party=party,
        name=signature.name,
        function=signature.function,
        place=signature.place,
        method=signature.method,
        image=signature.image,
        document_sha256=(declaration or agreement).document_sha256,
        signed_at=now,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )


# Completion ------------------------------------------------------------------------------


def agreement_complete(agreement_id):
    """Render the final PDF once (both signatures, the evidence page), seal it, store it
    with its SHA-256, and email it to both parties. Safe to run twice: the second run finds
    the agreement archived and does nothing."""
    with transaction.atomic():
        agreement = (
            Agreement.objects.select_for_update()
            .select_related("practice", "client")
            .get(pk=agreement_id)
        )
        if agreement.status != AgreementStatus.SIGNED or agreement.is_archived:
            return None
        _event(
            agreement,
            Kind.COMPLETED,
            actor=Actor.SYSTEM,
            actor_name=settings.SITE_NAME,
            detail=f"SHA-256 of the signed text {agreement.document_sha256}",
        )
        _seal_and_store(agreement, documents.render_final_pdf(agreement))
        transaction.on_commit(lambda: emails.send_completed(agreement_id))
    return agreement


def _seal_and_store(document, pdf):
    """Seal the final PDF of an agreement or a declaration and store it, once, with its
    SHA-256; from then on downloads serve this file."""
    sealed = seal_pdf(pdf)
    document.final_sha256 = sha256_hex(sealed)
    document.completed_at = timezone.now()
    document.final_pdf.save(f"{document.public_id}.pdf", ContentFile(sealed), save=False)
    document.save(update_fields=["final_pdf", "final_sha256", "completed_at"])


# Expiry and reminders --------------------------------------------------------------------


def expire_and_remind(*, now=None):
    """Expire agreements whose links all ran out; remind clients who have not signed yet.
    Run by a task or `manage.py signing_reminders` from cron; safe to run at any time."""
    now = now or timezone.now()
    expired = reminded = 0
    for agreement in Agreement.objects.filter(status=AgreementStatus.SENT):
        with transaction.atomic():
            locked = _locked(agreement)
            if locked.status != AgreementStatus.SENT:
                continue
            live = [
                link for link in locked.signing_links.select_for_update() if link.is_usable(now)
            ]
            if not live:
                locked.status = AgreementStatus.EXPIRED
                locked.save(update_fields=["status"])
                _event(locked, Kind.EXPIRED, actor=Actor.SYSTEM, actor_name=settings.SITE_NAME)
                expired += 1
                continue
            newest = max(live, key=lambda link: link.created_at)
            due = (newest.last_emailed_at or newest.created_at) + timedelta(
                days=settings.SIGNING_REMINDER_AFTER_DAYS
            )
            total_reminders = sum(link.reminders_sent for link in locked.signing_links.all())
            if due > now or total_reminders >= settings.SIGNING_MAX_REMINDERS:
                continue
            # The reminder carries a new link with the same end date; the earlier one keeps
            # working, so an older email is not suddenly dead.
            link, token = _issue_link(locked, expires_at=newest.expires_at, now=now)
            link.reminders_sent = total_reminders + 1
            link.save(update_fields=["reminders_sent"])
            _event(
                locked,
                Kind.REMINDED,
                actor=Actor.SYSTEM,
                actor_name=settings.SITE_NAME,
                detail=locked.client.email,
            )
            transaction.on_commit(
                lambda link=link, token=token: emails.send_invitation(link, token, reminder=True)
            )
            reminded += 1
    return expired, reminded


# Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    genuine: bool
    sealed_at: object = None


def verify_document(pdf_bytes):
    """Genuine when the file is, byte for byte, a final agreement in our archive and its seal
    is intact and ours."""
    from .models import Declaration

    digest = sha256_hex(pdf_bytes)
    known = (
        Agreement.objects.filter(final_sha256=digest).exists()
        or Declaration.objects.filter(final_sha256=digest).exists()
    )
    if not known:
        return Verification(genuine=False)
    try:
        sealed_at = verify_seal(pdf_bytes)
    except SealInvalid:
        return Verification(genuine=False)
    return Verification(genuine=True, sealed_at=sealed_at)


# The end ---------------------------------------------------------------------------------


def agreement_record_end(*, agreement, ended_on, request):
    """The coaching agreement ended, so this agreement ends with it (clause 2.3). Its row
    stays as signed; the end is a record of its own."""
    from .models import AgreementEnding

    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SIGNED)
        if AgreementEnding.objects.filter(agreement=locked).exists():
            raise ActionRefused(_("The end of this agreement is already recorded."))
        if ended_on < locked.agreement_date:
            raise ActionRefused(_("The agreement cannot end before it was made."))
        ending = AgreementEnding.objects.create(
            agreement=locked,
            coaching_ended_on=ended_on,
            recorded_by=request.user.get_username(),
        )
        _event(
            locked,
            Kind.ENDED,
            actor=Actor.COACH,
            actor_name=request.user.get_full_name(),
            request=request,
            detail=f"{ended_on:%Y-%m-%d}",
        )
    return ending


# The declaration of return or destruction (clause 9.3) -----------------------------------
# The same machinery as the agreement: a link, the client's signing page and signature, the
# seal and the evidence page. Only the document differs.


def declaration_send(*, agreement, disposition, data_description, done_on, method, request):
    """After the agreement ended, the coach sends the client the declaration to sign."""
    from .models import Declaration

    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SIGNED)
        if not hasattr(locked, "ending"):
            raise ActionRefused(_("Record the end of the agreement first."))
        if Declaration.objects.filter(agreement=locked).exists():
            raise ActionRefused(_("A declaration for this agreement was already sent."))
        now = timezone.now()
        declaration = Declaration(
            agreement=locked,
            disposition=disposition,
            data_description=data_description,
            done_on=done_on,
            method=method,
            sent_at=now,
        )
        pdf = documents.render_declaration_pdf(declaration)
        declaration.document_pdf = pdf
        declaration.document_sha256 = sha256_hex(pdf)
        declaration.full_clean()
        declaration.save()
        link, token = _issue_link(locked, declaration=declaration, now=now)
        _event(
            locked,
            Kind.DECLARATION_SENT,
            actor=Actor.COACH,
            actor_name=request.user.get_full_name(),
            request=request,
            detail=f"{locked.client.email}; SHA-256 {declaration.document_sha256}",
        )
        transaction.on_commit(lambda: emails.send_invitation(link, token))
    return declaration


def declaration_client_sign(*, link, signature, request):
    from . import tasks  # tasks.py imports this module
    from .models import Declaration

    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().get(pk=link.declaration_id)
        link = SigningLink.objects.select_for_update().get(pk=link.pk)
        now = timezone.now()
        if declaration.status != Declaration.Status.SENT or not link.is_usable(now):
            raise ActionRefused(_("This link can no longer be used."))
        agreement = declaration.agreement
        _create_signature(
            agreement, Party.CLIENT, signature, request=request, now=now, declaration=declaration
        )
        declaration.status = Declaration.Status.SIGNED
        declaration.save(update_fields=["status"])
        declaration.links.filter(used_at=None).update(used_at=now)
        _event(
            agreement,
            Kind.DECLARATION_SIGNED,
            actor=Actor.CLIENT,
            actor_name=signature.name,
            request=request,
            detail=f"SHA-256 {declaration.document_sha256}",
        )
        declaration_id = declaration.pk
        transaction.on_commit(lambda: tasks.complete_declaration.enqueue(declaration_id))
    return declaration


def declaration_complete(declaration_id):
    """Render, seal and store the signed declaration once, and email it to both."""
    from .models import Declaration

    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update()
            .select_related("agreement", "agreement__client")
            .get(pk=declaration_id)
        )
        if declaration.status != Declaration.Status.SIGNED or declaration.is_archived:
            return None
        _event(
            declaration.agreement,
            Kind.DECLARATION_COMPLETED,
            actor=Actor.SYSTEM,
            actor_name=settings.SITE_NAME,
            detail=f"SHA-256 of the signed text {declaration.document_sha256}",
        )
        _seal_and_store(declaration, documents.render_declaration_pdf(declaration, final=True))
        transaction.on_commit(lambda: emails.send_declaration_completed(declaration_id))
    return declaration
