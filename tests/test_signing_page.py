"""The client's signing page on a phone: where he is, what is asked, and after a failed
submit what to correct, at the top of the page."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from agreements import documents

from .signing_helpers import client_post, send_for_signing
from .test_signing import open_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def signing_session(client, coach, django_capture_on_commit_callbacks):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    open_link(client, token)
    return agreement


def test_the_page_starts_with_the_steps_and_a_summary(client, signing_session):
    page = client.get(reverse("signing_page")).text
    steps = page.index('class="signing-steps')
    summary = page.index('class="signing-summary')
    text = page.index('class="agreement-document signing-text')
    assert steps < summary < text
    assert 'aria-current="step"><span class="signing-step-number">1</span> Lezen' in page
    assert signing_session.practice_name in page
    assert signing_session.client_name in page
    link = signing_session.signing_links.get()
    assert f"Onderteken vóór</dt><dd>{timezone.localtime(link.expires_at).day} " in page
    assert 'href="#sign-heading"' in page  # one tap to the signature form


def test_a_failed_submit_lists_what_to_correct_at_the_top(client, signing_session):
    response = client.post(reverse("signing_page"), client_post(consent=""))
    assert response.status_code == 400
    page = response.text
    errors = page.index('id="signing-errors"')
    assert errors < page.index('class="signing-summary')
    assert "data-focus-on-load" in page[errors - 200 : errors + 200]
    summary = page[errors : page.index("</div>", errors)]
    assert 'href="#id_consent"' in summary
    assert "Vink aan dat je de overeenkomst hebt gelezen" in summary
    # The field keeps its own message too, and step 2 is the current one.
    assert page.count("Vink aan dat je de overeenkomst hebt gelezen") == 2
    assert 'aria-current="step"><span class="signing-step-number">2</span> Ondertekenen' in page
    signing_session.refresh_from_db()
    assert signing_session.status == "sent"


def test_a_private_client_signs_without_a_function(
    client, signing_session, django_capture_on_commit_callbacks
):
    from agreements.models import Agreement, Signature

    from .conftest import stored_pdf
    from .test_signing import pdf_text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_page"), client_post(function=""))
    assert response.status_code == 302
    signature = Signature.objects.get(document=signing_session, party="client")
    assert signature.function == ""
    text = " ".join(pdf_text(stored_pdf(Agreement.objects.get(pk=signing_session.pk))).split())
    assert "Zoë Ünal-Brontë, Breda" in text
    assert ", ," not in text


def test_the_text_is_laid_out_once_for_every_visit(client, signing_session, monkeypatch):
    """The sent version cannot change: its text is rendered once and kept in the cache."""
    rendered = []
    real = documents.render_html

    def counting(document):
        rendered.append(document.pk)
        return real(document)

    monkeypatch.setattr(documents, "render_html", counting)
    cache.clear()  # opening the link showed the page once already
    first = client.get(reverse("signing_page")).text
    second = client.get(reverse("signing_page")).text

    assert rendered == [signing_session.pk]
    text = first[first.index('class="agreement-document') : first.index("</article>")]
    assert signing_session.client_name in text
    assert text == second[second.index('class="agreement-document') : second.index("</article>")]
