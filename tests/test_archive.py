"""Every stored file is checked against its recorded SHA-256 before it is served or exported;
a tampered or missing file is refused clearly, logged, reported to the operators, named in
the export's manifest and by `manage.py verify_archive`. Stored files are written atomically."""

import csv
import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agreements import archive
from agreements.models import Agreement, AgreementStatus
from avg_portal.models import SecurityEvent
from core.immutability import lawful_removal
from core.origin import Origin
from records import dossier_exports
from records.models import DossierExport

from .conftest import stored_pdf
from .test_signing import archived

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_once")]

OPERATOR = "beheer@avg-portal.test"
REFUSAL = "Dit bestand komt niet meer overeen met het archief; de beheerder is ingelicht."


@pytest.fixture(autouse=True)
def _operators(settings):
    settings.ADMINS = [OPERATOR]


@pytest.fixture
def sealed(client, coach, django_capture_on_commit_callbacks):
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return agreement


def stored_path(document):
    return Path(default_storage.path(document.final_pdf.name))


def tamper(document):
    path = stored_path(document)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return bytes(data)


def operator_mails():
    return [message for message in mail.outbox if "failed its check" in message.subject]


def export_zip(coach_client):
    response = coach_client.get(reverse("export_practice"))
    assert response.status_code == 200
    archive_zip = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive_zip.testzip() is None
    return archive_zip


