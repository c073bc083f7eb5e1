"""Each document version is rendered once, and every list page costs the same number of
queries whatever the number of rows (issue 15). Behaviour only: no timings here; those are
`make bench`'s."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from agreements.models import AgreementEnding
from avg_portal import pdf
from core.origin import Origin
from records import export, record_entries

from .factories import make_agreement, make_client
from .pdf_reading import page_texts
from .test_export import fake_archived

pytestmark = [pytest.mark.django_db, pytest.mark.record_entries]


def draft_pdf(http_client, agreement):
    response = http_client.get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response.content


# The draft's PDF --------------------------------------------------------------------------


def test_a_second_draft_download_is_not_rendered_again(coach, coach_client, renders):
    agreement = make_agreement(coach.practice)

    first = draft_pdf(coach_client, agreement)
    second = draft_pdf(coach_client, agreement)

    assert len(renders) == 1
    assert second == first
    assert first.startswith(b"%PDF")


def test_a_kept_draft_cut_short_by_a_full_disk_is_laid_out_again(
    coach, coach_client, renders, settings, monkeypatch
):
    """A full disk while the render was kept leaves the start of a file; it is never
    served, and the next download replaces it with a whole one."""
    agreement = make_agreement(coach.practice)
    real_save = FileSystemStorage._save

    def disk_full(storage, name, content):
        path = Path(storage.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.read()[:8192])  # what fitted
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)
    first = draft_pdf(coach_client, agreement)  # served from memory all the same
    kept = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / "agreement-drafts" / str(agreement.public_id)
    # What the full disk left is removed.
    assert not any(kept.iterdir())

    # Kept whole once the disk has room.
    monkeypatch.setattr(FileSystemStorage, "_save", real_save)
    assert draft_pdf(coach_client, agreement) == first and len(renders) == 2
    (path,) = kept.iterdir()
    assert path.read_bytes() == first
    # A cut-short file that stayed (the process died before removing it) is no render either.
    path.write_bytes(first[:8192])
    assert draft_pdf(coach_client, agreement) == first and len(renders) == 3
    assert [p.read_bytes() for p in kept.iterdir()] == [first]
    assert draft_pdf(coach_client, agreement) == first and len(renders) == 3


def test_a_changed_draft_is_rendered_again_and_only_its_latest_version_is_kept(
    coach, coach_client, renders, settings
):
    agreement = make_agreement(coach.practice)
    before = draft_pdf(coach_client, agreement)

    agreement.client_name = "Bram de Vries"
    agreement.save(update_fields=["client_name"])
    after = draft_pdf(coach_client, agreement)

    assert len(renders) == 2
    assert after != before
    assert "Bram de Vries" in page_texts(after)[0]
    kept = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / "agreement-drafts" / str(agreement.public_id)
    assert [path.read_bytes() for path in kept.iterdir()] == [after]
    # Served from storage again until the next change.
    assert draft_pdf(coach_client, agreement) == after
    assert len(renders) == 2


def test_a_kept_draft_is_only_served_to_its_practice(coach_client, coach, stranger, client):
    from .conftest import login_verified

    agreement = make_agreement(coach.practice)
    draft_pdf(coach_client, agreement)

    login_verified(client, stranger)
    response = client.get(reverse("agreement_pdf", args=[agreement.public_id]))

    assert response.status_code == 404


def test_a_deleted_draft_takes_its_kept_pdf_along(
    coach, coach_client, settings, django_capture_on_commit_callbacks
):
    """The kept PDF holds the client's data: deleting the draft, or the client with her
    drafts, removes it at once, not weeks later with the cleanup."""
    from .factories import make_client

    kept_folder = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / "agreement-drafts"
    agreement = make_agreement(coach.practice)
    client = make_client(coach.practice, "Bram")
    other = make_agreement(coach.practice, client)
    draft_pdf(coach_client, agreement)
    draft_pdf(coach_client, other)
    assert len(list((kept_folder / str(agreement.public_id)).iterdir())) == 1

    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("agreement_delete", args=[agreement.public_id]))
        coach_client.post(reverse("client_delete", args=[client.public_id]))

    assert list((kept_folder / str(agreement.public_id)).iterdir()) == []
    assert list((kept_folder / str(other.public_id)).iterdir()) == []


def test_old_kept_drafts_are_cleaned_up(coach, coach_client, settings):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    agreement = make_agreement(coach.practice)
    draft_pdf(coach_client, agreement)
    kept = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / "agreement-drafts" / str(agreement.public_id)
    assert len(list(kept.iterdir())) == 1

    assert pdf.remove_old_renders("agreement-drafts") == 0
    later = timezone.now() + pdf.KEEP_RENDERS + datetime.timedelta(minutes=1)
    assert pdf.remove_old_renders("agreement-drafts", now=later) == 1
    assert list(kept.iterdir()) == []
    call_command("draft_pdfs_cleanup", stdout=io.StringIO())


# The processing record in the dossier export ------------------------------------------------


def record_pdf(practice):
    dossier = zipfile.ZipFile(io.BytesIO(b"".join(export.practice_dossier(practice))))
    return dossier.read("verwerkingsregister.pdf")


def entries_text(content):
    """The record's text after its cover page."""
    return list(page_texts(content)[1:])


