"""Nothing is sealed with a seal certificate that has expired or is not valid yet, and a seal
made with one is not reported genuine: pyHanko does not check the dates of a certificate it
is given as a trust anchor, and the seal certificate is one."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from agreements import signing
from agreements.models import SignableDocument
from avg_portal import health, seal
from avg_portal.pdf import render_pdf

from .signing_helpers import signed_by_both
from .test_seal_ltv import issued_seal_certificate

pytestmark = pytest.mark.usefixtures("render_once")

OUTSIDE = {"expired": (-400, -10), "not yet valid": (10, 400)}


@pytest.fixture(params=OUTSIDE)
def invalid_seal(request, settings, tmp_path):
    files = issued_seal_certificate(
        tmp_path,
        **dict(zip(["valid_from_days", "valid_until_days"], OUTSIDE[request.param], strict=True)),
    )
    settings.SEAL_CERT_FILE = files["DJANGO_SEAL_CERT_FILE"]
    settings.SEAL_KEY_FILE = files["DJANGO_SEAL_KEY_FILE"]
    settings.TSA_URLS = []
    return files


def _pdf():
    return render_pdf("<p>Verwerkersovereenkomst</p>", title="t", author="a")


def test_nothing_is_sealed_outside_the_certificates_validity(invalid_seal):
    with pytest.raises(seal.SealCertificateNotValid):
        seal.seal_pdf(_pdf())


def test_a_seal_made_outside_its_certificates_validity_is_not_genuine(invalid_seal):
    # Made past the app's own refusal, as an older version or another tool could have.
    made = seal._sign(_pdf(), seal._metadata("test"), None)
    with pytest.raises(seal.SealInvalid, match="validity"):
        seal.verify_seal(made)


def test_a_valid_certificate_seals_and_verifies(settings, tmp_path):
    files = issued_seal_certificate(tmp_path)
    settings.SEAL_CERT_FILE = files["DJANGO_SEAL_CERT_FILE"]
    settings.SEAL_KEY_FILE = files["DJANGO_SEAL_KEY_FILE"]
    settings.TSA_URLS = []
    assert seal.verify_seal(seal.seal_pdf(_pdf())) is not None


@pytest.mark.django_db
def test_a_signed_agreement_waits_for_a_valid_certificate(
    invalid_seal, settings, tmp_path, coach, django_capture_on_commit_callbacks
):
    """The client signs while the certificate is not valid: the agreement is not sealed,
    nothing is stored or emailed as sealed; with a valid certificate it is sealed once."""
    signed_by_both(coach, django_capture_on_commit_callbacks)
    document = SignableDocument.objects.get().concrete()
    assert document.is_signed and not document.is_archived and not document.final_pdf
    # Written down for the coach's page and the recovery sweep, which tries again.
    assert document.seal_error.startswith("SealCertificateNotValid: The seal certificate is")
    files = issued_seal_certificate(tmp_path)
    settings.SEAL_CERT_FILE = files["DJANGO_SEAL_CERT_FILE"]
    settings.SEAL_KEY_FILE = files["DJANGO_SEAL_KEY_FILE"]
    with django_capture_on_commit_callbacks(execute=True):
        signing.complete(document.key)
    document.refresh_from_db()
    assert document.is_archived
    assert seal.verify_seal(bytes(document.final_pdf.read())) is not None


# Django 6.1's `check` runs the database checks on every connection by default (the
# JSONField's asks SQLite whether it has JSON on a connection that has not been asked yet).
@pytest.mark.django_db
def test_readyz_and_check_deploy_say_so(invalid_seal):
    assert health.CHECKS["seal_certificate_days_left"]().state == "fail"
    with pytest.raises(SystemCheckError, match="avg_portal.E005"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
