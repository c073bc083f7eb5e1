"""The declaration moved onto the common signing path (migration agreements 0009) without
losing its data: its sealed file still verifies, its signature and link point at it, and its
events are still on its timeline."""

import datetime
import hashlib

import pytest
from django.db import connection
from django.utils import timezone

from avg_portal.pdf import render_pdf
from avg_portal.seal import seal_pdf

from .migrating import latest, migrate

BEFORE = [
    ("agreements", "0008_models_to_core_and_records"),
    ("core", "0001_initial"),
    ("records", "0001_initial"),
    ("breaches", "0002_practice_and_client_in_core"),
    ("avg_portal", "0002_practice_in_core"),
]


def simple_pdf(text):
    return render_pdf(f"<p>{text}</p>", title=text, author="test")


@pytest.fixture
def old_apps(transactional_db):
    apps = migrate(BEFORE).apps
    yield apps
    migrate(latest())


def test_an_existing_declaration_moves_onto_the_signing_path(old_apps, settings, tmp_path):
    Practice = old_apps.get_model("core", "Practice")
    Client = old_apps.get_model("core", "Client")
    Agreement = old_apps.get_model("agreements", "Agreement")
    Declaration = old_apps.get_model("agreements", "Declaration")
    Signature = old_apps.get_model("agreements", "Signature")
    SigningLink = old_apps.get_model("agreements", "SigningLink")
    AgreementEvent = old_apps.get_model("agreements", "AgreementEvent")

    sealed_agreement = seal_pdf(simple_pdf("De overeenkomst"))
    sealed_declaration = seal_pdf(simple_pdf("De verklaring"))
    sent = timezone.now() - datetime.timedelta(days=3)
    practice = Practice.objects.create(name="Praktijk", statutory_seat="Tilburg")
    client = Client.objects.create(
        practice=practice, name="Anna", residence="Breda", email="a@x.test"
    )
    agreement = Agreement.objects.create(
        practice=practice,
        client=client,
        status="signed",
        template_version="2026.1",
        agreement_date=datetime.date(2026, 1, 5),
        coaching_agreement_date=datetime.date(2026, 1, 5),
        penalty_per_violation=0,
        penalty_per_day=0,
        practice_name="Praktijk",
        practice_seat="Tilburg",
        client_name="Anna",
        client_residence="Breda",
        breach_contact_role="de coach",
        breach_contact_phone="0612345678",
        breach_contact_email="p@x.test",
        document_pdf=b"%PDF signed text",
        document_sha256="a" * 64,
        final_pdf="agreements/2026/01/a.pdf",
        final_sha256=hashlib.sha256(sealed_agreement).hexdigest(),
    )
    declaration = Declaration.objects.create(
        agreement=agreement,
        disposition="destroyed",
        data_description="Het dossier",
        done_on=datetime.date(2026, 6, 1),
        method="Verwijderd",
        status="signed",
        document_pdf=b"%PDF declaration",
        document_sha256="d" * 64,
        final_pdf="declarations/2026/06/d.pdf",
        final_sha256=hashlib.sha256(sealed_declaration).hexdigest(),
        sent_at=sent,
    )
    for party in ("practice", "client"):
        Signature.objects.create(
            agreement=agreement,
            party=party,
            name=party,
            function="",
            place="",
            method="typed",
            document_sha256="a" * 64,
        )
    Signature.objects.create(
        agreement=agreement,
        declaration=declaration,
        party="client",
        name="Anna",
        function="",
        place="",
        method="typed",
        document_sha256="d" * 64,
    )
    SigningLink.objects.create(
        agreement=agreement, declaration=declaration, token_sha256="1" * 64, expires_at=sent
    )
    SigningLink.objects.create(agreement=agreement, token_sha256="2" * 64, expires_at=sent)
    for kind, at in [
        ("created", sent - datetime.timedelta(days=30)),
        ("signed_client", sent - datetime.timedelta(days=29)),
        ("declaration_sent", sent),
        ("opened", sent + datetime.timedelta(hours=1)),
        ("declaration_signed", sent + datetime.timedelta(hours=2)),
    ]:
        AgreementEvent.objects.create(agreement=agreement, kind=kind, actor="system", at=at)

    migrate(latest())

    from agreements import signing
    from agreements.models import Agreement as NewAgreement
    from agreements.models import Declaration as NewDeclaration

    moved = NewDeclaration.objects.get(pk=declaration.pk)
    assert moved.kind == "declaration"
    assert moved.final_sha256 == hashlib.sha256(sealed_declaration).hexdigest()
    assert moved.document_sha256 == "d" * 64
    assert bytes(moved.document_pdf) == b"%PDF declaration"
    assert moved.final_pdf.name == "declarations/2026/06/d.pdf"
    assert moved.sent_at == sent
    assert [s.name for s in moved.signatures.all()] == ["Anna"]
    assert [link.token_sha256 for link in moved.signing_links.all()] == ["1" * 64]
    on_its_timeline = moved.document_events.values_list("kind", flat=True)
    assert sorted(on_its_timeline) == ["declaration_sent", "declaration_signed", "opened"]

    # The agreement made before the tally existed is counted (agreements.tally), and on
    # SQLite, whose migrations remade the agreements' table, the triggers are back.
    from agreements import tally

    assert tally.agreements_of(practice.pk) == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert set(tally.TRIGGERS) <= {name for (name,) in cursor.fetchall()}

    kept = NewAgreement.objects.get(pk=agreement.pk)
    assert kept.final_pdf.name == "agreements/2026/01/a.pdf"
    assert kept.signatures.count() == 2
    assert [link.token_sha256 for link in kept.signing_links.all()] == ["2" * 64]
    assert kept.events.count() == 5  # the agreement's timeline still holds every event
    assert signing.verify_document(sealed_declaration).genuine
    assert signing.verify_document(sealed_agreement).genuine
