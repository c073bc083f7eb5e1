"""The platform seal: a PAdES signature over every final document, made with the service's
certificate, so that any later change to a byte of the file is detectable.

Production configures DJANGO_SEAL_CERT_FILE and DJANGO_SEAL_KEY_FILE (PEM). Development and
tests generate a self-signed certificate once, under var/dev-seal/ (never committed).

With a time-stamping authority configured (DJANGO_TSA_URL), the seal is PAdES B-LTA: the
signature carries an RFC 3161 timestamp, the file a /DSS with the certificate chains and
revocation data (OCSP, CRL) of the seal and the TSA, followed by a document timestamp. A
validator needs nothing else, offline, long after the seal certificate expired; before the
last document timestamp's certificate expires, `renew` adds fresh validation data and a new
document timestamp (`manage.py renew_evidence`). The TSAs are tried in order; when none
answers, sealing raises `TimestampUnavailable` and is retried later: never sealed without.
"""

import asyncio
import dataclasses
import datetime
import fcntl
import functools
import io
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

log = logging.getLogger(__name__)

SEAL_FIELD = "AVGPortalSeal"
MD_ALGORITHM = "sha256"


class SealInvalid(Exception):
    """The document carries no intact, valid seal of this service."""


class SealCertificateNotValid(Exception):
    """The seal certificate has expired or is not valid yet: nothing is sealed with it (a
    validator would reject the seal); the recovery sweep tries again, and /readyz and
    `check --deploy` tell the operator to install a valid one."""


class TimestampUnavailable(Exception):
    """No configured time-stamping authority answered: the document is not sealed now, and
    the recovery sweep tries again later."""


# The certificate ---------------------------------------------------------------------------


def _seal_files() -> tuple[Path, Path]:
    cert_file, key_file = settings.SEAL_CERT_FILE, settings.SEAL_KEY_FILE
    if cert_file and key_file:
        return Path(cert_file), Path(key_file)
    if not settings.DEBUG and not settings.SEAL_ALLOW_DEV_CERTIFICATE:
        raise ImproperlyConfigured(
            "Set DJANGO_SEAL_CERT_FILE and DJANGO_SEAL_KEY_FILE (PEM) to seal documents."
        )
    return _development_certificate(Path(settings.BASE_DIR) / "var" / "dev-seal")


def _development_certificate(folder: Path) -> tuple[Path, Path]:
    """The development seal's certificate and key, made once. Several processes can ask at
    the same moment (the test workers, a web server and a task worker on a fresh checkout):
    one makes the pair under a file lock, the others wait and take it. Each file is put in
    place whole, the key before the certificate, so a pair that exists is complete."""
    cert_path, key_path = folder / "seal-cert.pem", folder / "seal-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cert_path.exists() and key_path.exists()):
            _make_development_certificate(cert_path, key_path)
    return cert_path, key_path


