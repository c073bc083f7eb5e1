"""Downloads are named after the client and the date, readable with accents in browsers that
understand RFC 6266 and in plain ASCII for the rest."""

from urllib.parse import unquote

import pytest
from django.urls import reverse

from avg_portal.downloads import attachment

from .factories import make_agreement
from .signing_helpers import send_for_signing
from .test_signing import open_link

pytestmark = pytest.mark.django_db


def names(header):
    ascii_part, _, utf8_part = header.partition("; filename*=UTF-8''")
    return ascii_part.removeprefix('attachment; filename="').rstrip('"'), unquote(utf8_part)


def test_the_header_has_an_ascii_fallback_and_the_exact_name():
    assert attachment("verwerkersovereenkomst-zoë-ünal-brontë-2026-11-29.pdf") == (
        'attachment; filename="verwerkersovereenkomst-zoe-unal-bronte-2026-11-29.pdf"; '
        "filename*=UTF-8''verwerkersovereenkomst-zo%C3%AB-%C3%BCnal-bront%C3%AB-2026-11-29.pdf"
    )
    assert attachment("plain-2026.pdf") == 'attachment; filename="plain-2026.pdf"'
    # Quotes, slashes and line breaks never reach the header.
    assert attachment('a"b/c\r\nd.pdf') == (
        "attachment; filename=\"a-b-c-d.pdf\"; filename*=UTF-8''a%22b%2Fc%0D%0Ad.pdf"
    )


def test_the_coach_and_the_client_download_under_the_clients_name(
    coach_client, client, coach, django_capture_on_commit_callbacks
):
    draft = make_agreement(coach.practice)
    response = coach_client.get(reverse("agreement_pdf", args=[draft.public_id]))
    fallback, exact = names(response["Content-Disposition"])
    date = f"{draft.agreement_date:%Y-%m-%d}"
    assert fallback == f"verwerkersovereenkomst-zoe-unal-bronte-{date}.pdf"
    assert exact == f"verwerkersovereenkomst-zoë-ünal-brontë-{date}.pdf"

    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    open_link(client, token)
    response = client.get(reverse("signing_document"))
    assert names(response["Content-Disposition"])[1] == (
        f"verwerkersovereenkomst-zoë-ünal-brontë-{agreement.agreement_date:%Y-%m-%d}.pdf"
    )
