"""The signer code: a 6-digit one-time code the client receives separately from his link and
types on the signing page before he can sign.

The link shows the client could open an email some time ago; the code shows he controls the
mailbox (or, with another channel, the phone) at the moment of signing, so a forwarded or
leaked link is not enough to sign. A practice can switch it off (`Practice.signer_code_required`).

A code is valid for ten minutes, survives five wrong tries, confirms once, and belongs to one
link: it is kept as an HMAC over the link, a salt of its own and the digits, keyed with the
secret key, and compared in constant time. Confirming it is a step of its own, recorded on the
evidence trail; the confirmation then serves one signature of the same browser session
(`require_confirmed`, called by `signing.client_sign`).

How the code travels is a channel (`SignerCodeChannel`), chosen by the SIGNER_CODE_CHANNEL
setting: email today; an SMS provider is one more class, and the signing flow stays as it is.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from avg_portal.models import OutboxMessage
from core.exceptions import ActionRefused
from core.origin import Origin

from . import notices
from .models import AgreementEvent, SignerCode, SigningLink

if TYPE_CHECKING:
    import datetime

DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# A confirmed code lets the session sign for this long: time to correct a field the form
# refused, not a standing permission.
CONFIRMATION_LIFETIME = timedelta(minutes=30)
DEFAULT_CHANNEL = "agreements.signer_codes.EmailChannel"

Kind = AgreementEvent.Kind
TOO_MANY_TRIES = gettext_noop("The code was entered wrongly too often. Ask for a new code.")


class SignerCodeRefused(ActionRefused):
    """The code was not accepted; the message says why and what to do, for the client."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# Channels ----------------------------------------------------------------------------------


class SignerCodeChannel(Protocol):
    """How a code reaches the client. `send` runs inside the transaction that made the code
    and must only queue the delivery (the outbox, or an on_commit call to a provider)."""

    name: str  # recorded on the code and in the evidence: "email", "sms", ...

    def recipient(self, link: SigningLink) -> str:
        """Where the code goes: an email address, a phone number."""
        ...

    def shown_recipient(self, recipient: str) -> str:
        """The recipient as the signing page shows it (partly hidden)."""
        ...

    def send(self, *, link: SigningLink, code: SignerCode, secret: str) -> None: ...


class EmailChannel:
    """The code by email, to the address the link was sent to: a second message, without
    the link, so that having the link alone is not enough."""

    name: ClassVar[str] = "email"

    def recipient(self, link: SigningLink) -> str:
        return link.sent_to or link.document.concrete().dossier.client.email

    def shown_recipient(self, recipient: str) -> str:
        local, _at, domain = recipient.partition("@")
        return f"{local[:1]}…@{domain}" if domain else recipient

    def send(self, *, link: SigningLink, code: SignerCode, secret: str) -> None:
        notices.send_signer_code(link.document.concrete(), code, secret)


def channel() -> SignerCodeChannel:
    path: str = getattr(settings, "SIGNER_CODE_CHANNEL", DEFAULT_CHANNEL)
    chosen: SignerCodeChannel = import_string(path)()
    return chosen


# The code ----------------------------------------------------------------------------------


def is_required(link: SigningLink) -> bool:
    """Whether the client of this link must confirm a code before he signs."""
    return bool(link.document.concrete().dossier.practice.signer_code_required)


def _mac(link_id: int, salt: str, digits: str) -> str:
    return salted_hmac(
        "agreements.signer_codes", f"{link_id}:{salt}:{digits}", algorithm="sha256"
    ).hexdigest()


def _matches(code: SignerCode, digits: str) -> bool:
    return hmac.compare_digest(code.code_hmac, _mac(code.link_id, code.salt, digits))


def normalise(entered: str) -> str:
    """The digits as typed, without the spaces or dashes people put in."""
    return "".join(entered.split()).replace("-", "")


def live_code(link: SigningLink, now: datetime.datetime | None = None) -> SignerCode | None:
    """The code the client can still type: the link's newest, unexpired, unconfirmed, with
    tries left. A newer code replaces every earlier one."""
    now = now or timezone.now()
    newest = link.signer_codes.order_by("-created_at", "-id").first()
    if (
        newest is None
        or newest.confirmed_at is not None
        or newest.expires_at <= now
        or newest.attempts >= MAX_ATTEMPTS
    ):
        return None
    return newest


def code_email_wanted(message: OutboxMessage) -> bool:
    """Whether the outbox should still send this code's email: not once the code expired or
    a newer one replaced it (the mail server may have been down for a while); the client
    would get a code that no longer works (`avg_portal.emails.wanted_while`)."""
    code = SignerCode.objects.filter(pk=message.subject_id).select_related("link").first()
    return code is not None and live_code(code.link) == code


def code_email(code: SignerCode) -> OutboxMessage | None:
    """The outbox row of a code's email, if it went by email."""
    return OutboxMessage.objects.filter(
        purpose=notices.SIGNER_CODE, subject_id=str(code.pk)
    ).first()


