"""A simulated PKI for the seal tests, served on loopback: a root CA, an intermediate CA, the
seal certificate, an OCSP responder, CRLs and three time-stamping authorities (certomancer,
as pyHanko's own tests use it). Nothing here reaches beyond 127.0.0.1.

The certificates' validity is set relative to now, so that the tests can look at a seal
after its certificate expired: the seal certificate lives `SEAL_DAYS`, the "short" TSA's
certificate `SHORT_TSA_DAYS` (its timestamps are due for renewal at once).

Faults are real: `refuse(label)` makes a TSA answer HTTP 503, and `closed_url()` is a port on
which nothing listens.
"""

from __future__ import annotations

import datetime
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

ARCH = "avg"
SEAL_DAYS = 30
SHORT_TSA_DAYS = 20
KEYS = ("root", "interm", "interm-ocsp", "seal", "seal2", "tsa", "tsa2", "tsa-short")


def _key_usage(*usages: str) -> dict[str, Any]:
    return {
        "id": "key_usage",
        "critical": True,
        "smart-value": {"schema": "key-usage", "params": list(usages)},
    }


def _crl(repo: str) -> dict[str, Any]:
    return {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}},
    }


def _validity(start: datetime.datetime, end: datetime.datetime) -> dict[str, str]:
    return {
        "valid-from": start.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "valid-to": end.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }


def _config(url_prefix: str, now: datetime.datetime) -> dict[str, Any]:
    day = datetime.timedelta(days=1)
    long_ago, far = now - 365 * day, now + 30 * 365 * day
    tsa_extensions = [
        _key_usage("digital_signature"),
        {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
        _crl("root"),
    ]
    seal_extensions = [
        _key_usage("digital_signature", "non_repudiation"),
        _crl("interm"),
        {
            "id": "authority_information_access",
            "smart-value": {
                "schema": "aia-urls",
                "params": {
                    "ocsp-responder-names": ["interm"],
                    "ca-issuer-links": [{"repo": "interm", "include-repo-authority": True}],
                },
            },
        },
    ]
    return {
        "external-url-prefix": url_prefix,
        "keysets": {
            "avg": {"path-prefix": "keys", "keys": {k: {"path": f"{k}.key.pem"} for k in KEYS}}
        },
        "pki-architectures": {
            ARCH: {
                "keyset": "avg",
                "entity-defaults": {
                    "country-name": "NL",
                    "organization-name": "Simulated Trust Services",
                },
                "entities": {
                    "root": {"common-name": "Simulated Root CA"},
                    "interm": {"common-name": "Simulated Seal CA"},
                    "interm-ocsp": {"common-name": "Simulated OCSP responder"},
                    "seal": {
                        "common-name": "AVG Portal seal",
                        "organization-name": "AVG Portal test",
                    },
                    "seal2": {
                        "common-name": "AVG Portal seal (next)",
                        "organization-name": "AVG Portal test",
                    },
                    "tsa": {"common-name": "Simulated TSA"},
                    "tsa2": {"common-name": "Simulated TSA 2"},
                    "tsa-short": {"common-name": "Simulated TSA (expiring)"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": _validity(long_ago, far),
                        "extensions": [
                            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                            _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                        ],
                    },
                    "interm": {
                        "issuer": "root",
                        "validity": _validity(long_ago, now + 20 * 365 * day),
                        "extensions": [
                            {
                                "id": "basic_constraints",
                                "critical": True,
                                "value": {"ca": True, "path-len-constraint": 0},
                            },
                            _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                            _crl("root"),
                        ],
                    },
                    "interm-ocsp": {
                        "issuer": "interm",
                        "validity": _validity(long_ago, now + 20 * 365 * day),
                        "extensions": [
                            _key_usage("digital_signature"),
                            {
                                "id": "extended_key_usage",
                                "critical": True,
                                "value": ["ocsp_signing"],
                            },
                            {"id": "ocsp_no_check"},
                        ],
                    },
                    "seal": {
                        "issuer": "interm",
                        "validity": _validity(now - day, now + SEAL_DAYS * day),
                        "extensions": seal_extensions,
                    },
                    "seal2": {
                        "template": "seal",
                        "subject": "seal2",
                        "subject-key": "seal2",
                        "validity": _validity(now - day, now + 3 * 365 * day),
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": _validity(long_ago, now + 10 * 365 * day),
                        "extensions": tsa_extensions,
                    },
                    "tsa2": {"template": "tsa", "subject": "tsa2", "subject-key": "tsa2"},
                    "tsa-short": {
                        "template": "tsa",
                        "subject": "tsa-short",
                        "subject-key": "tsa-short",
                        "validity": _validity(long_ago, now + SHORT_TSA_DAYS * day),
                    },
                },
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P90D",
                        },
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "cert-repo": {
                        "root": {"for-issuer": "root", "publish-issued-certs": True},
                        "interm": {"for-issuer": "interm", "publish-issued-certs": True},
                    },
                    "time-stamping": {
                        label: {"signing-key": label, "signing-cert": label}
                        for label in ("tsa", "tsa2", "tsa-short")
                    },
                },
            }
        },
    }