def _make_development_certificate(cert_path: Path, key_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "AVG Portal development seal"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AVG Portal (development)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # pyHanko requires non-repudiation ("content commitment") on a document signer.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _put_whole(key_path, key_pem, mode=0o600)
    _put_whole(cert_path, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    log.warning("Generated a self-signed development seal certificate in %s", cert_path.parent)


def _put_whole(path: Path, content: bytes, *, mode: int) -> None:
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


class _SealSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with the key loaded once. SimpleSigner loads it from DER for
    every signature, and OpenSSL checks an RSA key on every load (about 50 ms); a seal signs
    twice (once to size the signature's place in the file), so that was a tenth of a second
    of every seal. Other kinds of keys and paddings go through pyHanko unchanged."""

    @functools.cached_property
    def _loaded_key(self) -> PrivateKeyTypes:
        return serialization.load_der_private_key(self.signing_key.dump(), password=None)

    # Bytes pyHanko reserved for a seal without timestamps, learnt from the first one. To
    # size that place, pyHanko signs a dummy first: a third of each seal's CPU. Without a
    # TSA the signature is the same size every time (same certificates, attributes, key), so
    # later seals reserve the same room instead of signing twice.
    reserved_without_timestamps: int | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = self._loaded_key
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            mechanism = ""
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        signature: bytes = super().sign_raw(data, digest_algorithm)
        return signature


def _signer() -> _SealSigner:
    return _load_signer(*_seal_files())


@functools.cache
def _load_signer(cert_path: Path, key_path: Path) -> _SealSigner:
    # The certificate file may hold the chain after the seal certificate: it goes into the
    # signature, so that a validator can build the path to the root.
    try:
        chain = _certificates([cert_path])
        key = load_private_key_from_pemder(str(key_path), passphrase=None)
    except (OSError, ValueError, ImproperlyConfigured) as error:
        raise ImproperlyConfigured(
            f"Could not load the seal key and certificate {cert_path}: {error}"
        ) from None
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # (untyped __init__)
    registry.register_multiple(chain)
    return _SealSigner(signing_cert=chain[0], signing_key=key, cert_registry=registry)


def _certificates(paths: Sequence[str | Path]) -> list[asn1_x509.Certificate]:
    certificates: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            certificates.extend(load_certs_from_pemder([str(path)]))
        except (OSError, ValueError) as error:
            raise ImproperlyConfigured(f"Cannot read the certificates in {path}: {error}") from None
    return certificates


def seal_chain() -> list[asn1_x509.Certificate]:
    """The seal certificate, then whatever chain its file holds."""
    cert_path, _key = _seal_files()
    return _certificates([cert_path])


def seal_certificate() -> asn1_x509.Certificate:
    """The seal's current certificate (asn1crypto)."""
    return seal_chain()[0]


def _self_signed(certificate: asn1_x509.Certificate) -> bool:
    return bool(certificate.self_signed in ("maybe", "yes"))


def signing_trust_roots() -> list[asn1_x509.Certificate]:
    """The roots the seal's and the TSA's certificate paths must end in when sealing: the
    configured ones and any self-signed certificate in the seal's own file."""
    roots = _certificates(settings.SEAL_TRUST_ROOTS)
    roots += [cert for cert in seal_chain() if _self_signed(cert)]
    return roots or [seal_certificate()]


def verification_trust_anchors() -> list[asn1_x509.Certificate]:
    """What a seal of ours may chain to: the roots, the current seal certificate and every
    earlier one (DJANGO_SEAL_PREVIOUS_CERT_FILES), so that a rollover to a new certificate
    leaves the seals made with the old one valid."""
    return (
        signing_trust_roots()
        + [seal_certificate()]
        + _certificates(settings.SEAL_PREVIOUS_CERT_FILES)
    )


# Time-stamping authorities ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TimestampAuthority:
    url: str
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The URL without credentials, for logs and evidence."""
        return self.url


def timestamp_authorities() -> list[TimestampAuthority]:
    """The configured TSAs in order; credentials in a URL (https://user:pw@host/) apply to
    that URL only, DJANGO_TSA_USERNAME/PASSWORD to the others."""
    authorities = []
    for raw in settings.TSA_URLS:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImproperlyConfigured(f"DJANGO_TSA_URL: {raw!r} is not an http(s) URL.")
        username, password = settings.TSA_USERNAME, settings.TSA_PASSWORD
        if parts.username is not None:
            username, password = unquote(parts.username), unquote(parts.password or "")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        authorities.append(TimestampAuthority(url, username, password))
    return authorities


def timestamping_configured() -> bool:
    return bool(settings.TSA_URLS)


@functools.cache
def _timestamper(authority: TimestampAuthority, timeout: int) -> timestamps.HTTPTimeStamper:
    # Kept per authority: pyHanko asks each TSA once for a sample token (to size the
    # signature) and caches it on the object.
    auth = (authority.username, authority.password or "") if authority.username else None
    return timestamps.HTTPTimeStamper(authority.url, timeout=timeout, auth=auth)


def _timestampers() -> list[tuple[TimestampAuthority, timestamps.HTTPTimeStamper]]:
    timeout = settings.TSA_TIMEOUT_SECONDS
    return [(tsa, _timestamper(tsa, timeout)) for tsa in timestamp_authorities()]


def _with_failover[T](
    action: Callable[[timestamps.HTTPTimeStamper], T],
) -> tuple[T, TimestampAuthority]:
    """Run `action` with each TSA in turn until one answers. Only a TSA's own failure (no
    answer, an HTTP error, a refusal) moves on to the next; anything else is raised."""
    failures = []
    for authority, stamper in _timestampers():
        try:
            return action(stamper), authority
        except timestamps.TimestampRequestError as error:
            cause = error.__cause__ or error
            log.warning("Time-stamping authority %s failed: %s", authority.name, cause)
            failures.append(f"{authority.name}: {cause}")
    raise TimestampUnavailable("No time-stamping authority answered: " + "; ".join(failures))


def _signing_context() -> ValidationContext:
    """Validation data is fetched when sealing (the OCSP responder, the CRLs named in the
    certificates); when it cannot be had, sealing fails and is retried ("hard-fail")."""
    return ValidationContext(
        trust_roots=signing_trust_roots(),
        other_certs=seal_chain(),
        allow_fetching=True,
        revocation_mode="hard-fail",
    )


# Sealing -----------------------------------------------------------------------------------


def validity(certificate: asn1_x509.Certificate) -> tuple[datetime.datetime, datetime.datetime]:
    """When a certificate is valid: from, until."""
    period = certificate["tbs_certificate"]["validity"]
    return period["not_before"].native, period["not_after"].native


def seal_pdf(pdf_bytes: bytes, *, reason: str = "Verzegeld door AVG Portal") -> bytes:
    """Return the PDF with the service's PAdES seal added as an incremental update: B-LTA
    when a TSA is configured (raising TimestampUnavailable when none answers), else B-B.
    Raises SealCertificateNotValid outside the seal certificate's validity."""
    valid_from, valid_until = validity(_signer().signing_cert)
    if not valid_from <= datetime.datetime.now(datetime.UTC) <= valid_until:
        raise SealCertificateNotValid(
            f"The seal certificate is valid from {valid_from:%Y-%m-%d %H:%M} until "
            f"{valid_until:%Y-%m-%d %H:%M} UTC; nothing is sealed outside that time."
        )
    if not timestamping_configured():
        return _sign(pdf_bytes, _metadata(reason), None)
    sealed, _authority = _with_failover(
        lambda stamper: _sign(pdf_bytes, _metadata(reason, lta=True), stamper)
    )
    return sealed


def _metadata(reason: str, *, lta: bool = False) -> signers.PdfSignatureMetadata:
    extra: dict[str, Any] = {}
    if lta:
        extra = {
            "embed_validation_info": True,
            "use_pades_lta": True,
            "validation_context": _signing_context(),
        }
    return signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=MD_ALGORITHM,
        reason=reason,
        location="Nederland",
        **extra,
    )


def _sign(
    pdf_bytes: bytes,
    metadata: signers.PdfSignatureMetadata,
    timestamper: timestamps.TimeStamper | None,
) -> bytes:
    signer = _signer()
    without_timestamps = timestamper is None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
    output: io.BytesIO = _outside_event_loop(
        signers.sign_pdf,
        writer,
        metadata,
        signer=signer,
        timestamper=timestamper,
        bytes_reserved=signer.reserved_without_timestamps if without_timestamps else None,
    )
    sealed = output.getvalue()
    if without_timestamps and signer.reserved_without_timestamps is None:
        signer.reserved_without_timestamps = _reserved(sealed)
    return sealed


def _reserved(sealed: bytes) -> int:
    """The room the last signature of `sealed` has: the gap its byte range leaves, less the
    two angle brackets around the hexadecimal contents."""
    signature = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures[-1]
    _start, first_length, second_start, _second_length = signature.sig_object["/ByteRange"]
    return int(second_start) - int(first_length) - 2


def timestamp_token(data: bytes) -> tuple[bytes, TimestampAuthority] | None:
    """An RFC 3161 timestamp token (DER) over the SHA-256 of `data`, from the first TSA that
    answers, and that TSA; None when no TSA is configured. Raises TimestampUnavailable."""
    if not timestamping_configured():
        return None
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    message_digest = digest.finalize()

    def request(stamper: timestamps.HTTPTimeStamper) -> cms.ContentInfo:
        token: cms.ContentInfo = _outside_event_loop(
            asyncio.run, stamper.async_timestamp(message_digest, MD_ALGORITHM)
        )
        return token

    token, authority = _with_failover(request)
    return token.dump(), authority


def token_time(token: bytes) -> datetime.datetime:
    """The time a timestamp token certifies."""
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    gen_time: datetime.datetime = info["gen_time"].native
    return gen_time


def renew(pdf_bytes: bytes) -> bytes:
    """Add fresh validation data for the last timestamp and a new document timestamp over
    everything (the archive timestamp chain of PAdES B-LTA), as an incremental update."""
    if not timestamping_configured():
        raise ImproperlyConfigured("Renewing evidence needs a TSA: set DJANGO_TSA_URL.")

    def renew_with(stamper: timestamps.HTTPTimeStamper) -> bytes:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        output: io.BytesIO = _outside_event_loop(
            signers.PdfTimeStamper(stamper).update_archival_timestamp_chain,
            reader,
            _signing_context(),
            in_place=False,
        )
        return output.getvalue()

    renewed, _authority = _with_failover(renew_with)
    return renewed


def evidence_expires_at(pdf_bytes: bytes) -> datetime.datetime | None:
    """When the certificate of the file's last timestamp (document timestamp, or else the
    seal's signature timestamp) expires: the evidence must be renewed before then. None for a
    seal without timestamps."""
    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return None
    last = signatures[-1]
    if last.sig_object_type == "/DocTimeStamp":
        signed_data = last.signed_data
    else:
        token = signature_timestamp(last)
        if token is None:
            return None
        signed_data = token
    certificates = [c.chosen for c in signed_data["certificates"]]
    signer_id = signed_data["signer_infos"][0]["sid"].chosen
    for certificate in certificates:
        if (
            isinstance(signer_id, cms.IssuerAndSerialNumber)
            and certificate.issuer == signer_id["issuer"]
            and certificate.serial_number == signer_id["serial_number"].native
        ):
            expires: datetime.datetime = certificate["tbs_certificate"]["validity"][
                "not_after"
            ].native
            return expires
    return None


def signature_timestamp(signature: EmbeddedPdfSignature) -> cms.SignedData | None:
    """The RFC 3161 token of a signature (an unsigned attribute of its signer), if any."""
    unsigned = signature.signer_info["unsigned_attrs"]
    if not unsigned:
        return None
    for attribute in unsigned:
        if attribute["type"].native == "signature_time_stamp_token":
            token: cms.SignedData = attribute["values"][0]["content"]
            return token
    return None


# Verifying ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SealStatus:
    signed_at: datetime.datetime | None
    # The time the TSA certified for the seal; None for a seal without timestamp.
    timestamped_at: datetime.datetime | None = None
    long_term: bool = False


def verify_seal(
    pdf_bytes: bytes, *, at: datetime.datetime | None = None
) -> datetime.datetime | None:
    """Check that the file carries an intact, valid seal made with our certificate and that
    nothing but validation data and document timestamps was added after it. Returns the
    signing time; raises SealInvalid otherwise."""
    status = check_seal(pdf_bytes, at=at)
    return status.timestamped_at or status.signed_at


def check_seal(pdf_bytes: bytes, *, at: datetime.datetime | None = None) -> SealStatus:
    """`verify_seal`, with what was found. `at` validates as of another moment (what a
    validator would say then, with only what the file holds)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged or non-PDF upload
        raise SealInvalid("not a readable PDF") from error
    seals = [s for s in signatures if s.field_name == SEAL_FIELD]
    if len(seals) != 1:
        raise SealInvalid("no seal")
    seal = seals[0]
    later = signatures[signatures.index(seal) + 1 :]
    if not later:
        return _check_basic(seal, at)
    if any(s.sig_object_type != "/DocTimeStamp" for s in later):
        raise SealInvalid("a signature was added after the seal")
    # By default as of the newest document timestamp: the validation data in the file was
    # fresh then, and grows stale afterwards, which is what renewal is for (verify_archive
    # names the documents due). A validator years later relies on that chain of timestamps.
    return _check_long_term(seal, at or _timestamp_time(later[-1].signed_data))


def _check_basic(seal: EmbeddedPdfSignature, at: datetime.datetime | None) -> SealStatus:
    """A seal with nothing after it (B-B, as made without a TSA): valid with our anchors."""
    context = ValidationContext(
        trust_roots=verification_trust_anchors(),
        other_certs=seal_chain(),
        allow_fetching=False,
        moment=at,
    )
    try:
        status = _outside_event_loop(validate_pdf_signature, seal, context)
    except Exception as error:
        raise SealInvalid("seal could not be validated") from error
    if not (status.intact and status.valid and status.trusted):
        raise SealInvalid("seal broken or not ours")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        raise SealInvalid("the file was changed after sealing")
    signed_at: datetime.datetime | None = status.signer_reported_dt
    timestamped_at = status.timestamp_validity.timestamp if status.timestamp_validity else None
    _made_while_valid(seal, timestamped_at or signed_at)
    return SealStatus(signed_at=signed_at, timestamped_at=timestamped_at)


def _made_while_valid(seal: EmbeddedPdfSignature, made_at: datetime.datetime | None) -> None:
    """The seal was made while its certificate was valid. pyHanko does not check the dates
    of a certificate it was given as a trust anchor, and the seal certificate is one
    (`verification_trust_anchors`), so a seal made with an expired or not yet valid
    certificate would otherwise pass."""
    valid_from, valid_until = validity(seal.signer_cert)
    if made_at is None or not valid_from <= made_at <= valid_until:
        raise SealInvalid("sealed outside its certificate's validity")


def _timestamp_time(signed_data: cms.SignedData) -> datetime.datetime:
    info = signed_data["encap_content_info"]["content"].parsed
    gen_time: datetime.datetime = info["gen_time"].native
    return gen_time


def _lta_spec() -> PdfSignatureValidationSpec:
    """Offline: only what the file holds, and revocation data required for every
    certificate that names a source of it."""
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=verification_trust_anchors()),
        revinfo_policy=CertRevTrustPolicy(
            revocation_checking_policy=RevocationCheckingPolicy.from_legacy("hard-fail")
        ),
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def _check_long_term(seal: EmbeddedPdfSignature, at: datetime.datetime) -> SealStatus:
    """A seal followed by validation data and document timestamps (B-LTA): validated as a
    long-term signature, offline, as of `at`."""
    timing = ValidationTimingInfo(
        validation_time=at, best_signature_time=at, point_in_time_validation=False
    )
    try:
        result = _outside_event_loop(
            asyncio.run, ades_lta_validation(seal, _lta_spec(), timing_info=timing)
        )
    except Exception as error:
        raise SealInvalid("seal could not be validated") from error
    status = result.api_status
    if status is None or not (status.intact and status.valid):
        raise SealInvalid("seal broken")
    if result.ades_subindic != AdESPassed.OK:
        raise SealInvalid(f"seal not valid as a long-term signature ({result.ades_subindic})")
    if status.modification_level is None or status.modification_level > (
        ModificationLevel.LTA_UPDATES
    ):
        raise SealInvalid("the file was changed after sealing")
    signed_at: datetime.datetime | None = status.signer_reported_dt
    timestamped_at = status.timestamp_validity.timestamp if status.timestamp_validity else None
    _made_while_valid(seal, timestamped_at or signed_at)
    return SealStatus(signed_at=signed_at, timestamped_at=timestamped_at, long_term=True)


def _outside_event_loop[T](function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyHanko's synchronous API calls asyncio.run(), which fails inside a running event
    loop (an async view, or a test driving a browser); there it runs on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()
