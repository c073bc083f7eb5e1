"""Two sign requests at the same moment (double click, two tabs, two devices) give exactly
one signature and one final PDF. Needs real row locks: runs on PostgreSQL."""

import threading

import pytest
from django.db import IntegrityError, connection
from django.test import RequestFactory

from agreements import signing
from agreements.actions import ActionRefused
from agreements.models import AgreementEvent, Signature
from agreements.signing import SignatureInput
from core.origin import Origin

from .signing_helpers import confirmed_code, send_for_signing, signature_png

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("render_once")]


def test_simultaneous_signatures_give_one_signature_and_one_pdf(coach):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; CI runs this on PostgreSQL")
    agreement, token = send_for_signing(coach)
    # One code, confirmed once, in every tab: still one signature.
    code = confirmed_code(signing.link_for_token(token))
    attempts = 4
    barrier = threading.Barrier(attempts)
    outcomes = []

    def sign(n):
        link = signing.link_for_token(token)
        request = RequestFactory().post("/", REMOTE_ADDR=f"203.0.113.{n}")
        signature = SignatureInput(
            name=f"Tab {n}",
            function="Cliënt",
            place="Breda",
            method="drawn",
            image=signature_png(),
        )
        try:
            barrier.wait(timeout=10)
            signing.client_sign(
                link=link,
                signature=signature,
                origin=Origin.of_client(request, f"Tab {n}"),
                signer_code=code,
            )
            outcomes.append("signed")
        except (ActionRefused, IntegrityError):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused"] * (attempts - 1) + ["signed"]
    assert Signature.objects.filter(document=agreement, party="client").count() == 1
    agreement.refresh_from_db()
    assert agreement.final_sha256
    assert AgreementEvent.objects.filter(agreement=agreement, kind="completed").count() == 1
    assert AgreementEvent.objects.filter(agreement=agreement, kind="signed_client").count() == 1
