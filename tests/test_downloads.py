"""Stored files go out at the front server's speed after the access and integrity checks:
handed off with X-Accel-Redirect or X-Sendfile when configured, streamed otherwise; a file
that no longer matches its recorded SHA-256 is refused (409) either way."""

import datetime
import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from agreements import archive
from agreements.models import Agreement, AgreementStatus

from .conftest import login_verified
from .factories import make_agreement
from .test_s3 import s3_endpoint  # noqa: F401 (the moto server fixture)

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_once")]

SEALED = b"%PDF-1.7\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"


@pytest.fixture
def sealed(coach):
    """An archived agreement without rendering and sealing: a stored file and its hashes,
    written in one update past the model's guard, as the completion step would."""
    agreement = make_agreement(coach.practice)
    name = default_storage.save(f"agreements/test/{agreement.public_id}.pdf", ContentFile(SEALED))
    Agreement.objects.filter(pk=agreement.pk).update(
        status=AgreementStatus.SIGNED,
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(SEALED).hexdigest(),
        completed_at=timezone.now(),
    )
    return Agreement.objects.get(pk=agreement.pk)


@pytest.fixture
def hashes(monkeypatch):
    """The stored files hashed in full, by name."""
    hashed: list[str] = []
    real = archive.stored_sha256

    def counting(opened, name):
        hashed.append(name)
        return real(opened, name)

    monkeypatch.setattr(archive, "stored_sha256", counting)
    return hashed


def pdf_url(agreement):
    return reverse("agreement_pdf", args=[agreement.public_id])


def tamper(agreement):
    """One flipped byte in the stored file, its size unchanged."""
    path = Path(default_storage.path(agreement.final_pdf.name))
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))


def test_without_a_front_server_the_file_streams(sealed, coach_client, settings):
    settings.SENDFILE = ""

    response = coach_client.get(pdf_url(sealed))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == SEALED
    assert response["Content-Length"] == str(len(SEALED))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "X-Accel-Redirect" not in response


def test_x_accel_redirect_hands_the_file_to_the_front_server(sealed, coach_client, settings):
    settings.SENDFILE = "x-accel-redirect"
    settings.SENDFILE_PREFIX = "/protected/"

    response = coach_client.get(pdf_url(sealed))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{sealed.final_pdf.name}"
    assert response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")


def test_x_sendfile_names_the_files_path(sealed, coach_client, settings):
    settings.SENDFILE = "x-sendfile"

    response = coach_client.get(pdf_url(sealed))

    assert response["X-Sendfile"] == default_storage.path(sealed.final_pdf.name)
    assert Path(response["X-Sendfile"]).read_bytes() == SEALED
    assert response.content == b""


@pytest.mark.parametrize("mode", ["x-accel-redirect", ""])
def test_a_tampered_file_is_refused_under_any_hand_off(sealed, coach_client, settings, mode):
    settings.SENDFILE = mode
    assert coach_client.get(pdf_url(sealed)).status_code == 200

    tamper(sealed)
    response = coach_client.get(pdf_url(sealed))

    assert response.status_code == 409
    assert "X-Accel-Redirect" not in response
    assert SEALED[:200] not in response.content


def test_a_missing_file_is_refused(sealed, coach_client, settings):
    settings.SENDFILE = "x-accel-redirect"
    default_storage.delete(sealed.final_pdf.name)

    response = coach_client.get(pdf_url(sealed))

    assert response.status_code == 409
    assert "X-Accel-Redirect" not in response


def test_each_version_of_a_file_is_hashed_once(sealed, coach_client, settings, hashes):
    settings.SENDFILE = "x-accel-redirect"

    for _ in range(3):
        assert coach_client.get(pdf_url(sealed)).status_code == 200
    assert hashes == [sealed.final_pdf.name]

    tamper(sealed)
    assert coach_client.get(pdf_url(sealed)).status_code == 409
    assert coach_client.get(pdf_url(sealed)).status_code == 409
    # A changed file is a new version: hashed again, and refused each time.
    assert hashes == [sealed.final_pdf.name] * 3


def test_a_stranger_gets_nothing_handed_off(sealed, client, stranger, settings):
    settings.SENDFILE = "x-accel-redirect"
    login_verified(client, stranger)

    response = client.get(pdf_url(sealed))

    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response


def test_the_dossier_export_download_is_handed_off_too(coach, coach_client, settings):
    from records.models import DossierExport

    settings.SENDFILE = "x-accel-redirect"
    content = b"PK\x05\x06" + bytes(18)
    job = DossierExport.objects.create(practice=coach.practice, requested_by=coach.email)

    stored = archive.store_file(
        job.file, f"{job.public_id}.zip", ContentFile(content), hashlib.sha256(content).hexdigest()
    )
    now = timezone.now()
    DossierExport.objects.filter(pk=job.pk).update(
        file=stored,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        completed_at=now,
        expires_at=now + datetime.timedelta(days=7),
    )

    response = coach_client.get(reverse("export_download", args=[job.public_id]))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{stored}"
    assert response["Content-Type"] == "application/zip"


def test_in_a_bucket_the_download_redirects_to_a_short_lived_signed_url(
    coach,
    coach_client,
    settings,
    s3_endpoint,  # noqa: F811 (the fixture imported above)
):
    import urllib.request

    from .test_s3 import use_bucket

    bucket = use_bucket(settings, s3_endpoint)
    settings.SENDFILE = "signed-url"
    settings.SENDFILE_URL_SECONDS = 60
    agreement = make_agreement(coach.practice)
    name = default_storage.save(f"agreements/test/{agreement.public_id}.pdf", ContentFile(SEALED))
    Agreement.objects.filter(pk=agreement.pk).update(
        status=AgreementStatus.SIGNED,
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(SEALED).hexdigest(),
        completed_at=timezone.now(),
    )

    response = coach_client.get(pdf_url(agreement))

    assert response.status_code == 302
    assert "Expires=60" in response["Location"] or "X-Amz-Expires=60" in response["Location"]
    with urllib.request.urlopen(response["Location"]) as fetched:  # noqa: S310 (moto on loopback)
        assert fetched.read() == SEALED
        assert fetched.headers["Content-Disposition"].startswith("attachment; filename=")
    # A changed object is refused before any link is made.
    bucket.write(name, SEALED[:-1] + b"X")
    assert coach_client.get(pdf_url(agreement)).status_code == 409


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DJANGO_SENDFILE": "carrier-pigeon"}, "DJANGO_SENDFILE must be"),
        ({"DJANGO_SENDFILE": "signed-url"}, "needs DJANGO_S3_BUCKET"),
        ({"DJANGO_SENDFILE": "x-sendfile", "DJANGO_S3_BUCKET": "b"}, "documents on this disk"),
        ({"DJANGO_SENDFILE_LINK_SECRET": "k" * 40}, "needs DJANGO_SENDFILE=x-accel-redirect"),
        (
            {"DJANGO_SENDFILE": "x-accel-redirect", "DJANGO_SENDFILE_LINK_SECRET": "short"},
            "at least 32 letters",
        ),
        (
            {"DJANGO_SENDFILE": "x-accel-redirect", "DJANGO_SENDFILE_LINK_SECRET": '"' * 40},
            "at least 32 letters",
        ),
    ],
)
def test_the_hand_off_setting_refuses_nonsense(env, complaint):
    from .test_settings import PRODUCTION, manage

    result = manage("check", env=PRODUCTION | env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr
