"""The record of processing activities (art. 30(2) GDPR) in the export: its columns, an
entry per controller and processing activity built from the annexes in force (an addendum's
included), transfers with their safeguards, and the PDF."""

import csv
import datetime
import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agreements.models import (
    Addendum,
    AddendumActivity,
    AddendumStatus,
    AgreementEnding,
    Subprocessor,
)
from records import art30

from .factories import make_client
from .test_export import download, fake_archived

pytestmark = pytest.mark.django_db

EXPECTED_COLUMNS = [
    "Verwerkingsverantwoordelijke",
    "Categorie van verwerking",
    "Verwerkersovereenkomst",
    "Contactgegevens verwerkingsverantwoordelijke",
    "Vertegenwoordiger of functionaris gegevensbescherming verwerkingsverantwoordelijke",
    "Verwerker",
    "Contactgegevens verwerker",
    "Vertegenwoordiger of functionaris gegevensbescherming verwerker",
    "Verwerkingsverantwoordelijke volgens Bijlage 1",
    "Bijlagen volgens",
    "Doeleinden",
    "Persoonsgegevens",
    "Subverwerkers",
    "Locatie",
    "Doorgifte naar landen buiten de EER en waarborgen",
    "Bewaartermijn",
    "Technische en organisatorische beveiligingsmaatregelen (Bijlage 2)",
    "Overeenkomst beëindigd op",
    "Bewaren tot",
]


def signed_addendum(agreement, *, effective_on, rows, **fields):
    """A signed, sealed addendum, stored as the completion step would store it."""
    pdf = b"%PDF-1.7\naddendum\n%%EOF\n"
    name = default_storage.save(f"addenda/test/{agreement.pk}.pdf", ContentFile(pdf))
    values = {
        "data_kind": agreement.data_kind,
        "data_subjects": agreement.data_subjects,
        "processing_purpose": agreement.processing_purpose,
        "storage": agreement.storage,
        "measures": list(agreement.measures),
        "extra_measures": agreement.extra_measures,
    } | fields
    addendum = Addendum.objects.create(
        agreement=agreement,
        number=1,
        status=AddendumStatus.SIGNED,
        effective_on=effective_on,
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(pdf).hexdigest(),
        completed_at=timezone.now(),
        **values,
    )
    for position, row in enumerate(rows):
        AddendumActivity.objects.create(addendum=addendum, **(row | {"position": position}))
    return addendum, pdf


def record_csv(archive):
    text = archive.read("verwerkingsregister.csv").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def pdf_text(data):
    pages = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(pages.split())


@pytest.fixture
def changed(coach):
    """A signed agreement whose Bijlage 1 and 2 an addendum changed, and a sub-processor
    outside the EEA that the addendum's new row picks from the register."""
    practice = coach.practice
    client = make_client(practice, "Bram de Vries", email="bram@example.test", phone="06 11122233")
    agreement = fake_archived(practice, client)
    cloud = Subprocessor.objects.create(
        practice=practice,
        name="Wolk Agenda Inc.",
        service="online agenda",
        data="naam, e-mailadres",
        location="Verenigde Staten",
        outside_eea=True,
        transfer_safeguard="EU-VS Data Privacy Framework",
        since=datetime.date(2026, 1, 1),
    )
    kept = agreement.activities.first()
    rows = [
        kept.copy_values(),
        {
            "description": "Afspraken plannen in een online agenda",
            "purposes": "Sessies plannen",
            "controller": "Bram de Vries",
            "processor": practice.name,
            "sub_processors": cloud.print_label(),
            "subprocessor_ids": [cloud.pk],
            "personal_data": "Naam, e-mailadres",
            "location": "Verenigde Staten",
            "retention": "1 jaar na het einde",
            "retention_amount": 1,
            "retention_unit": "year",
            "retention_from": "agreement_end",
        },
    ]
    addendum, pdf = signed_addendum(
        agreement,
        effective_on=timezone.localdate(),
        rows=rows,
        measures=[*agreement.measures, "privacy_screens"],
        extra_measures="Tweestapsverificatie op de agenda",
    )
    return agreement, addendum, pdf, kept