def record_text(content):
    return "\n".join(page_texts(content))


def test_each_agreement_of_the_record_is_rendered_once(coach, renders):
    names = ["Anna Jansen", "Bram de Vries", "Cas Peeters"]
    for name in names:
        fake_archived(coach.practice, make_client(coach.practice, name))

    first = record_pdf(coach.practice)
    # Each agreement's entries once, and the cover with the date printed.
    assert len(renders) == len(names) + 1
    text = record_text(first)
    assert all(name in text for name in names)
    assert "Aantal verwerkingen: 9" in text

    second = record_pdf(coach.practice)
    # Only the cover again: the entries come from storage.
    assert len(renders) == len(names) + 2
    assert len(PdfReader(io.BytesIO(second)).pages) == len(PdfReader(io.BytesIO(first)).pages)
    # The same entries (the cover has the time printed on it, which may differ).
    assert entries_text(second) == entries_text(first)


def test_an_ending_renders_only_that_agreements_entries_again(coach, renders):
    anna = fake_archived(coach.practice, make_client(coach.practice, "Anna Jansen"))
    fake_archived(coach.practice, make_client(coach.practice, "Bram de Vries"))
    record_pdf(coach.practice)
    renders.clear()

    import datetime

    AgreementEnding.objects.create(agreement=anna, coaching_ended_on=datetime.date(2027, 1, 31))
    text = record_text(record_pdf(coach.practice))

    assert len(renders) == 2  # the cover, and Anna's entries
    assert "Anna Jansen" in renders[1] and "Bram de Vries" not in renders[1]
    assert "31-01-2027" in text


def test_a_large_record_is_joined_in_parts(coach, renders, monkeypatch):
    monkeypatch.setattr(export, "RECORD_AGREEMENTS_PER_PDF", 2)
    for name in ["Anna Jansen", "Bram de Vries", "Cas Peeters"]:
        fake_archived(coach.practice, make_client(coach.practice, name))

    dossier = zipfile.ZipFile(io.BytesIO(b"".join(export.practice_dossier(coach.practice))))

    parts = sorted(n for n in dossier.namelist() if n.startswith("verwerkingsregister-"))
    assert parts == ["verwerkingsregister-001.pdf", "verwerkingsregister-002.pdf"]
    first, second = (record_text(dossier.read(name)) for name in parts)
    assert "deel 1 van 2" in first and "Anna Jansen" in first and "Bram de Vries" in first
    assert "deel 2 van 2" in second and "Cas Peeters" in second and "Anna" not in second
    assert len(renders) == 3 + 2


