"""The agreement document: the seed's text, filled in, in the HTML preview and in the PDF.

The expected text is built from the seed itself (tests/data/seed_agreement.txt, the coach's
own agreement as extracted from Word), with the same corrections version 2026.1 makes. So
every sentence of the seed is checked, and every deviation from it is listed here.
"""

import base64
import datetime
import html
import io
import re
import unicodedata
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.conf import settings
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from agreements import document_versions, documents
from agreements.actions import agreement_create_draft
from agreements.document_versions import DocumentVersion
from agreements.models import Agreement, Client, ProcessingActivity
from avg_portal import pdf
from core.origin import Actor, Origin

from .conftest import make_practice
from .pdf_reading import page_texts

pytestmark = pytest.mark.django_db

SEED = Path(__file__).parent / "data" / "seed_agreement.txt"

PRACTICE = "Ångström Coaching"
CLIENT = "Zoë Ünal-Brontë"
ROLE = "de coach"
PHONE = "06 12345678"
EMAIL = "privacy@angstrom.test"
TICKED = {"virus_scan", "bitlocker", "no_private_laptop", "privacy_screens", "careful_usb"}
EXTRA_MEASURES = ["Papieren dossiers in een afgesloten kast", "Wachtwoordmanager met 2FA"]
ROWS = [
    {
        "description": "Intakeverslag van de eerste sessie\nmet de hulpvraag",
        "purposes": "Doel één: het traject plannen\nDoel twee: de voortgang meten",
        "controller": "Ångström Coaching",
        "processor": "Ångström Coaching (Mado)",
        "sub_processors": "Mailbox.example B.V.",
        "personal_data": "Naam, geboortedatum, hulpvraag",
        "location": "Versleutelde laptop, kantoor Tilburg",
        "retention": "24 maanden na afronding",
    },
    {
        "description": "Sessieverslagen Ærø-methode",
        "purposes": "Evaluatie van het coachtraject",
        "controller": "Ångström Coaching",
        "processor": "Ångström Coaching",
        "sub_processors": "",
        "personal_data": "Gezondheid (bijzonder persoonsgegeven)",
        "location": "Afgesloten archiefkast",
        "retention": "Vijftien jaar",
    },
    {
        "description": "Facturatie via het boekhoudpakket",
        "purposes": "Fiscale bewaarplicht",
        "controller": "Ångström Coaching",
        "processor": "Boekhouder Çelik",
        "sub_processors": "Moneybird-achtige dienst",
        "personal_data": "Naam, adres, IBAN",
        "location": "Nederland (EU)",
        "retention": "7 jaar",
    },
]

# Word artefacts of the extraction, none of them part of the text: a bookmark, list numbers
# doubled by Word, the heading of clause 10 that slid into 8.5, a page number, bullet glyphs,
# and the garbled first party line (the seed coach's own filled-in values).
ARTEFACTS = [
    ("[bookmark: _GoBack]", ""),
    ("1. 1.1 ", "1.1 "),
    ("1. 9.1 ", "9.1 "),
    ("2. 9.2 ", "9.2 "),
    ("3. 9.3 ", "9.3 "),
    ("als dit 10. Slotbepalingen het gevolg", "als dit het gevolg"),
    ("niet langer hebt. 10.1 Deze", "niet langer hebt. 10. Slotbepalingen 10.1 Deze"),
    (" 7 Bijlage 2:", " Bijlage 2:"),
    ("· - ", ""),
    ("· ☐ ", "☐ "),
    ("* ", ""),
    (
        "Verantwoordelijke en verwerker, te weten Mado Remkes, statutair gevestigd te "
        "Tilburg, hierna te noemen als “Ik” en ",
        "",
    ),
]

# Evident typing errors that version 2026.1 corrects.
CORRECTIONS = [
    ("verwerkersovereenkomst 1. Definities:", "verwerkersovereenkomst. 1. Definities:"),
    ("(“Verwerker ”)", "(“Verwerker”)"),
    ("de verwerkte persoonsgegeven betrekking", "de verwerkte persoonsgegevens betrekking"),
    ("ten allen tijde", "te allen tijde"),
    ("Ik zorgt ervoor", "Ik zorg ervoor"),
    ("Het niet toegestaan", "Het is niet toegestaan"),
    ("AlsJijjouwverplichtingenuitdeze", "Als Jij jouw verplichtingen uit deze"),
    ("opgelegede", "opgelegde"),
    ("tussen ons bepaald de rechter", "tussen ons bepaalt de rechter"),
    ("aan de Verwerker opgelegt.", "aan de Verwerker oplegt."),
    ("beveilliging", "beveiliging"),
    ("Zorgvuldig gebruikt van", "Zorgvuldig gebruik van"),
    ("vragen voor ons beantwoord.", "vragen voor ons beantwoordt."),
]