def test_record_columns_and_an_entry_from_an_addendum(coach, coach_client, changed):
    agreement, addendum, addendum_pdf, kept = changed
    archive = download(coach_client, reverse("export_practice"))
    rows = record_csv(archive)
    assert rows[0] == EXPECTED_COLUMNS
    entries = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    # The addendum's Bijlage 1 is in force: its two rows, not the agreement's three.
    assert [entry["Categorie van verwerking"] for entry in entries] == [
        kept.description,
        "Afspraken plannen in een online agenda",
    ]
    entry = entries[1]
    practice = coach.practice
    assert entry["Verwerkingsverantwoordelijke"] == "Bram de Vries"
    assert "bram@example.test" in entry["Contactgegevens verwerkingsverantwoordelijke"]
    assert "06 11122233" in entry["Contactgegevens verwerkingsverantwoordelijke"]
    assert "Breda" in entry["Contactgegevens verwerkingsverantwoordelijke"]
    assert entry["Verwerker"] == practice.name
    contact = entry["Contactgegevens verwerker"]
    for value in (practice.address, practice.email, practice.phone, practice.kvk_number):
        assert value in contact
    assert entry["Verwerkersovereenkomst"].startswith(f"Van {agreement.agreement_date:%d-%m-%Y}")
    assert entry["Bijlagen volgens"] == (
        f"Addendum 1, ondertekend, van kracht vanaf {addendum.effective_on:%d-%m-%Y}"
    )
    assert entry["Doorgifte naar landen buiten de EER en waarborgen"] == (
        "Wolk Agenda Inc. (Verenigde Staten): EU-VS Data Privacy Framework"
    )
    measures = entry["Technische en organisatorische beveiligingsmaatregelen (Bijlage 2)"]
    assert "Privacy screens medewerkers" in measures
    assert "Tweestapsverificatie op de agenda" in measures
    assert "Soort persoonsgegevens:" in measures
    assert entry["Overeenkomst beëindigd op"] == ""
    # The agreement's own first row had no register entry: its transfers come from its text.
    assert entries[0]["Doorgifte naar landen buiten de EER en waarborgen"].startswith(
        ("Geen subverwerkers", "Volgens Bijlage 1")
    )

    # The sealed addendum goes into the ZIP beside its agreement.
    (member,) = [name for name in archive.namelist() if name.startswith("addenda/")]
    assert archive.read(member) == addendum_pdf

    text = pdf_text(archive.read("verwerkingsregister.pdf"))
    assert "Register van verwerkingen" in text
    assert "Aantal verwerkingen: 2" in text
    assert "Bram de Vries · Afspraken plannen in een online agenda" in text
    assert "Wolk Agenda Inc. (Verenigde Staten): EU-VS Data Privacy Framework" in text
    assert "Contactgegevens verwerker" in text
    assert "Technische en organisatorische beveiligingsmaatregelen (Bijlage 2)" in text
    assert f"Addendum 1, ondertekend, van kracht vanaf {addendum.effective_on:%d-%m-%Y}" in text


def test_an_ended_agreement_shows_the_annexes_in_force_when_it_ended(changed):
    agreement, addendum, _pdf, _kept = changed
    # Ended the day before the addendum took effect: the agreement's own Bijlage 1 applied.
    AgreementEnding.objects.create(
        agreement=agreement, coaching_ended_on=addendum.effective_on - datetime.timedelta(days=1)
    )
    rows = list(art30.record_rows(type(agreement).objects.filter(pk=agreement.pk)))
    assert len(rows) == agreement.activities.count()
    assert {row[9] for row in rows} == {"De verwerkersovereenkomst zoals ondertekend"}
    assert art30.record_count(type(agreement).objects.filter(pk=agreement.pk)) == len(rows)


def test_a_stranger_cannot_export_it(client, stranger, changed):
    from .conftest import login_verified

    login_verified(client, stranger)
    archive = download(client, reverse("export_practice"))
    assert len(record_csv(archive)) == 1  # the header only: no entry of another practice
    assert not [name for name in archive.namelist() if name.startswith("addenda/")]