class SimulatedPKI:
    """The PKI and its services on 127.0.0.1, in a thread, until `stop()`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.refusing: set[str] = set()
        self.requests: Counter[str] = Counter()
        (folder / "keys").mkdir(parents=True, exist_ok=True)
        for label in KEYS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            (folder / "keys" / f"{label}.key.pem").write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url_prefix = f"http://127.0.0.1:{self._server.server_port}"
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        config_path = folder / "certomancer.yml"
        config_path.write_text(yaml.safe_dump(_config(self.url_prefix, self.now)))
        self.config = CertomancerConfig.from_file(str(config_path), key_search_dir=str(folder))
        self.arch = self.config.get_pki_arch(ARCH)
        self._animator = Animator(AnimatorArchStore(self.config.pki_archs), with_web_ui=False)
        self._write_files()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        self.requests[path] += 1
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[1] == "tsa" and parts[2] in self.refusing:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"refused by the test"]
        return self._animator(environ, start_response)

    def _write_files(self) -> None:
        def pem(label: str) -> bytes:
            return self.arch.get_cert(label).dump()

        for label in ("root", "interm", "seal", "seal2", "tsa", "tsa2"):
            (self.folder / f"{label}.cert.pem").write_bytes(_pem(pem(label)))
        # The seal's file holds the chain after the seal certificate, as a TSP delivers it.
        for label in ("seal", "seal2"):
            (self.folder / f"{label}-chain.pem").write_bytes(
                _pem(pem(label)) + _pem(pem("interm")) + _pem(pem("root"))
            )
            key = self.folder / "keys" / f"{label}.key.pem"
            (self.folder / f"{label}.key.pem").write_bytes(key.read_bytes())

    def tsa_url(self, label: str = "tsa") -> str:
        return f"{self.url_prefix}/{ARCH}/tsa/{label}"

    def tsa_requests(self, label: str) -> int:
        return self.requests[f"/{ARCH}/tsa/{label}"]

    def refuse(self, *labels: str) -> None:
        self.refusing.update(labels)

    def accept(self, *labels: str) -> None:
        self.refusing.difference_update(labels or set(self.refusing))

    def settings(self, *tsa_labels: str, seal: str = "seal") -> dict[str, Any]:
        """What to override: this PKI's seal certificate and key, its root as the trust
        anchor, and these TSAs (default: the main one)."""
        return {
            "SEAL_CERT_FILE": str(self.folder / f"{seal}-chain.pem"),
            "SEAL_KEY_FILE": str(self.folder / f"{seal}.key.pem"),
            "SEAL_TRUST_ROOTS": [str(self.folder / "root.cert.pem")],
            "SEAL_PREVIOUS_CERT_FILES": [],
            "TSA_URLS": [self.tsa_url(label) for label in (tsa_labels or ("tsa",))],
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def _pem(der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


def closed_url() -> str:
    """A loopback URL on which nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"