HEADINGS = [
    "Definities:",
    "Totstandkoming, duur en beëindiging van deze Verwerkersovereenkomst",
    "Verwerken Persoonsgegevens",
    "Beveiligen van Persoonsgegevens",
    "Exporteren Persoonsgegevens",
    "Geheimhouding",
    "Datalekken",
    "Aansprakelijkheid",
    "Teruggave Persoonsgegevens en bewaartermijn",
    "Slotbepalingen",
]

# The seed's numbering, kept as it is: it has no 4.3.
CLAUSE_NUMBERS = [
    *(f"1.{n}" for n in range(1, 11)),
    *(f"2.{n}" for n in range(1, 5)),
    *(f"3.{n}" for n in range(1, 6)),
    *("4.1", "4.2", "4.4", "4.5"),
    "5.1",
    "6.1",
    *(f"7.{n}" for n in range(1, 5)),
    *(f"8.{n}" for n in range(1, 6)),
    *(f"9.{n}" for n in range(1, 4)),
    *(f"10.{n}" for n in range(1, 6)),
]

BLANK = "_{3,}"
DOTS = "…+"


def normalise(text):
    """Composed characters (the seed has some decomposed ones), whitespace collapsed, and
    list markers dropped (the seed's are Word glyphs, ours come from CSS)."""
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.replace("•", " ").replace("–", " ").split())


def replace(text, old, new):
    assert old in text, f"{old!r} is not in the seed (any more)"
    return text.replace(old, new)


def fill(text, pattern, value):
    """Fill the one blank that `pattern` (with BLANK or DOTS in it) finds."""
    filled, count = re.subn(pattern, lambda _match: value, text)
    assert count == 1, f"expected one blank for {pattern!r}, found {count}"
    return filled


def section(text, start, end=None):
    begin = text.index(start)
    return text[begin : text.index(end, begin) if end else None].strip()


@pytest.fixture
def agreement():
    practice = make_practice(
        PRACTICE,
        statutory_seat="Tilburg",
        breach_contact_role=ROLE,
        breach_contact_phone=PHONE,
        breach_contact_email=EMAIL,
        default_penalty_per_violation=Decimal("2500"),
        default_penalty_per_day=Decimal("250"),
    )
    client = Client.objects.create(
        practice=practice, name=CLIENT, residence="Breda", email="zoe@example.test"
    )
    agreement = agreement_create_draft(
        practice=practice,
        client=client,
        coaching_agreement_date=datetime.date(2026, 9, 1),
        origin=Origin(actor=Actor.COACH),
    )
    agreement.agreement_date = datetime.date(2026, 8, 15)
    agreement.measures = sorted(TICKED)
    agreement.extra_measures = f"{EXTRA_MEASURES[0]}\n\n  {EXTRA_MEASURES[1]}  \n"
    agreement.data_subjects = "Eén: de cliënt"
    agreement.processing_purpose = "Coaching bij loopbaanvragen"
    agreement.storage = "Twee jaar, versleuteld"
    agreement.save()
    agreement.activities.all().delete()
    ProcessingActivity.objects.bulk_create(
        ProcessingActivity(agreement=agreement, position=position, **row)
        for position, row in enumerate(ROWS)
    )
    return agreement


@pytest.fixture
def fetched_urls(monkeypatch):
    """Every URL WeasyPrint asks the fetcher for, served or refused."""
    urls = []
    fetch = pdf.StaticFilesURLFetcher.fetch

    def recording_fetch(self, url, headers=None):
        urls.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(pdf.StaticFilesURLFetcher, "fetch", recording_fetch)
    return urls


def pdf_pages(content):
    return [normalise(text) for text in page_texts(content)]


