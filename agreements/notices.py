"""The emails of agreements and their signing, one function per message. Each renders its
message and queues it in the caller's transaction (`avg_portal.emails.queue`) under a purpose
below; what the mail server says reaches the handler registered for that purpose
(agreements/apps.py), which writes it on the evidence trail."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from avg_portal.emails import absolute_url, latest_message, queue, render_message
from avg_portal.models import OutboxMessage
from core.models import Practice

from . import archive
from .models import (
    Agreement,
    ConcreteDocument,
    SignerCode,
    SigningLink,
    Subprocessor,
    SubprocessorNotice,
)

# What each message is for; the handler finds its row by the message's subject_id: the
# link for invitations and reminders, the signable document's key for the others, the
# practice and day for a retention reminder.
INVITATION = "agreements.invitation"
REMINDER = "agreements.reminder"
DECLINED = "agreements.declined"
SEALED_TO_CLIENT = "agreements.sealed_to_client"
SEALED_TO_PRACTICE = "agreements.sealed_to_practice"
SEALING_DELAYED = "agreements.sealing_delayed"
RETENTION_REMINDER = "agreements.retention_reminder"
# subject_id: the SubprocessorNotice.
SUBPROCESSOR_CHANGE = "agreements.subprocessor_change"
SIGNER_CODE = "agreements.signer_code"


def agreement_url(agreement: Agreement) -> str:
    return absolute_url(reverse("agreement_detail", kwargs={"public_id": agreement.public_id}))


def _reply_to(practice: Practice) -> list[str]:
    return [practice.email] if practice.email else []


def send_invitation(
    document: ConcreteDocument,
    link: SigningLink,
    token: str,
    *,
    reminder: bool = False,
) -> OutboxMessage:
    """The client's personal link to read and sign, in his language, to the address the link
    records. The token travels only in this email; the database keeps its hash (and the
    outbox the message, until it is sent)."""
    agreement = document.dossier
    with translation.override(agreement.client.language):
        message = render_message(
            "signing_invitation",
            {
                "agreement": agreement,
                "words": document.signing_words(),
                "link": absolute_url(reverse("signing_open", kwargs={"token": token})),
                "expires_at": link.expires_at,
                "reminder": reminder,
            },
            to=[link.sent_to],
            reply_to=_reply_to(agreement.practice),
            on_behalf_of=agreement.practice_name,
        )
    return queue(message, purpose=REMINDER if reminder else INVITATION, subject_id=link.pk)


def send_signer_code(document: ConcreteDocument, code: SignerCode, digits: str) -> OutboxMessage:
    """The one-time code to sign with (agreements.signer_codes), in the client's language,
    to the address of his link, and deliberately without the link: the two travel apart.
    The digits wait in the outbox only until the message is sent."""
    agreement = document.dossier
    with translation.override(agreement.client.language):
        message = render_message(
            "signer_code",
            {
                "agreement": agreement,
                "words": document.signing_words(),
                "code": digits,
                "expires_at": code.expires_at,
            },
            to=[code.sent_to],
            reply_to=_reply_to(agreement.practice),
            on_behalf_of=agreement.practice_name,
        )
    return queue(message, purpose=SIGNER_CODE, subject_id=code.pk)


def link_email(link: SigningLink) -> OutboxMessage | None:
    """The email that carried this link, for its status on the agreement's page."""
    return latest_message([INVITATION, REMINDER], link.pk)


def send_declined(agreement: Agreement) -> OutboxMessage:
    message = render_message(
        "agreement_declined",
        {"agreement": agreement, "link": agreement_url(agreement)},
        to=agreement.practice.notice_recipients(),
    )
    return queue(message, purpose=DECLINED, subject_id=agreement.key)


