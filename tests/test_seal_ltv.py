"""Trusted timestamps and long-term validation (PAdES B-LTA) against a simulated PKI on
loopback (tests/pki): the sealed PDF validates offline with the simulated root as the only
trust anchor, still validates after the seal certificate expired, fails on one flipped byte;
a TSA that is down makes sealing wait for the recovery sweep, never seal without a timestamp;
the second TSA answers when the first refuses; a rollover keeps the old seals valid."""

import asyncio
import datetime
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from agreements import archive, recovery
from agreements.evidence import verify_chain
from agreements.models import AgreementEvent, SealedVersion
from avg_portal import seal
from avg_portal.seal import SealInvalid, verify_seal
from records.archive_audit import verify_archive

from .conftest import login_verified
from .pki import SEAL_DAYS, SimulatedPKI, closed_url
from .signing_helpers import client_post, send_for_signing

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = pytest.mark.usefixtures("render_once")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    simulated = SimulatedPKI(tmp_path_factory.mktemp("pki"))
    yield simulated
    simulated.stop()


@pytest.fixture
def with_pki(pki, settings):
    for name, value in pki.settings().items():
        setattr(settings, name, value)
    pki.accept()
    return pki


def offline_lta(pdf, root_file, *, at=None):
    """What any validator does with the file: pyHanko's PAdES LTA validation, offline, with
    the simulated root as the only trust anchor and revocation data required."""
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[load_cert_from_pemder(root_file)]
                ),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    timing = (
        ValidationTimingInfo(
            validation_time=at, best_signature_time=at, point_in_time_validation=False
        )
        if at
        else None
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    signatures = reader.embedded_signatures
    return signatures, asyncio.run(ades_lta_validation(signatures[0], spec, timing_info=timing))


def coach_http(coach):
    """The coach in a browser of her own (the test's `client` is the client's)."""
    browser = Client()
    login_verified(browser, coach)
    return browser


def client_signs(http_client, token, capture):
    http_client.get(reverse("signing_open", args=[token]))
    with capture(execute=True):
        response = http_client.post(reverse("signing_page"), client_post())
    assert response.status_code == 302


def without_signer_code(coach):
    """The signer code (another part of this issue) is not what these tests are about."""
    if hasattr(coach.practice, "signer_code_required"):
        type(coach.practice).objects.filter(pk=coach.practice.pk).update(signer_code_required=False)


def sealed_agreement(http_client, coach, capture):
    without_signer_code(coach)
    agreement, token = send_for_signing(coach, capture=capture)
    client_signs(http_client, token, capture)
    agreement.refresh_from_db()
    return agreement


@pytest.mark.django_db
def test_a_sealed_agreement_is_pades_b_lta_valid_offline_and_after_the_seal_expired(
    client, coach, with_pki, django_capture_on_commit_callbacks
):
    agreement = sealed_agreement(client, coach, django_capture_on_commit_callbacks)
    assert agreement.is_archived
    pdf = archive.read_verified(agreement.final_pdf, agreement.final_sha256)
    root = str(with_pki.folder / "root.cert.pem")

    signatures, result = offline_lta(pdf, root)
    assert result.ades_subindic == AdESPassed.OK
    status = result.api_status
    assert status.intact and status.valid and status.trusted
    # The seal's own timestamp from the TSA, the /DSS, and a document timestamp after it.
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert [s.sig_object_type for s in signatures] == ["/Sig", "/DocTimeStamp"]
    root_dict = PdfFileReader(io.BytesIO(pdf)).root
    dss = root_dict["/DSS"]
    assert len(dss["/Certs"]) >= 3 and (len(dss.get("/OCSPs", [])) + len(dss.get("/CRLs", []))) >= 2

    # A month after the seal certificate expired, the timestamps still carry it. (Later on,
    # the TSA's revocation data in the file grows stale: `renew_evidence` refreshes it.)
    later = with_pki.now + timedelta(days=SEAL_DAYS + 30)
    _signatures, result = offline_lta(pdf, root, at=later)
    assert result.ades_subindic == AdESPassed.OK
    assert seal.check_seal(pdf, at=later).long_term
    # The app's own check agrees, and /verify/ says genuine.
    assert verify_seal(pdf) is not None
    response = client.post(reverse("verify"), {"document": _upload(pdf)})
    assert response.context["result"].genuine

    # poppler's pdfsig (Debian's poppler-utils), when installed, shows the seal and the
    # document timestamp.
    pdfsig = shutil.which("pdfsig")
    if pdfsig:
        path = with_pki.folder / f"{agreement.public_id}.pdf"
        path.write_bytes(pdf)
        listing = subprocess.run(
            [pdfsig, str(path)], capture_output=True, check=False, timeout=30
        ).stdout.decode(errors="replace")
        assert "AVGPortalSeal" in listing and "Simulated TSA" in listing
        assert "Signature is Valid" in listing

    # pyHanko's own command line, as anyone checking the file would run it. With the PKI's
    # responders reachable, `sign validate` fetches fresh revocation data and trusts the
    # seal and its timestamp. `sign adesverify` at a given moment is offline by design
    # (point-in-time validation uses only what the file holds): no request reaches the PKI.
    path = with_pki.folder / f"{agreement.public_id}-cli.pdf"
    path.write_bytes(pdf)
    assert pyhanko_cli("validate", path, root) == (0, LTA_TRUSTED)
    requests_before = sum(with_pki.requests.values())
    for moment in (timezone.now() + timedelta(minutes=1), later):
        assert pyhanko_cli("adesverify", path, root, at=moment) == (0, LTA_TRUSTED)
    assert sum(with_pki.requests.values()) == requests_before

    # The document both parties signed got its own RFC 3161 timestamp when it was sent.
    (stamp,) = agreement.timestamps.all()
    assert stamp.sha256 == agreement.document_sha256
    token = cms.ContentInfo.load(bytes(stamp.token))
    info = token["content"]["encap_content_info"]["content"].parsed
    imprint = info["message_imprint"]["hashed_message"].native
    assert imprint == hashlib.sha256(bytes(agreement.document_pdf)).digest()
    assert agreement.events.filter(kind=AgreementEvent.Kind.TIMESTAMPED).count() == 1

    # One flipped byte: nothing validates.
    damaged = bytearray(pdf)
    damaged[len(damaged) // 2] ^= 0x01
    with pytest.raises(SealInvalid):
        verify_seal(bytes(damaged))
    try:
        _signatures, result = offline_lta(bytes(damaged), root)
    except Exception:  # pyHanko may refuse to read it at all
        result = None
    assert result is None or result.ades_subindic != AdESPassed.OK
    path.write_bytes(bytes(damaged))
    returncode, _summary = pyhanko_cli("adesverify", path, root, at=later)
    assert returncode != 0


LTA_TRUSTED = "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES"


def pyhanko_cli(command, path, root, *, at=None):
    """`pyhanko sign validate|adesverify` (pyhanko-cli, a dev dependency) with the simulated
    root as the only trust anchor: its exit code and the seal's status words."""
    moment = ["--validation-time", at.isoformat()] if at else []
    result = subprocess.run(
        [Path(sys.executable).with_name("pyhanko"), "sign", command, *moment]
        + ["--trust", root, "--trust-replace", str(path)],
        capture_output=True,
        check=False,
        timeout=120,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("AVGPortalSeal:")]
    summary = lines[0].split(":", 2)[2].rsplit(",", 1)[0] if lines else result.stderr[-500:]
    return result.returncode, summary


def _upload(pdf):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("doc.pdf", pdf, content_type="application/pdf")


@pytest.mark.django_db
def test_with_the_tsa_down_sealing_waits_and_is_retried_until_it_answers(
    client, coach, with_pki, settings, django_capture_on_commit_callbacks
):
    with_pki.refuse("tsa")
    without_signer_code(coach)
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    client_signs(client, token, django_capture_on_commit_callbacks)
    agreement.refresh_from_db()
    # Signed, not sealed: it waits as "being sealed", with the reason for the operator.
    assert agreement.is_signed and not agreement.is_archived and not agreement.final_pdf
    assert "TimestampUnavailable" in agreement.seal_error
    assert not agreement.events.filter(kind=AgreementEvent.Kind.COMPLETED).exists()

    # The sweep tries again while the TSA still refuses: still not sealed without it.
    now = timezone.now() + recovery.GRACE
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.recover_unsealed(now=now).queued == 1
    agreement.refresh_from_db()
    assert not agreement.is_archived and agreement.seal_attempts == 1

    # The TSA is back: the next sweep seals it, with the timestamp.
    with_pki.accept("tsa")
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.recover_unsealed(now=agreement.seal_retry_at).queued == 1
    agreement.refresh_from_db()
    assert agreement.is_archived and agreement.seal_error == ""
    pdf = archive.read_verified(agreement.final_pdf, agreement.final_sha256)
    _signatures, result = offline_lta(pdf, str(with_pki.folder / "root.cert.pem"))
    assert result.ades_subindic == AdESPassed.OK


@pytest.mark.django_db
def test_the_second_tsa_answers_when_the_first_refuses_or_is_unreachable(with_pki, settings):
    pdf = _plain_pdf()
    settings.TSA_URLS = [closed_url(), with_pki.tsa_url("tsa"), with_pki.tsa_url("tsa2")]
    with_pki.refuse("tsa")
    before = with_pki.tsa_requests("tsa2")
    sealed = seal.seal_pdf(pdf)
    assert with_pki.tsa_requests("tsa2") > before
    signatures = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    tst = seal.signature_timestamp(signatures[0])
    tsa_names = [c.chosen.subject.human_friendly for c in tst["certificates"]]
    assert any("Simulated TSA 2" in name for name in tsa_names)
    assert seal.check_seal(sealed).long_term

    # None answers: no seal at all.
    with_pki.refuse("tsa2")
    with pytest.raises(seal.TimestampUnavailable):
        seal.seal_pdf(pdf)


@pytest.mark.django_db
def test_credentials_in_a_tsa_url_stay_with_that_url(settings):
    settings.TSA_URLS = ["https://user:s%40cret@tsa.example/ts", "http://other.example/"]
    settings.TSA_USERNAME, settings.TSA_PASSWORD = "all", "pw"
    first, second = seal.timestamp_authorities()
    assert (first.url, first.username, first.password) == (
        "https://tsa.example/ts",
        "user",
        "s@cret",
    )
    assert (second.username, second.password) == ("all", "pw")


@pytest.mark.django_db
def test_after_a_rollover_seals_made_with_the_old_certificate_still_verify(with_pki, settings):
    pdf = _plain_pdf()
    settings.TSA_URLS = []  # a plain B-B seal: its validity rests on the trust anchors alone
    old_seal = seal.seal_pdf(pdf)
    assert verify_seal(old_seal) is not None

    # The operator installs the next certificate (same CA): the root keeps the old seals.
    for name, value in with_pki.settings(seal="seal2").items():
        setattr(settings, name, value)
    settings.TSA_URLS = []
    assert verify_seal(old_seal) is not None
    assert verify_seal(seal.seal_pdf(pdf)) is not None

    # Without the root configured, only the listed earlier certificate keeps them valid.
    settings.SEAL_TRUST_ROOTS = []
    settings.SEAL_CERT_FILE = str(with_pki.folder / "seal2.cert.pem")
    with pytest.raises(SealInvalid):
        verify_seal(old_seal)
    settings.SEAL_PREVIOUS_CERT_FILES = [str(with_pki.folder / "seal.cert.pem")]
    assert verify_seal(old_seal) is not None


def test_without_a_tsa_the_seal_is_as_before(settings, tmp_path):
    settings.TSA_URLS = []
    sealed = seal.seal_pdf(_plain_pdf())
    status = seal.check_seal(sealed)
    assert not status.long_term and status.signed_at is not None
    assert "/DSS" not in PdfFileReader(io.BytesIO(sealed)).root


def test_seals_without_a_tsa_reserve_the_room_the_first_one_measured(settings, monkeypatch):
    """pyHanko signs a dummy to size a seal's place in the file; without a TSA every seal
    is the same size, so only the first seal per key measures, and every later one, of
    another document too, still validates."""
    from pyhanko.sign.signers import pdf_signer

    settings.TSA_URLS = []
    seal._load_signer.cache_clear()
    measured = []
    estimate = pdf_signer.PdfSigningSession.estimate_signature_container_size

    async def counting(self, *args, **kwargs):
        measured.append(await estimate(self, *args, **kwargs))
        return measured[-1]

    monkeypatch.setattr(pdf_signer.PdfSigningSession, "estimate_signature_container_size", counting)
    first = seal.seal_pdf(_plain_pdf())
    second = seal.seal_pdf(_plain_pdf(width=420))
    assert len(measured) == 1
    assert seal._reserved(first) == seal._reserved(second) == measured[0]
    assert verify_seal(first) is not None and verify_seal(second) is not None
    assert first != second


def _plain_pdf(width=595):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.django_db
def test_renew_evidence_adds_a_document_timestamp_and_every_version_verifies(
    client, coach, with_pki, settings, django_capture_on_commit_callbacks
):
    # Sealed with a TSA whose certificate runs out within the renewal window.
    settings.TSA_URLS = [with_pki.tsa_url("tsa-short")]
    agreement = sealed_agreement(client, coach, django_capture_on_commit_callbacks)
    original = archive.read_verified(agreement.final_pdf, agreement.final_sha256)
    report = verify_archive()
    assert report.ok
    assert [due.split(" (")[0] for due in report.renewal_due] == [
        f"agreement {agreement.public_id}"
    ]

    settings.TSA_URLS = [with_pki.tsa_url("tsa")]
    out = io.StringIO()
    call_command("renew_evidence", stdout=out)
    assert "1 due, 1 renewed" in out.getvalue()

    version = SealedVersion.objects.get(document_id=agreement.key)
    assert version.number == 2 and version.evidence_expires_at.year >= with_pki.now.year + 9
    renewed = archive.read_verified(version.file, version.sha256)
    # A new revision on top of the old bytes; the original stays as it was.
    assert renewed.startswith(original) and len(renewed) > len(original)
    agreement.refresh_from_db()
    assert agreement.final_sha256 == hashlib.sha256(original).hexdigest()
    signatures, result = offline_lta(renewed, str(with_pki.folder / "root.cert.pem"))
    assert [s.sig_object_type for s in signatures] == ["/Sig", "/DocTimeStamp", "/DocTimeStamp"]
    assert result.ades_subindic == AdESPassed.OK

    # Both versions are genuine at /verify/.
    for pdf in (original, renewed):
        response = client.post(reverse("verify"), {"document": _upload(pdf)})
        assert response.context["result"].genuine

    # The coach's download is the newest version, checked against its hash first.
    response = coach_http(coach).get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == renewed

    # The dossier export holds the newest version too, checked against its hash.
    from records.export import practice_dossier

    with zipfile.ZipFile(io.BytesIO(b"".join(practice_dossier(coach.practice)))) as dossier:
        (member,) = [
            name for name in dossier.namelist() if name.startswith("verwerkersovereenkomsten/")
        ]
        assert dossier.read(member) == renewed

    # The evidence trail records it, with both hashes, and still holds.
    (event,) = agreement.events.filter(kind=AgreementEvent.Kind.EVIDENCE_RENEWED)
    assert version.sha256 in event.detail and agreement.final_sha256 in event.detail
    assert verify_chain(agreement.events.order_by("id")) is None

    # Nothing is due any more; the archive check reads both versions.
    out = io.StringIO()
    call_command("renew_evidence", stdout=out)
    assert "0 due, 0 renewed" in out.getvalue()
    report = verify_archive()
    assert report.ok and report.renewal_due == [] and report.files == 2

    # A stored version is evidence: the database refuses to change it.
    with pytest.raises(IntegrityError), transaction.atomic():
        SealedVersion.objects.filter(pk=version.pk).update(sha256="0" * 64)

    # On demand, a third version on top of the second.
    call_command("renew_evidence", "--document", str(agreement.public_id), stdout=io.StringIO())
    third = SealedVersion.objects.get(document_id=agreement.key, number=3)
    assert archive.read_verified(third.file, third.sha256).startswith(renewed)


def renew_evidence(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("renew_evidence", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_renewal_that_would_not_outlive_the_evidence_is_not_stored_and_is_reported(
    client, coach, with_pki, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """The scheduled renewal asks the same timestamp authority whose certificate is the
    limit: its new timestamp would expire as soon, so no version is stored (a monthly run
    would otherwise pile them up) and the operators learn that the TSA must change."""
    settings.TSA_URLS = [with_pki.tsa_url("tsa-short")]
    settings.ADMINS = ["beheer@example.test"]
    first = sealed_agreement(client, coach, django_capture_on_commit_callbacks)
    second = sealed_agreement(Client(), coach, django_capture_on_commit_callbacks)
    asked = with_pki.tsa_requests("tsa-short")

    ok, out, err = renew_evidence()

    assert not ok
    assert "2 due, 0 renewed, 2 not renewed" in out
    for agreement in (first, second):
        assert f"NOT RENEWED: agreement {agreement.public_id}: the timestamp authority's" in err
    assert not SealedVersion.objects.exists()
    # Asked once: the second document's evidence lasts as long, so it was not asked again.
    assert with_pki.tsa_requests("tsa-short") == asked + 1
    (alert,) = [m for m in mailoutbox if "Evidence renewal" in m.subject]
    assert alert.to == ["beheer@example.test"]
    assert "2 of 2 not renewed" in alert.subject and str(first.public_id) in alert.body

    # With a TSA whose certificate lasts longer, both are renewed.
    settings.TSA_URLS = [with_pki.tsa_url("tsa")]
    ok, out, err = renew_evidence()
    assert ok, err
    assert "2 due, 2 renewed, 0 not renewed" in out


@pytest.mark.django_db
def test_expired_evidence_fails_the_archive_check_and_is_not_sent_to_the_tsa(
    client, coach, with_pki, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TSA_URLS = [with_pki.tsa_url("tsa-short")]
    agreement = sealed_agreement(client, coach, django_capture_on_commit_callbacks)
    pdf = archive.read_verified(agreement.final_pdf, agreement.final_sha256)
    expires = seal.evidence_expires_at(pdf)

    # The day before, it is due; the day after, it has expired, and the seal check as of its
    # last timestamp, which it still passes, does not hide that.
    report = verify_archive(now=expires - timedelta(days=1))
    assert report.ok and len(report.renewal_due) == 1
    report = verify_archive(now=expires + timedelta(days=1))
    assert not report.ok and report.renewal_due == []
    (finding,) = report.findings
    assert finding.problem == "evidence expired"
    assert finding.reference == f"agreement {agreement.public_id}"
    assert f"expired {expires:%Y-%m-%d}" in finding.detail

    response = client.post(reverse("verify"), {"document": _upload(pdf)})
    assert response.context["result"].genuine
    assert "laatste tijdstempel" not in response.text

    later = expires + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    # /verify/ still recognises the file, and says what the file alone no longer proves.
    response = client.post(reverse("verify"), {"document": _upload(pdf)})
    assert response.context["result"].genuine
    assert f"laatste tijdstempel in dit bestand is op {expires.day}" in response.text
    settings.TSA_URLS = [with_pki.tsa_url("tsa")]
    asked = with_pki.tsa_requests("tsa")
    ok, out, err = renew_evidence()
    assert not ok
    assert f"NOT RENEWED: agreement {agreement.public_id}: its evidence expired" in err
    assert with_pki.tsa_requests("tsa") == asked
    assert not SealedVersion.objects.exists()


@pytest.mark.django_db
def test_a_damaged_version_is_reported_and_not_served(
    client, coach, with_pki, django_capture_on_commit_callbacks
):
    agreement = sealed_agreement(client, coach, django_capture_on_commit_callbacks)
    call_command("renew_evidence", "--document", str(agreement.public_id), stdout=io.StringIO())
    version = SealedVersion.objects.get(document_id=agreement.key)
    path = Path(version.file.path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(archive.ArchiveMismatch):
        archive.read_verified(version.file, version.sha256)
    response = coach_http(coach).get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert response.status_code == 409
    report = verify_archive()
    assert [f.reference for f in report.findings] == [f"agreement {agreement.public_id} version 2"]


def issued_seal_certificate(folder, *, valid_from_days=-1, valid_until_days=365):
    """A seal certificate issued by a (made-up) CA, valid a year (or between the given days
    from now), with its chain in the certificate file: the environment `check --deploy`
    wants to see."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    def name(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Example Trust Services CA"))
        .issuer_name(name("Example Trust Services CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1000))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("AVG Portal seal"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=valid_from_days))
        .not_valid_after(now + timedelta(days=valid_until_days))
        .sign(ca_key, hashes.SHA256())
    )
    cert_file = folder / f"issued-seal{valid_from_days}{valid_until_days}.pem"
    key_file = folder / f"issued-seal{valid_from_days}{valid_until_days}.key"
    cert_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"DJANGO_SEAL_CERT_FILE": str(cert_file), "DJANGO_SEAL_KEY_FILE": str(key_file)}


def test_check_deploy_warns_of_a_self_signed_seal_and_of_no_tsa(tmp_path):
    from avg_portal.seal import _development_certificate

    from .test_settings import PRODUCTION, manage

    cert, key = _development_certificate(tmp_path)
    self_signed = {"DJANGO_SEAL_CERT_FILE": str(cert), "DJANGO_SEAL_KEY_FILE": str(key)}
    result = manage("check", "--deploy", env=PRODUCTION | self_signed)
    assert "avg_portal.W005" in result.stderr and "self-signed" in result.stderr
    assert "avg_portal.W006" in result.stderr and "DJANGO_TSA_URL" in result.stderr

    issued = issued_seal_certificate(tmp_path)
    env = PRODUCTION | issued | {"DJANGO_TSA_URL": "https://tsa.example.nl/tsr"}
    result = manage("check", "--deploy", env=env)
    assert "W005" not in result.stderr and "W006" not in result.stderr


@pytest.mark.django_db
def test_a_document_sent_while_no_tsa_answers_gets_its_timestamp_from_the_sweep(
    coach, with_pki, django_capture_on_commit_callbacks
):
    without_signer_code(coach)
    with_pki.refuse("tsa")
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    # Sending stands; the timestamp is missing and nothing pretends otherwise.
    assert agreement.status == "sent" and not agreement.timestamps.exists()
    assert not agreement.events.filter(kind=AgreementEvent.Kind.TIMESTAMPED).exists()

    with_pki.accept("tsa")
    later = timezone.now() + recovery.GRACE + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.recover_unsealed(now=later).timestamps_queued == 1
    (stamp,) = agreement.timestamps.all()
    assert stamp.sha256 == agreement.document_sha256
    assert agreement.events.filter(kind=AgreementEvent.Kind.TIMESTAMPED).count() == 1
    # Once there, it is not asked for again.
    assert recovery.recover_unsealed(now=later).timestamps_queued == 0