def page_furniture(agreement, number, total):
    """The header and footer around the text of every page, as pypdf extracts them."""
    draft_label = "CONCEPT · nog niet ondertekend" if agreement.is_draft else ""
    return normalise(
        f"{agreement.practice_name} {draft_label} Verwerkersovereenkomst "
        f"Verwerkersovereenkomst · tekstversie {agreement.template_version} "
        f"Pagina {number} van {total}"
    )


def pdf_body_text(agreement, content):
    """The document's text without the header and footer of each page, which the
    extraction puts at the end of every page (so a sentence across pages stays whole)."""
    pages = pdf_pages(content)
    bodies = []
    for number, text in enumerate(pages, start=1):
        furniture = page_furniture(agreement, number, len(pages))
        assert text.endswith(furniture), f"page {number} lacks its header or footer"
        bodies.append(text.removesuffix(furniture))
    return normalise(" ".join(bodies))


def fragment_text(fragment):
    return normalise(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def static_url(path):
    return urljoin(pdf.BASE_URL, f"/static/{path}")


def png_data_uri():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seed_text():
    text = normalise(SEED.read_text(encoding="utf-8"))
    for old, new in ARTEFACTS + CORRECTIONS:
        text = replace(text, old, new)
    return text


def expected_sections():
    """The seed's text, corrected and filled in with this agreement's values, as the
    continuous stretches of text the document must contain."""
    seed = seed_text()
    seed = fill(seed, f"Datum: {BLANK}", "Datum: 15 augustus 2026")
    seed = fill(seed, f"Wij hebben op {BLANK}", "Wij hebben op 1 september 2026")
    seed = fill(seed, f"verschuldigd van {BLANK}", "verschuldigd van € 2.500,00")
    seed = fill(seed, f"overtreding en {BLANK}", "overtreding en € 250,00")
    seed = fill(
        seed, f"Verantwoordelijke te weten {BLANK}", f"Verantwoordelijke te weten {PRACTICE}"
    )
    seed = fill(seed, f"statutair gevestigd te {BLANK}", "statutair gevestigd te Tilburg")
    seed = fill(seed, f"en 2 client, te weten {DOTS}", f"en 2. client, te weten {CLIENT}")
    seed = fill(seed, f"woonachtig te {DOTS} hierna", "woonachtig te Breda, hierna")
    # The contact's role carries its own article ("de coach"), so "de ____" is one blank.
    seed = fill(seed, f"contact op met de {BLANK} Waar", f"contact op met {ROLE}. Waar")
    seed = fill(seed, f"contact op met de {BLANK}:", f"contact op met {ROLE}:")
    seed = fill(seed, f"De {BLANK} kan je helpen", f"{ROLE.capitalize()} kan je helpen")
    seed = fill(seed, f"TEL: {BLANK}", f"TEL: {PHONE}")
    seed = fill(seed, f"E-MAIL: {BLANK}", f"E-MAIL: {EMAIL}")
    # What is left of the underscores were lines to write on.
    seed = normalise(re.sub(BLANK, " ", seed))
    return {
        "header": section(seed, "Verwerkersovereenkomst Datum:", "Overwegende dat:"),
        "recitals": section(seed, "Overwegende dat:", "1. Definities:"),
        "clauses": section(seed, "1. Definities:", "Aldus door ons"),
        "signatures": section(seed, "Aldus door ons", "Bijlage 1:"),
        "annex 1": section(seed, "Bijlage 1:", "Beschrijving verwerkingsactiviteiten"),
        "annex 2": section(seed, "Bijlage 2:", "Technische beveiligingsmaatregelen"),
        "annex 3": section(seed, "Bijlage 3:"),
    }


def seed_activity_labels():
    labels = section(seed_text(), "Beschrijving verwerkingsactiviteiten", "Bijlage 2:")
    return [label.strip() for label in re.findall(r"[^:]+:", labels)]


def seed_measures():
    """The Bijlage 2 checklists of the seed: (technical labels, organisational labels)."""
    lists = section(seed_text(), "Technische beveiligingsmaatregelen", "Bijlage 3:")
    technical, organisational = lists.removeprefix("Technische beveiligingsmaatregelen").split(
        "Organisatorische beveiligingsmaatregelen"
    )
    return tuple(
        [label.strip() for label in part.split("☐") if label.strip()]
        for part in (technical, organisational)
    )


def expected_activity(number, row):
    values = [
        row["description"],
        row["purposes"],
        row["controller"],
        row["processor"],
        row["sub_processors"] or "—",
        row["personal_data"],
        row["location"],
        row["retention"],
    ]
    pairs = (
        f"{label} {value}" for label, value in zip(seed_activity_labels(), values, strict=True)
    )
    return normalise(f"Verwerking {number} " + " ".join(pairs))


def assert_complete_document(text):
    """The whole seed, corrected and filled in, and every value of the agreement."""
    for name, expected in expected_sections().items():
        assert expected in text, f"the {name} of the seed is not in the document"

    clauses = section(text, "1. Definities:", "Aldus door ons")
    assert re.findall(r"(?:^| )(\d+\.\d+) ", clauses) == CLAUSE_NUMBERS
    for number, heading in enumerate(HEADINGS, start=1):
        assert f"{number}. {heading}" in clauses

    for number, row in enumerate(ROWS, start=1):
        assert expected_activity(number, row) in text

    assert (
        "Afweging voor deze verwerking "
        "Soort persoonsgegevens: bijzondere persoonsgegevens (bijv. gezondheid) "
        "Hoeveelheid betrokkenen: Eén: de cliënt "
        "Doel waarvoor gegevens worden verwerkt: Coaching bij loopbaanvragen "
        "Duur en wijze van bewaren: Twee jaar, versleuteld"
    ) in text

    version = document_versions.get_version("2026.1")
    for heading, measures in (
        ("Technische beveiligingsmaatregelen", version.technical_measures),
        ("Organisatorische beveiligingsmaatregelen", version.organisational_measures),
    ):
        checklist = " ".join(
            f"{'☑' if measure.code in TICKED else '☐'} {measure.label}" for measure in measures
        )
        assert f"{heading} {checklist}" in text
    extra = " ".join(f"☑ {line}" for line in EXTRA_MEASURES)
    assert f"Aanvullende beveiligingsmaatregelen {extra}" in text

    assert "Mado Remkes" not in text
    assert "_" not in text
    assert "[bookmark" not in text


def test_the_measure_catalogue_of_2026_1_is_the_seeds():
    technical, organisational = seed_measures()
    version = document_versions.get_version("2026.1")
    assert [m.label for m in version.technical_measures] == technical
    assert [m.label for m in version.organisational_measures] == organisational


def test_the_pdf_holds_the_whole_seed_filled_in(agreement, fetched_urls):
    content = documents.render_agreement_pdf(agreement)

    assert content.startswith(b"%PDF-")
    text = pdf_body_text(agreement, content)
    assert_complete_document(text)
    assert re.search(r"Pagina 1 van \d+$", pdf_pages(content)[0])
    assert fetched_urls == [
        static_url("css/agreement-print.css"),
        static_url("img/concept-mark.svg"),
    ]


def test_the_html_preview_holds_the_same_text(agreement, django_assert_num_queries):
    with django_assert_num_queries(1):
        fragment = documents.render_agreement_html(agreement)

    text = fragment_text(fragment)
    assert_complete_document(text)
    assert "CONCEPT" not in text
    assert "<html" not in fragment


def test_a_draft_says_so_on_every_page(agreement):
    pages = pdf_pages(documents.render_agreement_pdf(agreement))

    assert all("CONCEPT · nog niet ondertekend" in page for page in pages)


def test_the_header_and_footer_are_printed_once_on_every_page(agreement):
    # Their texts come from hidden elements at the start (string-set), never printed there.
    pages = pdf_pages(documents.render_agreement_pdf(agreement))

    assert len(pages) > 1
    for page in pages:
        assert page.count("CONCEPT · nog niet ondertekend") == 1
        assert page.count(f"tekstversie {agreement.template_version}") == 1


def test_a_signed_agreement_prints_without_the_draft_mark(agreement, fetched_urls):
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.SIGNED)
    agreement.refresh_from_db()

    content = documents.render_agreement_pdf(agreement)

    assert "CONCEPT" not in " ".join(pdf_pages(content))
    assert_complete_document(pdf_body_text(agreement, content))
    assert fetched_urls == [static_url("css/agreement-print.css")]


