"""Stored documents in a real S3-compatible bucket: moto's S3 server on loopback, reached over
HTTP through django-storages and boto3, as in production with `DJANGO_S3_BUCKET`.

`.ci/run` starts the server and names it in AVG_TEST_S3_ENDPOINT; without that variable
(`make test` on a developer's machine) these tests start one in a thread of their own. In CI
a missing server fails the run rather than skipping the tests."""

import datetime
import hashlib
import os
import urllib.request
import uuid
import zoneinfo

import pytest
from botocore.exceptions import ClientError
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agreements import archive
from agreements.models import Agreement, AgreementStatus, ProcessingActivity
from agreements.retention import add_period
from records import dossier_exports
from records.dossier_exports import remove_expired

from .test_archive import (
    REFUSAL,
    export_zip,
    manifest_sections,
    operator_mails,
    verify_archive_output,
)
from .test_signing import archived

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_once")]

ACCESS_KEY = SECRET_KEY = "testing"  # moto accepts any credentials
REGION = "eu-central-1"
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="session")
def s3_endpoint():
    """The S3 server's address: .ci/run's, or one started here for this test process."""
    endpoint = os.environ.get("AVG_TEST_S3_ENDPOINT")
    if endpoint:
        try:
            urllib.request.urlopen(endpoint, timeout=5).close()  # noqa: S310 - our own URL
        except OSError as error:
            pytest.fail(f"AVG_TEST_S3_ENDPOINT={endpoint} does not answer: {error}")
        yield endpoint
        return
    if os.environ.get("CI"):
        pytest.fail("CI runs the S3 tests against the server .ci/run starts: AVG_TEST_S3_ENDPOINT")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


class Bucket:
    """A fresh bucket of this test, seen directly through boto3 (not through the app)."""

    def __init__(self, endpoint, *, object_lock):
        self.client = s3_client(endpoint)
        self.name = f"avg-test-{uuid.uuid4().hex[:20]}"
        self.client.create_bucket(
            Bucket=self.name,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=object_lock,
        )

    def stored(self):
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key):
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def write(self, key, data):
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def head(self, key):
        return self.client.head_object(Bucket=self.name, Key=key)


def use_bucket(settings, endpoint, *, object_lock=False):
    """Point Django's default storage at a fresh bucket, configured as settings.py does for
    DJANGO_S3_BUCKET."""
    bucket = Bucket(endpoint, object_lock=object_lock)
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket.name,
                "endpoint_url": endpoint,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
    }
    return bucket


@pytest.fixture
def bucket(settings, s3_endpoint):
    settings.ADMINS = ["beheer@avg-portal.test"]
    return use_bucket(settings, s3_endpoint)


@pytest.fixture
def locked_bucket(settings, s3_endpoint):
    settings.S3_OBJECT_LOCK = True
    return use_bucket(settings, s3_endpoint, object_lock=True)


@pytest.fixture
def sealed(bucket, client, coach, django_capture_on_commit_callbacks):
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    assert agreement.is_archived
    mail.outbox.clear()
    return agreement


def test_the_storage_is_the_bucket(bucket):
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["default"], S3Storage)
    assert storages["default"].bucket_name == bucket.name


def test_a_sealed_agreement_is_stored_in_the_bucket_and_downloaded(sealed, bucket, coach_client):
    (key,) = bucket.stored()
    assert key == sealed.final_pdf.name
    assert key.endswith(f"{sealed.public_id}.pdf")
    stored = bucket.read(key)
    assert hashlib.sha256(stored).hexdigest() == sealed.final_sha256
    assert stored.startswith(b"%PDF")

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored

    ok, out, err = verify_archive_output()
    assert ok, err
    assert "1 files ok" in out and "0 seal invalid" in out


