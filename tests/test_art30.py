"""The record of processing activities (art. 30(2) GDPR) in the export: its columns, an
entry per controller and processing activity built from the annexes in force (an addendum's
included), transfers with their safeguards, and the PDF, whose entries are laid out when an
agreement is sealed or ends and joined at the export."""

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

from agreements import signing
from agreements.models import (
    Addendum,
    AddendumActivity,
    AddendumStatus,
    Agreement,
    AgreementEnding,
    Subprocessor,
)
from avg_portal import pdf
from core.origin import Origin
from records import art30

from .factories import make_client
from .pdf_reading import page_texts, pdf_text
from .test_export import download, fake_archived
from .test_signing import archived

pytestmark = [pytest.mark.django_db, pytest.mark.record_entries]

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
    # Its own running header on every page; no page numbers, which each joined piece would
    # count for itself; nothing of the breach documents it shares a stylesheet with.
    pages = page_texts(archive.read("verwerkingsregister.pdf"))
    assert all("Artikel 30 lid 2 AVG" in page for page in pages)
    assert "Datalek" not in text and "Pagina" not in text


def test_an_ended_agreement_shows_the_annexes_in_force_when_it_ended(changed):
    agreement, addendum, _pdf, _kept = changed
    # Ended the day before the addendum took effect: the agreement's own Bijlage 1 applied.
    AgreementEnding.objects.create(
        agreement=agreement, coaching_ended_on=addendum.effective_on - datetime.timedelta(days=1)
    )
    rows = list(art30.record_rows(type(agreement).objects.filter(pk=agreement.pk)))
    assert len(rows) == agreement.activities.count()
    assert {row[9] for row in rows} == {"De verwerkersovereenkomst zoals ondertekend"}


def test_a_stranger_cannot_export_it(client, stranger, changed):
    from .conftest import login_verified

    login_verified(client, stranger)
    archive = download(client, reverse("export_practice"))
    assert len(record_csv(archive)) == 1  # the header only: no entry of another practice
    assert not [name for name in archive.namelist() if name.startswith("addenda/")]


# Each agreement's entries, laid out when it is sealed -----------------------------------------


def kept_entries(agreement):
    """The kept files of an agreement's entries: {key: the entries' PDF text}."""
    from records import pdfjoin, record_entries

    folder = f"{pdf.RENDERS_FOLDER}/{record_entries.RECORD_ENTRIES}/{agreement.public_id}"
    if not default_storage.exists(folder):
        return {}
    kept = {}
    for name in default_storage.listdir(folder)[1]:
        with default_storage.open(f"{folder}/{name}", "rb") as stored:
            part = pdfjoin.Part.loads(stored.read())
        joined = b"".join(pdfjoin.join([part], title="t", author="a"))
        kept[name.removesuffix(record_entries.SUFFIX)] = pdf_text(joined)
    return kept


def current_key(agreement):
    from records import record_entries

    practice = agreement.practice
    ((_public_id, rows),) = art30.record_groups(type(agreement).objects.filter(pk=agreement.pk))
    return record_entries.entry_key(practice, rows)


def test_sealing_lays_out_the_entries_and_an_export_only_joins_them(
    coach, client, coach_client, django_capture_on_commit_callbacks, renders
):
    sealed = archived(coach, client, django_capture_on_commit_callbacks)

    # Kept once sealed, before any export: the text of what its rows are now.
    kept = kept_entries(sealed)
    assert list(kept) == [current_key(sealed)]
    (text,) = kept.values()
    assert "Zoë Ünal-Brontë ·" in text
    assert f"kenmerk{sealed.public_id}" in text.replace(" ", "")
    assert "Aantal verwerkingen" not in text  # the cover is no part of them

    renders.clear()
    archive = download(coach_client, reverse("export_practice"))
    # The export lays out only its cover, and joins the kept entries after it.
    assert len(renders) == 1 and "Aantal verwerkingen: 3" in renders[0]
    record = pdf_text(archive.read("verwerkingsregister.pdf"))
    assert record.index("Aantal verwerkingen: 3") < record.index(text)
    assert kept_entries(sealed) == kept


