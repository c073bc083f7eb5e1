"""What a web worker loads when it starts: the WSGI application with every URL's view, and
not the libraries that only rendering, sealing or reading a certificate need (issue 15)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
from avg_portal.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as the first request imports them
print(json.dumps(sorted(sys.modules)))
"""

# Each a library of its own with its own memory: WeasyPrint (PDF layout), pyHanko and aiohttp
# (the seal), cryptography's x509 (certificates, some 15 MB), pypdf (joining PDFs), boto3.
NOT_AT_START = [
    "weasyprint",
    "pyhanko",
    "aiohttp",
    "cryptography.x509",
    "pypdf",
    "boto3",
]


def test_a_web_worker_starts_without_the_pdf_seal_and_certificate_libraries():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {"DJANGO_SETTINGS_MODULE": "avg_portal.settings", "DJANGO_DEBUG": "1"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1]))

    assert "agreements.views" in loaded and "agreements.evidence_renewal" in loaded
    assert [name for name in NOT_AT_START if name in loaded] == []