HOSTILE = '<img src="file:///etc/passwd"> <script>alert(1)</script> {{ settings.SECRET_KEY }}'


@pytest.fixture
def hostile_agreement(agreement):
    agreement.client_name = HOSTILE
    agreement.extra_measures = HOSTILE
    agreement.save()
    agreement.activities.filter(position=0).update(description=HOSTILE)
    return agreement


def test_user_input_prints_literally(hostile_agreement, fetched_urls):
    content = documents.render_agreement_pdf(hostile_agreement)

    text = normalise(" ".join(pdf_pages(content)))
    assert text.count(HOSTILE) == 3  # the client's name, the Bijlage 1 row, the measure
    assert settings.SECRET_KEY not in text
    assert not any("passwd" in url for url in fetched_urls)
    assert all(url.startswith(urljoin(pdf.BASE_URL, "/static/")) for url in fetched_urls)


def test_names_in_any_script_print_as_letters_not_empty_boxes(agreement, caplog, tmp_path):
    """DejaVu has Latin, Greek, Cyrillic, Hebrew and Arabic, not Chinese or emoji: those
    print with the fallback fonts `make system-deps` installs (Droid Sans Fallback,
    Symbola), never as the empty box WeasyPrint draws for a glyph no font has."""
    import os
    import shutil
    import subprocess

    families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True)  # noqa: S607
    if not all(font in families.stdout for font in ("Droid Sans Fallback", "Symbola")):
        if os.environ.get("CI"):
            pytest.fail("fonts-droid-fallback and fonts-symbola are missing (make system-deps)")
        pytest.skip("fonts-droid-fallback and fonts-symbola are missing (make system-deps)")
    agreement.client_name = "王丽 (Wang Li) 😀 Ελένη Юлия שלום مرحبا"
    agreement.save()

    with caplog.at_level("WARNING", logger="weasyprint"):
        content = documents.render_agreement_pdf(agreement)

    assert not [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()]
    assert "王丽 (Wang Li)" in normalise(" ".join(pdf_pages(content)))
    pdffonts = shutil.which("pdffonts")  # poppler-utils, which make test installs
    assert pdffonts, "pdffonts is missing: make browser-deps installs poppler-utils"
    path = tmp_path / "agreement.pdf"
    path.write_bytes(content)
    fonts = subprocess.run([pdffonts, path], capture_output=True, text=True, check=True)  # noqa: S603
    assert "Droid-Sans-Fallback" in fonts.stdout
    assert "Symbola" in fonts.stdout