def manifest_sections(archive_zip):
    """The manifest's rows of included files, and those of the files left out."""
    text = archive_zip.read("manifest.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if [] in rows:
        split = rows.index([])
        return rows[1:split], rows[split + 1 :]
    return rows[1:], []


def verify_archive_output():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_archive", stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


def test_a_healthy_archive_verifies_and_is_served(sealed, coach_client):
    ok, out, err = verify_archive_output()
    assert ok, err
    assert "checked 1 files and 1 evidence chains: 1 files ok" in out
    assert "0 mismatched, 0 missing, 0 seal invalid, 0 evidence expired, 0 chain broken" in out

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored_pdf(sealed)
    assert response["Content-Disposition"] == (
        'attachment; filename="verwerkersovereenkomst-zoe-unal-bronte-'
        f"{sealed.agreement_date:%Y-%m-%d}.pdf\"; filename*=UTF-8''verwerkersovereenkomst-"
        f"zo%C3%AB-%C3%BCnal-bront%C3%AB-{sealed.agreement_date:%Y-%m-%d}.pdf"
    )
    _included, omitted = manifest_sections(export_zip(coach_client))
    assert omitted == []
    assert not SecurityEvent.objects.filter(kind="archive_mismatch").exists()


def test_a_tampered_file_is_refused_logged_reported_and_left_out(sealed, coach, coach_client):
    page = coach_client.get(reverse("agreement_detail", args=[sealed.public_id]))
    assert "kan niet meer veranderen" in page.text and "alert-danger" not in page.text
    altered = tamper(sealed)

    # The agreement's page no longer calls it unchangeable.
    page = coach_client.get(reverse("agreement_detail", args=[sealed.public_id]))
    assert "komt niet meer overeen met de vingerafdruk" in page.text
    assert "kan niet meer veranderen" not in page.text

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 409
    assert REFUSAL in response.text
    assert altered not in response.content
    event = SecurityEvent.objects.get(kind="archive_mismatch")
    assert event.user == coach
    (alert,) = operator_mails()
    assert sealed.final_pdf.name in alert.body
    assert str(sealed.public_id) in alert.subject
    # Asked for again: logged again, but the operators have their mail already (one an hour).
    assert coach_client.get(reverse("agreement_pdf", args=[sealed.public_id])).status_code == 409
    assert len(operator_mails()) == 1

    archive_zip = export_zip(coach_client)
    assert not any(name.startswith("verwerkersovereenkomsten/") for name in archive_zip.namelist())
    assert any(name.startswith("bewijs/") for name in archive_zip.namelist())
    included, omitted = manifest_sections(archive_zip)
    assert altered not in b"".join(archive_zip.read(name) for name, *_ in included)
    ((name, recorded, reason),) = omitted[1:]
    assert name.startswith("verwerkersovereenkomsten/") and name.endswith(".pdf")
    assert recorded == sealed.final_sha256 != hashlib.sha256(altered).hexdigest()
    assert "komt niet overeen" in reason
    assert SecurityEvent.objects.filter(kind="archive_mismatch").count() == 3

    ok, _out, err = verify_archive_output()
    assert not ok
    assert f"MISMATCHED: agreement {sealed.public_id} {sealed.final_pdf.name}" in err
    assert "1 mismatched" in _out


def test_a_missing_file_gives_a_clear_page_and_a_whole_zip(sealed, coach_client):
    stored_path(sealed).unlink()

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 409
    assert REFUSAL in response.text
    assert SecurityEvent.objects.filter(kind="archive_mismatch").count() == 1
    assert len(operator_mails()) == 1

    _included, omitted = manifest_sections(export_zip(coach_client))
    ((_name, recorded, reason),) = omitted[1:]
    assert (recorded, reason) == (sealed.final_sha256, "ontbreekt in de opslag")

    ok, out, err = verify_archive_output()
    assert not ok
    assert f"MISSING: agreement {sealed.public_id} {sealed.final_pdf.name}" in err
    assert "1 missing" in out


def test_an_edited_event_breaks_the_chain(sealed):
    event = sealed.events.order_by("id")[1]
    # The database refuses edits of evidence; the lawful way past is the only one there is.
    with (
        lawful_removal(reason="test: tamper with an event", origin=Origin.system()),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE agreements_agreementevent SET detail = %s WHERE id = %s",
            ["edited afterwards", event.pk],
        )

    ok, out, err = verify_archive_output()
    assert not ok
    assert f"CHAIN BROKEN: agreement {sealed.public_id}: event {event.pk}" in err
    assert "1 chain broken" in out
    assert "1 problem in the archive" in err
    # The operators hear of it, as of a file that fails its check when served.
    (alert,) = [m for m in mail.outbox if m.subject.endswith("Archive check: 1 problem")]
    assert f"CHAIN BROKEN: agreement {sealed.public_id}" in alert.body
    # The file itself is untouched.
    assert "1 files ok" in out


def test_a_file_whose_record_was_forged_to_match_fails_the_seal_check(sealed):
    forged = b"%PDF-1.7\nforged\n%%EOF\n"
    stored_path(sealed).write_bytes(forged)
    with lawful_removal(reason="test: forge the record", origin=Origin.system()):
        Agreement.objects.filter(pk=sealed.pk).update(
            final_sha256=hashlib.sha256(forged).hexdigest()
        )
    ok, out, err = verify_archive_output()
    assert not ok
    assert f"SEAL INVALID: agreement {sealed.public_id} {sealed.final_pdf.name}" in err
    assert "1 seal invalid" in out


def test_storing_reads_back_and_leaves_nothing_on_failure(coach, monkeypatch):
    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    data = b"%PDF-1.7\nsealed\n%%EOF\n"
    original_save = FileSystemStorage._save

    def full_disk(self, name, content):
        # Half the file reaches the disk, then the disk is full.
        Path(self.path(name)).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path(name)).write_bytes(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        archive.store_file(
            agreement.final_pdf, "x.pdf", ContentFile(data), hashlib.sha256(data).hexdigest()
        )
    assert _stored_files() == []

    # Bytes that do not read back as the hash says are refused and removed as well.
    monkeypatch.setattr(FileSystemStorage, "_save", original_save)
    with pytest.raises(archive.ArchiveMismatch):
        archive.store_file(agreement.final_pdf, "x.pdf", ContentFile(data), "0" * 64)
    assert _stored_files() == []

    name = archive.store_file(
        agreement.final_pdf, "x.pdf", ContentFile(data), hashlib.sha256(data).hexdigest()
    )
    assert _stored_files() == [name]
    agreement.final_pdf.name = name
    assert archive.read_verified(agreement.final_pdf, hashlib.sha256(data).hexdigest()) == data


def _stored_files():
    root = Path(default_storage.location)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_large_dossier_is_stored_verified_and_checked_on_download(
    sealed, coach, coach_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = dossier_exports.dossier_export_request(practice=coach.practice, email=coach.email)
    job.refresh_from_db()
    assert job.completed_at is not None
    with job.file.open("rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == job.sha256
    url = reverse("export_download", args=[job.public_id])
    response = coach_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data

    Path(default_storage.path(job.file.name)).write_bytes(data[:-10])
    response = coach_client.get(url)
    assert response.status_code == 409
    assert REFUSAL in response.text
    ok, _out, err = verify_archive_output()
    assert not ok
    assert f"MISMATCHED: dossier export {job.public_id}" in err


def test_asking_again_while_the_dossier_is_made_builds_it_once(
    coach, django_capture_on_commit_callbacks
):
    """A second request (a double click) while the export is still being made gets that
    export; once it is done, or stuck for over an hour, a request starts a new one."""
    request = dossier_exports.dossier_export_request
    with django_capture_on_commit_callbacks(execute=True):
        first = request(practice=coach.practice, email=coach.email)
        again = request(practice=coach.practice, email=coach.email)
    assert again == first
    assert DossierExport.objects.filter(practice=coach.practice).count() == 1
    first.refresh_from_db()
    assert first.completed_at is not None
    assert [m.to for m in mail.outbox] == [[coach.email]]

    stuck = DossierExport.objects.create(
        practice=coach.practice,
        requested_by=coach.email,
        requested_at=timezone.now() - dossier_exports.PENDING_FOR - timedelta(minutes=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        fresh = request(practice=coach.practice, email=coach.email)
    assert fresh not in (first, stuck)
    fresh.refresh_from_db()
    assert fresh.completed_at is not None


def test_a_failed_dossier_write_leaves_no_file_and_no_completed_row(coach, monkeypatch):
    job = DossierExport.objects.create(practice=coach.practice, requested_by=coach.email)

    def full_disk(self, name, content):
        Path(self.path(name)).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path(name)).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    with pytest.raises(OSError):
        dossier_exports.dossier_export_build(job.pk)
    job.refresh_from_db()
    assert job.completed_at is None and not job.file
    assert _stored_files() == []


def test_signed_but_not_sealed_is_served_only_as_an_unsigned_copy(coach, coach_client):
    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    Agreement.objects.filter(pk=agreement.pk).update(
        status=AgreementStatus.SIGNED, document_pdf=b"%PDF-1.7\ntext\n%%EOF\n", document_sha256="a"
    )
    response = coach_client.get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="verwerkersovereenkomst-zoe-unal-bronte-'
        f'{agreement.agreement_date:%Y-%m-%d}-ongetekende-kopie.pdf"; filename*=UTF-8'
    )
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    assert "Download ongetekende kopie" in page
    assert "De verzegelde PDF wordt gemaakt" in page

    Agreement.objects.filter(pk=agreement.pk).update(
        seal_attempts=5, seal_alerted_at=timezone.now() - timedelta(minutes=1)
    )
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    assert "de beheerder is ingelicht" in page


def test_a_stranger_cannot_download_another_practices_dossier(sealed, coach, client, stranger):
    from .conftest import login_verified

    job = dossier_exports.dossier_export_request(practice=coach.practice, email=coach.email)
    login_verified(client, stranger)
    assert client.get(reverse("export_download", args=[job.public_id])).status_code == 404
