"""A small archive made through the real code path, for the backup and restore drill
(deploy/restore-drill.sh): a practice and its coach, agreements the coach signs and sends and
the client signs through his link, each sealed and stored by the completion task; one
declaration of return or destruction signed the same way; one breach. Development only."""

import datetime
import io
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from agreements import signer_codes, signing
from agreements.actions import agreement_create_draft
from agreements.models import Agreement, Client, Declaration, SignableDocument
from agreements.signing import SignatureInput
from avg_portal.models import User
from breaches.actions import breach_create
from core.origin import Actor, Origin
from core.practices import practice_create

SAMPLE_DOMAIN = "drill.example.test"
LINK = re.compile(r"/sign/([A-Za-z0-9_-]{40,})/")
CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)
IN_MEMORY_MAIL = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


class Command(BaseCommand):
    help = (
        "Make a small signed and sealed archive (agreements, a declaration, a breach) through "
        "the app's services, for the restore drill. Runs only with DJANGO_DEBUG=1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agreements", type=int, default=3, help="how many (default 3)")
        parser.add_argument(
            "--coach",
            metavar="EMAIL",
            help="make the archive for this existing coach (default: a new sample practice)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("make_sample_archive makes sample data: it runs only in debug.")
        count: int = options["agreements"]
        if count < 1:
            raise CommandError("--agreements must be at least 1.")
        # The sample clients' addresses are not real: their links stay in this process.
        with override_settings(MAILERS=IN_MEMORY_MAIL):
            mail.outbox = []
            coach = self._existing_coach(options["coach"]) if options["coach"] else self._coach()
            agreements = [self._signed_agreement(coach, number) for number in range(count)]
            declaration = self._signed_declaration(coach, agreements[0])
            breach_create(
                practice=agreements[0].practice,
                origin=Origin.of_account(coach),
                summary="Drill: a USB stick with session notes was lost",
                discovered_at=timezone.now() - datetime.timedelta(hours=2),
                clients=[agreements[0].client],
            )
        documents: list[SignableDocument] = [*agreements, declaration]
        unsealed = [d.pk for d in documents if not d.is_archived]
        if unsealed:
            raise CommandError(
                f"{len(unsealed)} documents were signed but not sealed: is "
                "DJANGO_TASKS_BACKEND the immediate backend?"
            )
        self.stdout.write(
            f"made {count} agreements, 1 declaration and 1 breach: "
            f"{len(documents)} sealed documents"
        )

    def _existing_coach(self, email: str) -> User:
        coach = User.objects.filter(email__iexact=email, practice__isnull=False).first()
        if coach is None:
            raise CommandError(f"No coach with a practice has the email address {email}.")
        return coach

    def _coach(self) -> User:
        stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
        practice = practice_create(
            name="Coachpraktijk Oefening",
            statutory_seat="Utrecht",
            address="Oefenstraat 1, 3511 AA Utrecht",
            kvk_number="87654321",
            email=f"praktijk-{stamp}@{SAMPLE_DOMAIN}",
            phone="030 123 45 67",
            breach_contact_role="de coach",
            breach_contact_phone="06 12345678",
            breach_contact_email=f"privacy-{stamp}@{SAMPLE_DOMAIN}",
            default_penalty_per_violation=Decimal("2500.00"),
            default_penalty_per_day=Decimal("250.00"),
        )
        return User.objects.create_user(
            email=f"coach-{stamp}@{SAMPLE_DOMAIN}",
            password=None,
            full_name="Oefen Coach",
            practice=practice,
            email_confirmed_at=timezone.now(),
        )

    def _signed_agreement(self, coach: User, number: int) -> Agreement:
        assert coach.practice is not None
        client = Client.objects.create(
            practice=coach.practice,
            name=f"Cliënt {number + 1}",
            residence="Utrecht",
            email=f"client-{number + 1}@{SAMPLE_DOMAIN}",
        )
        agreement = agreement_create_draft(
            practice=coach.practice,
            client=client,
            origin=Origin.of_account(coach),
            coaching_agreement_date=timezone.localdate(),
        )
        agreement = signing.agreement_sign_and_send(
            agreement=agreement,
            signature=_signature(coach.get_full_name(), "Coach"),
            origin=Origin.of_account(coach),
        )
        self._client_signs(client.email, client.name)
        agreement.refresh_from_db()
        return agreement

    def _signed_declaration(self, user: User, agreement: Agreement) -> Declaration:
        coach = Origin.of_account(user)
        signing.agreement_record_end(
            agreement=agreement, ended_on=timezone.localdate(), origin=coach
        )
        declaration = signing.declaration_send(
            agreement=agreement,
            disposition="destroyed",
            data_description="Sessieverslagen",
            done_on=timezone.localdate(),
            method="Bestanden verwijderd",
            origin=coach,
        )
        self._client_signs(agreement.client.email, agreement.client.name)
        declaration.refresh_from_db()
        return declaration

    def _client_signs(self, address: str, name: str) -> None:
        """The client opens the last link mailed to him and signs, as the signing page does."""
        (message,) = [m for m in mail.outbox if address in m.to][-1:]
        found = LINK.search(str(message.body))
        if found is None:
            raise CommandError(f"No signing link in the email to {address}.")
        link = signing.link_for_token(found.group(1))
        if link is None:
            raise CommandError(f"The link mailed to {address} is unknown.")

        def origin() -> Origin:
            """Each step is a request of its own, with its own moment."""
            return Origin(actor=Actor.CLIENT, name=name, ip_address="127.0.0.1")

        signing.link_open(link=link, origin=origin())
        code = None
        if signer_codes.is_required(link):
            # He asks for a code, reads it in the second email, and types it in.
            signer_codes.signer_code_send(link=link, origin=origin())
            (code_message,) = [m for m in mail.outbox if address in m.to][-1:]
            digits = CODE.search(str(code_message.body))
            if digits is None:
                raise CommandError(f"No signing code in the email to {address}.")
            code = signer_codes.signer_code_confirm(
                link=link, entered=digits.group(1), origin=origin()
            )
        signing.client_sign(
            link=link, signature=_signature(name, "Cliënt"), origin=origin(), signer_code=code
        )


def _signature(name: str, function: str) -> SignatureInput:
    image = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(
        [(20, 100), (120, 30), (220, 110), (360, 40)], fill=(11, 42, 91, 255), width=4
    )
    png = io.BytesIO()
    image.save(png, "PNG")
    return SignatureInput(
        name=name, function=function, place="Utrecht", method="drawn", image=png.getvalue()
    )