def send_sealed_copies(
    document: ConcreteDocument,
) -> tuple[OutboxMessage, OutboxMessage]:
    """The sealed document to the client (in his language) and to the practice, attached:
    the stored file, checked against its recorded SHA-256."""
    agreement = document.dossier
    pdf = archive.read_verified(document.final_pdf, document.final_sha256)
    filename = document.download_name()
    with translation.override(agreement.client.language):
        to_client = render_message(
            document.COMPLETED_EMAIL,
            {"agreement": agreement, "document": document, "for_client": True},
            to=[agreement.client.email],
            reply_to=_reply_to(agreement.practice),
            on_behalf_of=agreement.practice_name,
        )
    to_client.attach(filename, pdf, "application/pdf")
    to_practice = render_message(
        document.COMPLETED_EMAIL,
        {
            "agreement": agreement,
            "document": document,
            "for_client": False,
            "link": agreement_url(agreement),
        },
        to=agreement.practice.notice_recipients(),
    )
    to_practice.attach(filename, pdf, "application/pdf")
    return (
        queue(to_client, purpose=SEALED_TO_CLIENT, subject_id=document.key),
        queue(to_practice, purpose=SEALED_TO_PRACTICE, subject_id=document.key),
    )


def send_retention_reminder(
    practice: Practice, rows: Sequence[Any], *, today: datetime.date
) -> OutboxMessage:
    """Tell the coach which Bijlage 1 rows are due for destruction soon or already."""
    message = render_message(
        "retention_reminder",
        {
            "practice": practice,
            "rows": rows,
            "today": today,
            "link": absolute_url(reverse("retention_list")),
        },
        to=practice.notice_recipients(),
    )
    return queue(message, purpose=RETENTION_REMINDER, subject_id=retention_subject(practice, today))


def retention_subject(practice: Practice, today: datetime.date) -> str:
    """A retention reminder is about the rows due for one practice as seen on one day."""
    return f"{practice.pk}/{today.isoformat()}"


def send_sealing_delayed(document: ConcreteDocument) -> OutboxMessage:
    """Tell the coach that the sealed PDF could not be made after repeated tries and that
    the operator is on it: she should not promise her client a copy that is not coming."""
    agreement = document.dossier
    message = render_message(
        "sealing_delayed",
        {
            "agreement": agreement,
            "words": document.signing_words(),
            "link": agreement_url(agreement),
        },
        to=agreement.practice.notice_recipients(),
    )
    return queue(message, purpose=SEALING_DELAYED, subject_id=document.key)


def send_subprocessor_change(
    notice: SubprocessorNotice, *, before: Mapping[str, Any] | None = None
) -> OutboxMessage:
    """Tell one client of an added, changed or ended sub-processor: what changes, from when,
    and how to object (Bijlage 4, clause 4.2), or, when one of his agreements has no Bijlage 4,
    a request for his consent (clause 3.4); in his language; replies go to the practice."""
    change = notice.change
    practice = change.practice
    agreements = list(notice.agreements.all())
    with translation.override(notice.client.language):
        message = render_message(
            "subprocessor_change",
            {
                "practice": practice,
                "client": notice.client,
                "change": change,
                "subprocessor": change.subprocessor,
                "rows": subprocessor_rows(change.subprocessor, before),
                "effective_on": change.effective_on,
                "with_supplement": any(a.with_supplement for a in agreements),
                "consent_needed": notice.consent_needed,
                "objection_address": practice.email,
            },
            to=[notice.sent_to],
            reply_to=_reply_to(practice),
            on_behalf_of=practice.name,
        )
    return queue(message, purpose=SUBPROCESSOR_CHANGE, subject_id=notice.pk)


def subprocessor_rows(
    subprocessor: Subprocessor, before: Mapping[str, Any] | None
) -> list[tuple[str, str, str | None]]:
    """The entry as (label, value, earlier value if it changed), in the active language."""
    eea = {True: gettext("outside the EEA"), False: gettext("inside the EEA")}
    now = {
        "name": subprocessor.name,
        "service": subprocessor.service,
        "data": subprocessor.data,
        "location": subprocessor.location,
        "outside_eea": eea[subprocessor.outside_eea],
        "transfer_safeguard": subprocessor.transfer_safeguard or "—",
    }
    earlier = (
        {
            **{name: str(before[name]) for name in ("name", "service", "data", "location")},
            "outside_eea": eea[bool(before["outside_eea"])],
            "transfer_safeguard": str(before["transfer_safeguard"]) or "—",
        }
        if before
        else {}
    )
    labels = {
        "name": gettext("Name"),
        "service": gettext("Service"),
        "data": gettext("Personal data"),
        "location": gettext("Location"),
        "outside_eea": gettext("EEA"),
        "transfer_safeguard": gettext("Safeguard for the transfer"),
    }
    return [
        (labels[name], value, earlier[name] if earlier.get(name, value) != value else None)
        for name, value in now.items()
    ]
