"""Every form refuses control characters and the bidirectional controls (core/text.py):
what a party reads in the PDF or the email is what was stored."""

import importlib
import pkgutil

import pytest
from django import forms
from django.urls import reverse

from core.models import Client
from core.text import PlainTextForm, plain_text, refused_characters

APPS = ("core", "avg_portal", "agreements", "breaches", "records")
RLO = "\u202e"


def our_form_classes():
    """Every form class defined in the app's own modules (migrations and tests aside)."""
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            importlib.import_module(module.name)
    found = []
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.split(".")[0] in APPS and cls is not PlainTextForm:
            found.append(cls)
    return found


def test_every_form_of_the_app_refuses_them():
    classes = our_form_classes()

    assert len(classes) >= 40
    # Mixed in before Django's form class, so that its full_clean runs.
    missing = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes
        if PlainTextForm not in cls.__mro__
        or cls.__mro__.index(PlainTextForm) > cls.__mro__.index(forms.BaseForm)
    ]
    assert missing == []


def test_a_long_run_of_spaces_is_not_worked_on_in_quadratic_time():
    """A logged-out form (the login, the password reset) takes 2.5 MB: a pattern that tried
    a run of spaces from each of its spaces would keep a worker busy for minutes."""
    import subprocess
    import sys

    # In a process of its own first, so that a quadratic pattern fails the test (after a
    # minute, where it takes milliseconds) instead of hanging the suite.
    check = "from core.text import plain_text; plain_text(' ' * 300_000 + 'x', multiline=False)"
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)  # noqa: S603
    text = " " * 300_000 + "x"
    assert plain_text(text + "\t" + text, multiline=False) == text + " " + text.lstrip()


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("Zoë Ünal-Brontë", []),
        ("Jan\tde Vries\r\nRegel twee\x0bdrie", []),
        (f"Jan{RLO}fdp.exe", [RLO]),
        ("a\u2066b\u2069c\u202ad", ["\u2066", "\u2069", "\u202a"]),
        ("bel\x07 esc\x1b del\x7f c1\x9b \x07", ["\x07", "\x1b", "\x7f", "\x9b"]),
        # What right-to-left writing and emoji need stays: marks and joiners.
        (
            "\u05e9\u05dc\u05d5\u05dd\u200f \u0645\u0631\u062d\u0628\u0627\u061c"
            " \U0001f469\u200d\U0001f4bb",
            [],
        ),
    ],
)
def test_which_characters_are_refused(text, refused):
    assert refused_characters(text) == refused


@pytest.mark.parametrize(
    ("text", "one_line", "several_lines"),
    [
        ("Jan de Vries", "Jan de Vries", "Jan de Vries"),
        ("een\r\ntwee\ndrie\rvier", "een twee drie vier", "een\r\ntwee\ndrie\rvier"),
        # Pasted from a word processor: vertical tab, form feed, NEL, U+2028, U+2029.
        (
            "a\x0bb\x0cc\x85d\u2028e\u2029f",
            "a b c d e f",
            "a\r\nb\r\nc\r\nd\r\ne\r\nf",
        ),
        # In one line, a run of breaks and tabs with the spaces around it is one space.
        ("de coach\tprivacy", "de coach privacy", "de coach\tprivacy"),
        (
            "Lindelaan 12 \u2028 \r\n\t5038 AB",
            "Lindelaan 12 5038 AB",
            "Lindelaan 12 \r\n \r\n\t5038 AB",
        ),
    ],
)
def test_line_breaks_of_every_kind_become_plain_ones(text, one_line, several_lines):
    assert plain_text(text, multiline=False) == one_line
    assert plain_text(text, multiline=True) == several_lines


@pytest.mark.django_db
def test_a_client_named_with_a_direction_override_is_refused_in_dutch(coach_client, coach):
    response = coach_client.post(
        reverse("client_create"),
        {
            "name": f"Jan{RLO}fdp.exe",
            "residence": "Breda",
            "email": "jan@example.test",
            "language": "nl",
        },
    )

    assert response.status_code == 200
    assert "onzichtbare stuur- of richtingstekens (U+202E)" in response.text
    assert not Client.objects.filter(practice=coach.practice).exists()

    response = coach_client.post(
        reverse("client_create"),
        {
            "name": "Jan\u2028de Vries\r\n",
            "residence": "Breda",
            "email": "jan@example.test",
            "language": "nl",
        },
    )
    assert response.status_code == 302
    assert Client.objects.get(practice=coach.practice).name == "Jan de Vries"


@pytest.mark.django_db
def test_a_text_of_several_lines_keeps_its_lines_but_not_an_escape(coach_client, coach):
    from django.utils import timezone

    from breaches.models import Breach

    form = {
        "summary": "Laptop gestolen\r\nuit de auto\x1b[31m",
        "discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    response = coach_client.post(reverse("breach_create"), form)

    assert response.status_code == 200
    assert "(U+001B)" in response.text
    assert not Breach.objects.exists()

    form["summary"] = "Laptop gestolen\x0buit de auto\r\nop maandag"
    response = coach_client.post(reverse("breach_create"), form)
    assert response.status_code == 302
    summary = Breach.objects.get(practice=coach.practice).summary
    assert summary == "Laptop gestolen\r\nuit de auto\r\nop maandag"


@pytest.mark.django_db
def test_a_phone_number_pasted_with_no_break_spaces_is_taken(coach_client, coach):
    data = {"name": "Jan", "residence": "Breda", "email": "jan@example.test", "language": "nl"}
    response = coach_client.post(
        reverse("client_create"), data | {"phone": "+31\u00a06\u00a01234\u202f5678"}
    )

    assert response.status_code == 302
    assert Client.objects.get(practice=coach.practice).phone == "+31\u00a06\u00a01234\u202f5678"
    response = coach_client.post(reverse("client_create"), data | {"phone": "bel me maar"})
    assert "Voer een telefoonnummer in" in response.text


@pytest.mark.django_db
def test_a_name_stored_with_a_direction_character_can_still_be_confirmed(coach):
    """Erasure asks for the client's name typed: for a name stored before such characters
    were refused, typing it without them is enough (pasting them is refused)."""
    from records.forms import EraseForm

    client = Client.objects.create(practice=coach.practice, name=f"Jan{RLO}Vries", email="j@x.test")

    assert EraseForm({"confirm_name": "JanVries"}, client=client).is_valid()
    assert not EraseForm({"confirm_name": f"Jan{RLO}Vries"}, client=client).is_valid()
    assert not EraseForm({"confirm_name": "Jan Vries"}, client=client).is_valid()
