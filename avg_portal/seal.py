"""The platform seal: a PAdES signature over every final document, made with the service's
certificate, so that any later change to a byte of the file is detectable.

Production configures DJANGO_SEAL_CERT_FILE and DJANGO_SEAL_KEY_FILE (PEM). Development and
tests generate a self-signed certificate once, under var/dev-seal/ (never committed).
"""

import asyncio
import datetime
import functools
import io
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

log = logging.getLogger(__name__)

SEAL_FIELD = "AVGPortalSeal"


class SealInvalid(Exception):
    """The document carries no intact, valid seal of this service."""


@functools.cache
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
    cert_path, key_path = folder / "seal-cert.pem", folder / "seal-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
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
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    log.warning("Generated a self-signed development seal certificate in %s", folder)
    return cert_path, key_path


@functools.cache
def _signer() -> signers.SimpleSigner:
    cert_path, key_path = _seal_files()
    signer: signers.SimpleSigner | None = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if signer is None:
        raise ImproperlyConfigured(f"Could not load the seal key and certificate {cert_path}.")
    return signer


def seal_certificate() -> asn1_x509.Certificate:
    """The seal's certificate (asn1crypto), the trust root for validating our own seals."""
    cert_path, _key = _seal_files()
    data = cert_path.read_bytes()
    der = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def seal_pdf(pdf_bytes: bytes, *, reason: str = "Verzegeld door AVG Portal") -> bytes:
    """Return the PDF with the service's PAdES seal added as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location="Nederland",
    )
    output: io.BytesIO = _outside_event_loop(signers.sign_pdf, writer, metadata, signer=_signer())
    return output.getvalue()


def verify_seal(pdf_bytes: bytes) -> datetime.datetime | None:
    """Check that the file carries an intact, valid seal made with our certificate and that
    nothing was added after it. Returns the signing time; raises SealInvalid otherwise."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged or non-PDF upload
        raise SealInvalid("not a readable PDF") from error
    seals = [s for s in signatures if s.field_name == SEAL_FIELD]
    if len(seals) != 1:
        raise SealInvalid("no seal")
    context = ValidationContext(trust_roots=[seal_certificate()])
    try:
        status = _outside_event_loop(validate_pdf_signature, seals[0], context)
    except Exception as error:
        raise SealInvalid("seal could not be validated") from error
    if not (status.intact and status.valid and status.trusted):
        raise SealInvalid("seal broken or not ours")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        raise SealInvalid("the file was changed after sealing")
    signed_at: datetime.datetime | None = status.signer_reported_dt
    return signed_at


def _outside_event_loop[T](function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyHanko's synchronous API calls asyncio.run(), which fails inside a running event
    loop (an async view, or a test driving a browser); there it runs on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()