def signer_code_send(*, link: SigningLink, origin: Origin) -> SignerCode:
    """Make a new code for this link and send it by the configured channel; any earlier
    code of the link stops counting. The digits exist only here and in the message."""
    with transaction.atomic():
        link = SigningLink.objects.select_for_update().select_related("document").get(pk=link.pk)
        document = link.document.concrete()
        if not document.awaits_client_signature or not link.is_usable(origin.at):
            raise ActionRefused(_("This link can no longer be used."))
        if not is_required(link):
            raise ActionRefused(_("No code is needed to sign."))
        via = channel()
        digits = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        salt = secrets.token_hex(16)
        recipient = via.recipient(link)
        code = SignerCode.objects.create(
            link=link,
            channel=via.name,
            sent_to=recipient,
            salt=salt,
            code_hmac=_mac(link.pk, salt, digits),
            created_at=origin.at,
            expires_at=origin.at + CODE_LIFETIME,
        )
        document.dossier.log(
            Kind.SIGNER_CODE_SENT,
            origin,
            document=document,
            detail=f"{via.name} → {recipient}",
            at=origin.at,
        )
        via.send(link=link, code=code, secret=digits)
    return code


def signer_code_confirm(*, link: SigningLink, entered: str, origin: Origin) -> SignerCode:
    """Check the code the client typed against his link's current code. A wrong try is
    counted (and committed, also when the caller's work stops here); the right one is
    marked confirmed and recorded on the evidence trail. Raises SignerCodeRefused."""
    # The refusal is raised after the block: raised inside, it would roll back the count of
    # wrong tries along with everything else.
    with transaction.atomic():
        outcome = _check(link, normalise(entered), origin)
    if isinstance(outcome, SignerCodeRefused):
        raise outcome
    return outcome


def _replaced_code_matches(newest: SignerCode, digits: str) -> bool:
    """Whether the digits are those of one of the link's earlier codes (the last few)."""
    earlier = SignerCode.objects.filter(link_id=newest.link_id).exclude(pk=newest.pk)
    return any(_matches(code, digits) for code in earlier.order_by("-created_at", "-id")[:5])


def _check(link: SigningLink, digits: str, origin: Origin) -> SignerCode | SignerCodeRefused:
    newest = (
        SignerCode.objects.select_for_update()
        .filter(link=link)
        .order_by("-created_at", "-id")
        .first()
    )
    if newest is None:
        return SignerCodeRefused(
            _("Ask for a code first with the button “Send me a code”."), reason="none"
        )
    if newest.confirmed_at is not None:
        if _matches(newest, digits):
            return SignerCodeRefused(
                _("This code has already been used. Ask for a new code."), reason="used"
            )
        return SignerCodeRefused(
            _("This code is not correct, and there is no open code. Ask for a new code."),
            reason="wrong",
        )
    if newest.attempts >= MAX_ATTEMPTS:
        return SignerCodeRefused(_(TOO_MANY_TRIES), reason="exhausted")
    if newest.expires_at <= origin.at:
        return SignerCodeRefused(
            _("This code has expired: a code is valid for 10 minutes. Ask for a new code."),
            reason="expired",
        )
    if not _matches(newest, digits):
        newest.attempts += 1
        newest.save(update_fields=["attempts"])
        left = MAX_ATTEMPTS - newest.attempts
        if left == 0:
            return SignerCodeRefused(_(TOO_MANY_TRIES), reason="exhausted")
        if _replaced_code_matches(newest, digits):
            # With slow mail the email with the replaced code can arrive after the new one.
            return SignerCodeRefused(
                ngettext(
                    "This code was replaced by a newer one: use the code from the email"
                    " sent at %(time)s. You can try %(left)d more time.",
                    "This code was replaced by a newer one: use the code from the email"
                    " sent at %(time)s. You can try %(left)d more times.",
                    left,
                )
                % {"time": date_format(timezone.localtime(newest.created_at), "H:i"), "left": left},
                reason="replaced",
            )
        return SignerCodeRefused(
            ngettext(
                "This code is not correct. Check the latest email with a code and try"
                " again; you can try %(left)d more time.",
                "This code is not correct. Check the latest email with a code and try"
                " again; you can try %(left)d more times.",
                left,
            )
            % {"left": left},
            reason="wrong",
        )
    newest.confirmed_at = origin.at
    newest.save(update_fields=["confirmed_at"])
    document = link.document.concrete()
    document.dossier.log(
        Kind.SIGNER_CODE_CONFIRMED,
        origin,
        document=document,
        detail=f"{newest.channel} → {newest.sent_to}",
        at=origin.at,
    )
    return newest


def require_confirmed(
    *, link: SigningLink, code: SignerCode | None, now: datetime.datetime
) -> SignerCode | None:
    """The guard of `client_sign`: when the practice asks for a code, the signer must bring a
    code of this very link, confirmed not long ago and not yet used for a signature."""
    if not is_required(link):
        return None
    if code is None:
        raise SignerCodeRefused(
            _("Ask for a code with the button “Send me a code” and type it in before you sign."),
            reason="none",
        )
    fresh = SignerCode.objects.select_for_update().filter(pk=code.pk, link=link).first()
    if fresh is None or fresh.confirmed_at is None or fresh.signature_id is not None:
        raise SignerCodeRefused(_("This code cannot be used. Ask for a new code."), reason="used")
    if fresh.confirmed_at + CONFIRMATION_LIFETIME <= now:
        raise SignerCodeRefused(
            _("You confirmed your code too long ago. Ask for a new code."), reason="expired"
        )
    return fresh