def test_user_input_is_escaped_in_the_preview(hostile_agreement):
    fragment = documents.render_agreement_html(hostile_agreement)

    escaped = html.escape(HOSTILE)
    assert fragment.count(escaped) == 3
    assert "<script" not in fragment
    assert "<img" not in fragment
    assert settings.SECRET_KEY not in fragment


def test_multi_line_fields_keep_their_lines(agreement):
    fragment = documents.render_agreement_html(agreement)

    assert "Doel één: het traject plannen<br>Doel twee: de voortgang meten" in fragment


def test_the_fetcher_serves_our_static_files():
    response = pdf.StaticFilesURLFetcher().fetch(static_url("css/agreement-print.css"))

    css = Path(settings.BASE_DIR, "static/css/agreement-print.css").read_bytes()
    assert response.read() == css
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        Path(settings.BASE_DIR, "static/css/agreement-print.css").as_uri(),
        "http://example.com/style.css",
        "https://example.com/logo.png",
        "https://avg-portal.invalid.example.com/static/css/agreement-print.css",
        "ftp://avg-portal.invalid/static/css/agreement-print.css",
        "data:text/css,body{background:url(file:///etc/passwd)}",
        png_data_uri(),
        static_url("../avg_portal/settings.py"),
        urljoin(pdf.BASE_URL, "/static/%2e%2e/avg_portal/settings.py"),
        urljoin(pdf.BASE_URL, "/static/css/%2e%2e/%2e%2e/manage.py"),
        urljoin(pdf.BASE_URL, "/static/css/..%2f..%2fmanage.py"),
        urljoin(pdf.BASE_URL, "/static//etc/passwd"),
        urljoin(pdf.BASE_URL, "/manage.py"),
        urljoin(pdf.BASE_URL, "/media/signature.png"),
        static_url("css/no-such-file.css"),
        static_url("css/agreement-print.css?v=1"),
    ],
)
def test_the_fetcher_refuses_everything_else(url):
    fetcher = pdf.StaticFilesURLFetcher()

    with pytest.raises(pdf.URLRefused):
        fetcher.fetch(url)
    assert fetcher.requested == [url]