def test_an_erased_client_leaves_no_kept_record_entries_or_draft_pdfs(coach, settings):
    import datetime

    from records.erasure import client_erase

    client = make_client(coach.practice, "Anna Jansen")
    agreement = fake_archived(coach.practice, client)
    AgreementEnding.objects.create(agreement=agreement, coaching_ended_on=datetime.date(2000, 1, 1))
    record_pdf(coach.practice)
    kept = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / record_entries.RECORD_ENTRIES
    assert (kept / str(agreement.public_id)).exists()
    # And a draft of hers, downloaded once.
    from agreements.documents import draft_pdf as kept_draft_pdf

    draft = make_agreement(coach.practice, client)
    kept_draft_pdf(draft)
    drafts = settings.MEDIA_ROOT / pdf.RENDERS_FOLDER / "agreement-drafts" / str(draft.public_id)
    assert len(list(drafts.iterdir())) == 1

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        client_erase(client=client, origin=Origin.system())

    assert list((kept / str(agreement.public_id)).iterdir()) == []
    assert list(drafts.iterdir()) == []


# Queries per page ---------------------------------------------------------------------------


def queries(http_client, url):
    with CaptureQueriesContext(connection) as captured:
        response = http_client.get(url)
    assert response.status_code == 200
    return len(captured), response


def more_agreements(practice, count):
    client = make_client(practice, "Cliënt Veel")
    for _ in range(count):
        make_agreement(practice, client)


@pytest.mark.parametrize("url_name", ["agreement_list", "dashboard", "client_list"])
def test_list_pages_make_the_same_queries_for_10_and_60_rows(
    coach, coach_client, url_name, django_assert_num_queries
):
    practice = coach.practice
    for index in range(10):
        make_agreement(practice, make_client(practice, f"Cliënt {index:02d}"))
    url = reverse(url_name)
    at_ten, _response = queries(coach_client, url)

    for index in range(10, 60):
        make_agreement(practice, make_client(practice, f"Cliënt {index:02d}"))
    more_agreements(practice, 5)

    with django_assert_num_queries(at_ten):
        coach_client.get(url)


def test_the_event_list_is_paged_with_the_same_queries_for_10_and_60_events(
    coach, coach_client, django_assert_num_queries
):
    agreement = make_agreement(coach.practice)
    for index in range(9):
        agreement.log("reminded", Origin.system(), detail=f"herinnering {index}")
    url = reverse("agreement_detail", args=[agreement.public_id])
    at_ten, response = queries(coach_client, url)
    assert "herinnering 8" in response.text

    for index in range(9, 59):
        agreement.log("reminded", Origin.system(), detail=f"herinnering {index}")
    with django_assert_num_queries(at_ten):
        response = coach_client.get(url)
    assert "herinnering 0<" in response.text and "herinnering 58<" not in response.text
    second = coach_client.get(url + "?page=2").text
    assert "herinnering 58<" in second and "herinnering 0<" not in second


def test_the_agreement_list_does_not_load_the_stored_pdfs(coach, coach_client):
    make_agreement(coach.practice)
    with CaptureQueriesContext(connection) as captured:
        coach_client.get(reverse("agreement_list"))
        coach_client.get(reverse("dashboard"))
    loading = [q["sql"] for q in captured if "agreements_signabledocument" in q["sql"]]
    assert loading
    assert [sql for sql in loading if '"document_pdf"' in sql] == []


# The benchmark ----------------------------------------------------------------------------


def test_the_instructions_benchmark_still_finds_the_parts_it_removes(coach):
    """`make bench-instructions` removes the margin boxes, the draft mark and the inline
    blocks to show what each costs; a stylesheet or template that drops one must not leave
    it measuring the same document twice unnoticed."""
    from bench.__main__ import agreement_print_html
    from bench.instructions import inline_blocks_inline, without_draft_mark, without_margin_boxes

    html, _allowed = agreement_print_html(make_agreement(coach.practice))
    css = pdf.find_static_file("css/agreement-print.css").read_text()

    assert "@top-" in css and "@bottom-" in css
    assert "@top-" not in without_margin_boxes(css)
    assert "@bottom-" not in without_margin_boxes(css)
    assert 'class="draft-mark"' in html
    assert 'class="draft-mark"' not in without_draft_mark(html)
    assert "inline-block" not in inline_blocks_inline(css)