def test_a_tampered_object_is_refused_and_reported(sealed, bucket, coach_client):
    key = sealed.final_pdf.name
    data = bytearray(bucket.read(key))
    data[len(data) // 2] ^= 0x01
    bucket.write(key, bytes(data))

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 409
    assert REFUSAL in response.text
    assert bytes(data) not in response.content
    (alert,) = operator_mails()
    assert key in alert.body

    ok, out, err = verify_archive_output()
    assert not ok
    assert f"MISMATCHED: agreement {sealed.public_id} {key}" in err
    assert "1 mismatched" in out


def test_a_missing_object_is_reported_as_missing(sealed, bucket, coach_client):
    bucket.client.delete_object(Bucket=bucket.name, Key=sealed.final_pdf.name)

    response = coach_client.get(reverse("agreement_pdf", args=[sealed.public_id]))
    assert response.status_code == 409
    ok, out, err = verify_archive_output()
    assert not ok
    assert f"MISSING: agreement {sealed.public_id}" in err


def test_the_export_zip_holds_the_sealed_pdf_from_the_bucket(sealed, bucket, coach_client):
    archive_zip = export_zip(coach_client)
    (member,) = [
        name for name in archive_zip.namelist() if name.startswith("verwerkersovereenkomsten/")
    ]
    assert archive_zip.read(member) == bucket.read(sealed.final_pdf.name)
    included, omitted = manifest_sections(archive_zip)
    assert omitted == []
    assert [member, sealed.final_sha256] in [row[:2] for row in included]


def test_a_large_dossier_is_built_into_the_bucket_and_downloaded(
    sealed, bucket, coach, coach_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = dossier_exports.dossier_export_request(practice=coach.practice, email=coach.email)
    job.refresh_from_db()
    assert job.completed_at is not None
    assert job.file.name in bucket.stored()
    data = bucket.read(job.file.name)
    assert hashlib.sha256(data).hexdigest() == job.sha256

    url = reverse("export_download", args=[job.public_id])
    response = coach_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data

    # After its week the dossier goes from the bucket; the sealed PDF stays, and so do the
    # processing record's entries kept for the next export.
    assert remove_expired(now=job.expires_at) == 1
    assert [name for name in bucket.stored() if not name.startswith("renders/")] == [
        sealed.final_pdf.name
    ]


def test_storing_reads_back_from_the_bucket_and_leaves_nothing_on_a_mismatch(bucket, coach):
    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    data = b"%PDF-1.7\nsealed\n%%EOF\n"
    with pytest.raises(archive.ArchiveMismatch):
        archive.store_file(agreement.final_pdf, "x.pdf", archive.ContentFile(data), "0" * 64)
    assert bucket.stored() == []
    name = archive.store_file(
        agreement.final_pdf, "x.pdf", archive.ContentFile(data), hashlib.sha256(data).hexdigest()
    )
    assert bucket.stored() == [name]
    assert bucket.read(name) == data


# Object Lock ------------------------------------------------------------------------------


def expected_lock(agreement):
    """What the lock must be for the default Bijlage 1 rows: the invoices' 7 years after the
    end of the financial year, counted as if the agreement ended the day it was made."""
    end_of_year = datetime.date(agreement.agreement_date.year, 12, 31)
    return datetime.datetime.combine(
        add_period(end_of_year, 7, "year"), datetime.time.min, tzinfo=AMSTERDAM
    )


def test_a_sealed_pdf_is_locked_in_compliance_mode_until_its_retention_could_end(
    locked_bucket, client, coach, coach_client, django_capture_on_commit_callbacks
):
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    key = agreement.final_pdf.name
    head = locked_bucket.head(key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == expected_lock(agreement)
    # Never past the day the data may be erased: the real end is on or after this one.
    assert head["ObjectLockRetainUntilDate"].date() <= max(
        add_period(datetime.date(agreement.agreement_date.year, 12, 31), 7, "year"),
        add_period(agreement.agreement_date, 2, "year"),
    )

    # Not even the bucket's owner can delete that version, bypass or not.
    version = head["VersionId"]
    for bypass in (False, True):
        with pytest.raises(ClientError) as refused:
            locked_bucket.client.delete_object(
                Bucket=locked_bucket.name,
                Key=key,
                VersionId=version,
                BypassGovernanceRetention=bypass,
            )
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    version_bytes = locked_bucket.client.get_object(
        Bucket=locked_bucket.name, Key=key, VersionId=version
    )["Body"].read()
    assert hashlib.sha256(version_bytes).hexdigest() == agreement.final_sha256

    response = coach_client.get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert b"".join(response.streaming_content) == version_bytes
    ok, _out, err = verify_archive_output()
    assert ok, err


def test_the_declaration_is_locked_from_the_recorded_end(
    locked_bucket, client, coach, coach_client, django_capture_on_commit_callbacks
):
    from django.test import Client as Browser

    from agreements.models import Declaration

    from .signing_helpers import client_post, confirm_signer_code, token_from

    agreement = archived(coach, Browser(), django_capture_on_commit_callbacks)
    ended_on = timezone.localdate()
    coach_client.post(
        reverse("agreement_end", args=[agreement.public_id]), {"coaching_ended_on": ended_on}
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("declaration_send", args=[agreement.public_id]),
            {
                "data_description": "Sessieverslagen",
                "disposition": "destroyed",
                "done_on": ended_on.isoformat(),
                "method": "Bestanden verwijderd",
            },
        )
    (invitation,) = mail.outbox
    signer = Browser()
    signer.get(reverse("signing_open", args=[token_from(invitation)]))
    confirm_signer_code(signer)
    with django_capture_on_commit_callbacks(execute=True):
        signer.post(reverse("signing_page"), client_post())
    declaration = Declaration.objects.get()
    assert declaration.is_archived

    head = locked_bucket.head(declaration.final_pdf.name)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    # From the recorded end: the invoices' 7 years after the end of that financial year.
    end_of_year = datetime.date(ended_on.year, 12, 31)
    assert head["ObjectLockRetainUntilDate"] == datetime.datetime.combine(
        add_period(end_of_year, 7, "year"), datetime.time.min, tzinfo=AMSTERDAM
    )


def test_without_structured_periods_the_lock_runs_the_default_years(settings, coach):
    from .factories import make_agreement

    settings.S3_OBJECT_LOCK_DEFAULT_YEARS = 3
    agreement = make_agreement(coach.practice)
    ProcessingActivity.objects.filter(agreement=agreement).update(
        retention_amount=None, retention_unit="", retention_from=""
    )
    today = datetime.date(2027, 3, 1)
    assert archive.lock_until(agreement, today=today) == datetime.date(2030, 3, 1)

    # One structured row is enough: its earliest possible due date, whatever the others say.
    row = agreement.activities.order_by("position").first()
    ProcessingActivity.objects.filter(pk=row.pk).update(
        retention_amount=30, retention_unit="year", retention_from="agreement_end"
    )
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert archive.lock_until(agreement, today=today) == add_period(
        agreement.agreement_date, 30, "year"
    )
    # A period that has run out already: nothing to lock.
    ProcessingActivity.objects.filter(pk=row.pk).update(retention_amount=1, retention_unit="day")
    assert archive.lock_until(agreement, today=datetime.date(2100, 1, 1)) is None


def test_a_bucket_without_object_lock_makes_sealing_fail_and_records_nothing(
    settings, s3_endpoint, client, coach, django_capture_on_commit_callbacks
):
    settings.S3_OBJECT_LOCK = True
    bucket = use_bucket(settings, s3_endpoint, object_lock=False)
    from .signing_helpers import client_post, send_for_signing
    from .test_signing import open_link

    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    open_link(client, token)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signing_page"), client_post())
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    assert not agreement.is_archived and not agreement.final_pdf
    assert "Object Lock" in agreement.seal_error or "InvalidRequest" in agreement.seal_error
    # What was written is gone again: the current object is a delete marker.
    assert bucket.stored() == []


def test_dossier_exports_are_not_locked(
    locked_bucket, client, coach, django_capture_on_commit_callbacks
):
    archived(coach, client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        job = dossier_exports.dossier_export_request(practice=coach.practice, email=coach.email)
    job.refresh_from_db()
    assert "ObjectLockMode" not in locked_bucket.head(job.file.name)
    assert remove_expired(now=job.expires_at) == 1
    assert job.file.name not in locked_bucket.stored()


def test_with_the_setting_off_nothing_is_locked(
    settings, locked_bucket, client, coach, django_capture_on_commit_callbacks
):
    settings.S3_OBJECT_LOCK = False
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    assert "ObjectLockMode" not in locked_bucket.head(agreement.final_pdf.name)


def test_the_lock_setting_needs_a_bucket():
    import subprocess
    import sys

    env = os.environ | {"DJANGO_DEBUG": "1", "DJANGO_S3_OBJECT_LOCK": "1"}
    env.pop("DJANGO_S3_BUCKET", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env | {"DJANGO_SETTINGS_MODULE": "avg_portal.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_S3_OBJECT_LOCK needs DJANGO_S3_BUCKET" in result.stderr
