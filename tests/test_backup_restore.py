"""Backup and restore: the drill (deploy/restore-drill.sh) makes a small sealed archive in a
scratch PostgreSQL database, backs it up with deploy/backup.sh, restores it with
deploy/restore.sh into fresh databases and media folders and runs verify_archive there; the
document commands it uses are tested here on any database."""

import io
import os
import subprocess
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from . import test_s3

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = pytest.mark.usefixtures("render_once")

s3_endpoint = test_s3.s3_endpoint  # the S3 server fixture

ROOT = Path(__file__).resolve().parent.parent


def _server_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


def test_the_restore_drill_verifies_every_sealed_document_and_catches_a_damaged_one():
    if connection.vendor != "postgresql":
        pytest.skip("the drill restores PostgreSQL dumps; CI runs this on PostgreSQL")
    environment = os.environ | {
        "DRILL_PG": _server_url(),
        "DRILL_AGREEMENTS": "2",
        "DRILL_DAMAGED": "1",
    }
    drill = subprocess.run(
        [ROOT / "deploy" / "restore-drill.sh"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    output = drill.stdout
    assert drill.returncode == 0, output + drill.stderr
    # Two agreements and one declaration, sealed; backed up, restored and verified.
    assert "made 2 agreements, 1 declaration and 1 breach: 3 sealed documents" in output
    assert "restored 3 documents, 0 were already there with the same bytes" in output
    assert (
        "checked 3 files and 2 evidence chains: 3 files ok, 0 mismatched, 0 missing, "
        "0 seal invalid, 0 evidence expired, 0 chain broken"
    ) in output
    assert "drill: OK: 3 of 3 sealed documents verified after the restore" in output
    # A backup of a damaged document does not restore quietly.
    assert "checked 3 files and 2 evidence chains: 2 files ok, 1 mismatched" in output
    assert "MISMATCHED: agreement " in output
    assert "drill: the damaged document was caught" in output


def use_storage(settings, folder: Path) -> None:
    settings.MEDIA_ROOT = folder
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        }
    }


def content(number: int) -> bytes:
    return f"%PDF-1.7 document {number}".encode()


@pytest.fixture
def stored(settings, tmp_path):
    use_storage(settings, tmp_path / "media")
    names = ["agreements/2026/11/a.pdf", "declarations/2026/11/b.pdf", "exports/c.zip"]
    for number, name in enumerate(names):
        default_storage.save(name, ContentFile(content(number)))
    return names


def test_documents_go_into_a_tar_and_back_into_a_fresh_storage(stored, settings, tmp_path):
    # Kept renders are a cache, laid out again when missing: not backed up.
    default_storage.save("renders/processing-record/x/entry.part", ContentFile(b"cache"))
    default_storage.save("renders/agreement-drafts/y/draft.pdf", ContentFile(b"%PDF cache"))
    tar_file = tmp_path / "documents.tar"
    call_command("backup_documents", str(tar_file), stdout=io.StringIO())
    with tarfile.open(tar_file) as tar:
        assert sorted(tar.getnames()) == stored

    use_storage(settings, tmp_path / "restored")
    out = io.StringIO()
    call_command("restore_documents", str(tar_file), stdout=out)
    assert "restored 3 documents, 0 were already there" in out.getvalue()
    for number, name in enumerate(stored):
        assert (tmp_path / "restored" / name).read_bytes() == content(number)

    # Again: everything is there already, with the same bytes.
    out = io.StringIO()
    call_command("restore_documents", str(tar_file), stdout=out)
    assert "restored 0 documents, 3 were already there with the same bytes" in out.getvalue()


def test_a_restore_never_overwrites_a_stored_document(stored, settings, tmp_path):
    tar_file = tmp_path / "documents.tar"
    call_command("backup_documents", str(tar_file), stdout=io.StringIO())
    (tmp_path / "media" / stored[0]).write_bytes(b"something else")
    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 documents differ from the backup"):
        call_command("restore_documents", str(tar_file), stdout=io.StringIO(), stderr=errors)
    assert f"DIFFERENT: {stored[0]}" in errors.getvalue()
    assert (tmp_path / "media" / stored[0]).read_bytes() == b"something else"


def test_a_backup_never_overwrites_an_earlier_one(stored, tmp_path):
    tar_file = tmp_path / "documents.tar"
    tar_file.write_bytes(b"an earlier backup")
    with pytest.raises(FileExistsError):
        call_command("backup_documents", str(tar_file), stdout=io.StringIO())
    assert tar_file.read_bytes() == b"an earlier backup"


def test_a_restore_refuses_names_outside_the_storage(settings, tmp_path):
    use_storage(settings, tmp_path / "media")
    tar_file = tmp_path / "evil.tar"
    with tarfile.open(tar_file, "w") as tar:
        info = tarfile.TarInfo("../outside.pdf")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"pdf"))
    with pytest.raises(CommandError, match="Refusing the name"):
        call_command("restore_documents", str(tar_file), stdout=io.StringIO())
    assert not (tmp_path / "outside.pdf").exists()


def test_documents_restore_into_a_fresh_locked_bucket_with_their_locks(
    settings, s3_endpoint, client, coach, django_capture_on_commit_callbacks, tmp_path
):
    from .test_s3 import expected_lock, use_bucket
    from .test_signing import archived

    settings.S3_OBJECT_LOCK = True
    first = use_bucket(settings, s3_endpoint, object_lock=True)
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    tar_file = tmp_path / "documents.tar"
    call_command("backup_documents", str(tar_file), stdout=io.StringIO())

    fresh = use_bucket(settings, s3_endpoint, object_lock=True)
    out = io.StringIO()
    call_command("restore_documents", str(tar_file), stdout=out)
    assert "restored 1 documents" in out.getvalue()
    assert "locked 1 sealed documents (compliance)" in out.getvalue()
    assert fresh.stored() == first.stored() == [agreement.final_pdf.name]
    head = fresh.head(agreement.final_pdf.name)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == expected_lock(agreement)
    assert fresh.read(agreement.final_pdf.name) == first.read(agreement.final_pdf.name)
    report = io.StringIO()
    call_command("verify_archive", stdout=report)
    assert "1 files ok, 0 mismatched, 0 missing" in report.getvalue()