def test_the_fetcher_serves_collected_static_files(settings, tmp_path):
    """In production the manifest storage links to hashed copies that only STATIC_ROOT has."""
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "css").mkdir()
    (tmp_path / "css/agreement-print.0123abcd.css").write_text("p { color: black }")
    (tmp_path / "css/secrets.css").symlink_to(Path(settings.BASE_DIR, "manage.py"))
    fetcher = pdf.StaticFilesURLFetcher()

    response = fetcher.fetch(static_url("css/agreement-print.0123abcd.css"))

    assert response.read() == b"p { color: black }"
    with pytest.raises(pdf.URLRefused):
        fetcher.fetch(static_url("css/secrets.css"))


def test_only_allowed_data_uris_are_rendered():
    image = png_data_uri()
    document = f'<html><body><p>Handtekening:</p><img src="{image}"></body></html>'

    with pytest.raises(pdf.PdfError, match="data: URI"):
        pdf.render_pdf(document, title="Test", author="Test")
    content = pdf.render_pdf(document, title="Test", author="Test", allowed_data_uris=[image])

    assert len(PdfReader(io.BytesIO(content)).pages[0].images) == 1


def test_oversize_html_is_refused():
    document = "<p>" + "x" * pdf.MAX_HTML_BYTES + "</p>"

    with pytest.raises(pdf.DocumentTooLarge):
        pdf.render_pdf(document, title="Test", author="Test")


def test_the_pdf_carries_its_metadata(agreement):
    reader = PdfReader(io.BytesIO(documents.render_agreement_pdf(agreement)))

    assert reader.metadata.title == f"Verwerkersovereenkomst {PRACTICE} – {CLIENT}"
    assert reader.metadata.author == PRACTICE
    assert reader.trailer["/Root"]["/Lang"] == "nl"
    identification = reader.xmp_metadata.rdf_root.getElementsByTagNameNS(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"
    )[0]
    assert identification.getAttribute("pdfaid:part") == "3"
    assert identification.getAttribute("pdfaid:conformance") == "B"


def test_the_document_is_dutch_whatever_the_interface_language(agreement):
    with translation.override("en"):
        text = fragment_text(documents.render_agreement_html(agreement))

    assert "Datum: 15 augustus 2026" in text
    assert "Soort persoonsgegevens: bijzondere persoonsgegevens" in text


@pytest.fixture
def version_2099(monkeypatch, settings):
    """A newer text version, released after the agreement fixture was drafted."""
    settings.TEMPLATES = [
        settings.TEMPLATES[0]
        | {"DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"]}
    ]
    current = document_versions.get_version(document_versions.CURRENT_VERSION)
    newer = DocumentVersion(
        code="2099.1",
        template="document_versions/2099.1.html",
        technical_measures=current.technical_measures,
        organisational_measures=current.organisational_measures,
    )
    monkeypatch.setitem(document_versions.VERSIONS, "2099.1", newer)
    monkeypatch.setattr(document_versions, "CURRENT_VERSION", "2099.1")
    return newer


def test_an_agreement_keeps_the_text_version_it_was_drafted_with(agreement, version_2099):
    newer = Agreement.objects.get(pk=agreement.pk)
    # A copy of a document that inherits from SignableDocument needs a new base row too.
    newer.pk = newer.key = newer.document_id = None
    newer._state.adding = True
    newer.public_id = uuid.uuid4()
    newer.template_version = "2099.1"
    newer.save()

    old_text = fragment_text(documents.render_agreement_html(agreement))
    assert "1.1 Persoonsgegevens: alle informatie" in old_text
    assert "tekstversie 2099.1" not in old_text
    assert "1.1 Persoonsgegevens: alle informatie" in pdf_body_text(
        agreement, documents.render_agreement_pdf(agreement)
    )

    new_text = fragment_text(documents.render_agreement_html(newer))
    assert new_text == f"Verwerkersovereenkomst, tekstversie 2099.1, voor {CLIENT}."
    assert "Pagina 1 van 1" in pdf_pages(documents.render_agreement_pdf(newer))[0]