def test_an_ending_lays_out_the_entries_again(
    coach, client, django_capture_on_commit_callbacks, renders
):
    sealed = archived(coach, client, django_capture_on_commit_callbacks)
    (before,) = kept_entries(sealed)

    renders.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signing.agreement_record_end(
            agreement=sealed, ended_on=datetime.date(2027, 1, 31), origin=Origin.of_account(coach)
        )

    assert len(renders) == 1
    kept = kept_entries(sealed)
    # The new version only: the one it replaces is removed.
    assert list(kept) == [current_key(sealed)] and before not in kept
    assert "31-01-2027" in next(iter(kept.values()))


def test_a_failed_layout_neither_stops_the_seal_nor_the_export(
    coach, client, coach_client, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from records import record_entries

    real = record_entries.render_part

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(record_entries, "render_part", failing)
    sealed = archived(coach, client, django_capture_on_commit_callbacks)

    assert sealed.is_archived
    assert sealed.events.filter(kind="completed").exists()
    assert "Could not lay out the record entries" in caplog.text
    assert kept_entries(sealed) == {}

    # The export lays out what is missing, and keeps it.
    monkeypatch.setattr(record_entries, "render_part", real)
    archive = download(coach_client, reverse("export_practice"))
    record = pdf_text(archive.read("verwerkingsregister.pdf"))
    assert f"kenmerk{sealed.public_id}" in record.replace(" ", "")
    assert list(kept_entries(sealed)) == [current_key(sealed)]


def test_a_changed_entry_is_laid_out_again_at_the_export(coach, coach_client, renders):
    agreement = fake_archived(coach.practice, make_client(coach.practice, "Anna Jansen"))
    download(coach_client, reverse("export_practice"))
    (before,) = kept_entries(agreement)

    # Nothing announces a new address of the client: the key shows it changed.
    agreement.client.residence = "Zwolle"
    agreement.client.save(update_fields=["residence"])
    renders.clear()
    archive = download(coach_client, reverse("export_practice"))

    assert len(renders) == 2  # the cover, and Anna's entries
    assert "Woonplaats: Zwolle" in pdf_text(archive.read("verwerkingsregister.pdf"))
    assert list(kept_entries(agreement)) == [current_key(agreement)] != [before]


def test_a_damaged_kept_entry_is_laid_out_again(coach, coach_client, renders):
    from records import record_entries

    agreement = fake_archived(coach.practice, make_client(coach.practice, "Anna Jansen"))
    download(coach_client, reverse("export_practice"))
    key = current_key(agreement)
    name = (
        f"{pdf.RENDERS_FOLDER}/{record_entries.RECORD_ENTRIES}/{agreement.public_id}/"
        f"{key}{record_entries.SUFFIX}"
    )
    default_storage.delete(name)
    default_storage.save(name, ContentFile(b"%PDF-1.7 not a part"))
    renders.clear()

    archive = download(coach_client, reverse("export_practice"))

    assert len(renders) == 2
    assert "Anna Jansen ·" in pdf_text(archive.read("verwerkingsregister.pdf"))
    assert list(kept_entries(agreement)) == [key]


def test_joined_pdfs_keep_every_page_in_order():
    from records import pdfjoin

    documents = [
        pdf.render_pdf(
            f'<html lang="nl"><body><p>Stuk {n} één</p>'
            f'<p style="break-before: page">Stuk {n} twee</p></body></html>',
            title="Stuk",
            author="Praktijk",
        )
        for n in (1, 2)
    ]
    parts = [pdfjoin.Part.loads(pdfjoin.part_of(d).dumps()) for d in documents]

    joined = b"".join(pdfjoin.join(parts, title="Register van verwerkingen", author="Zoë"))

    reader = PdfReader(io.BytesIO(joined), strict=True)
    texts = [" ".join(page.split()) for page in page_texts(joined)]
    assert texts == ["Stuk 1 één", "Stuk 1 twee", "Stuk 2 één", "Stuk 2 twee"]
    assert reader.metadata.title == "Register van verwerkingen"
    assert reader.metadata.author == "Zoë"
    with pytest.raises(pdfjoin.PartError):
        pdfjoin.Part.loads(documents[0])


def test_a_sealed_addendum_lays_out_the_entries_again(
    coach, coach_client, django_capture_on_commit_callbacks
):
    from django.core import mail

    from .signing_helpers import token_from
    from .test_addenda import (
        NEW_ROW,
        client_signs,
        coach_signature,
        draft_changed,
        sealed_agreement,
    )

    sealed = sealed_agreement(coach, django_capture_on_commit_callbacks)
    (before,) = kept_entries(sealed)
    # In force from today: the record shows the addendum's Bijlage 1 once it is sealed.
    addendum = draft_changed(coach_client, sealed, add=NEW_ROW)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_send", args=[addendum.public_id]), coach_signature())
    (invitation,) = [m for m in mail.outbox if "addendum 1" in m.subject]
    client_signs(token_from(invitation), django_capture_on_commit_callbacks)
    addendum.refresh_from_db()
    assert addendum.is_archived

    kept = kept_entries(sealed)
    assert list(kept) == [current_key(sealed)] and before not in kept
    text = next(iter(kept.values()))
    assert "Afspraken plannen in een online agenda" in text
    assert "Addendum 1, ondertekend" in text


def test_the_entries_of_agreements_sealed_before_can_be_laid_out_at_once(coach, renders):
    from django.core.management import call_command

    agreements = [
        fake_archived(coach.practice, make_client(coach.practice, name))
        for name in ("Anna Jansen", "Bram de Vries")
    ]
    assert all(kept_entries(agreement) == {} for agreement in agreements)

    output = io.StringIO()
    call_command("record_entries", stdout=output)

    assert "2 agreement(s) laid out" in output.getvalue()
    assert [list(kept_entries(a)) for a in agreements] == [[current_key(a)] for a in agreements]
    renders.clear()
    call_command("record_entries", stdout=output)
    assert renders == []


def test_a_practices_data_protection_officer_is_named_in_the_record_and_the_breach_report(
    coach, coach_client
):
    """Art. 30(2)(a) and 33(3)(b): a practice that has one names its data protection officer
    (set on the practice page); without one, the record says so with a dash and the report
    leaves the line out."""
    from django.template.loader import render_to_string

    from breaches.documents import report_context

    from .test_breaches import log_breach
    from .test_export import fake_archived

    practice = coach.practice
    form = coach_client.get(reverse("practice_edit")).context["form"]
    values = {name: form[name].value() or "" for name in form.fields}
    dpo = "Mr. A. de Wit <fg@dewit-privacy.test>, 06 12345678"
    response = coach_client.post(
        reverse("practice_edit"), values | {"data_protection_officer": dpo}
    )
    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.data_protection_officer == dpo

    agreement = fake_archived(practice)
    column = art30.COLUMNS.index("Vertegenwoordiger of functionaris gegevensbescherming verwerker")
    (signed,) = art30.signed_agreements(Agreement.objects.filter(pk=agreement.pk))
    entries = art30.agreement_entries(signed, {})
    assert entries and all(entry[column] == dpo for entry in entries)
    # The register's heading names it too, also when no agreement is signed yet.
    from records.record_entries import render_html

    cover = render_html(practice, [], cover=True, total=0, part=1, parts=1)
    assert "Functionaris voor gegevensbescherming" in cover
    assert "Mr. A. de Wit &lt;fg@dewit-privacy.test&gt;" in cover

    breach = log_breach(practice, coach)
    html = render_to_string("pdf/breach/report.html", report_context(breach))
    assert "Functionaris voor gegevensbescherming" in html
    assert "Mr. A. de Wit &lt;fg@dewit-privacy.test&gt;" in html  # escaped, as all user text

    practice.data_protection_officer = ""
    practice.save()
    breach.refresh_from_db()
    html = render_to_string("pdf/breach/report.html", report_context(breach))
    assert "Functionaris voor gegevensbescherming" not in html
