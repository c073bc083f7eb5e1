import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from avg_portal import settings as project_settings
from avg_portal.settings import mailer_from_url

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 10 + "a-real-looking-production-secret-key-0123456789-xyz",
    "DJANGO_ALLOWED_HOSTS": "avg.example.nl",
    "DJANGO_EMAIL_URL": "smtp://mailer:geheim@smtp.example.nl:587?tls=1",
    "DJANGO_SITE_URL": "https://avg.example.nl",
    "DJANGO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "DJANGO_CACHE_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def issued_seal_files(tmp_path):
    """A seal certificate issued by a CA (not self-signed), as production has."""
    from tests.test_seal_ltv import issued_seal_certificate

    return issued_seal_certificate(tmp_path)


def test_check_deploy_is_clean_with_production_settings(issued_seal_files):
    env = PRODUCTION | issued_seal_files | {"DJANGO_TSA_URL": "https://tsa.example.nl/tsr"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_demands_a_seal_certificate():
    result = manage("check", "--deploy", env=PRODUCTION)
    assert result.returncode != 0
    assert "avg_portal.E001" in result.stderr


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "too-short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be one of"),
        ({"DJANGO_EMAIL_URL": "pigeon://coop"}, "DJANGO_EMAIL_URL"),
        ({"DJANGO_LOGIN_FAILURE_LIMIT": "lots"}, "DJANGO_LOGIN_FAILURE_LIMIT"),
    ],
)
def test_production_refuses_to_start_on_nonsense(env, complaint):
    result = manage("check", env=PRODUCTION | env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_smtp_url_becomes_a_mailer():
    mailer = mailer_from_url("smtp://user%40x:p%2Fw@mail.example.nl:2525?tls=1")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] | {"timeout": None} == {
        "host": "mail.example.nl",
        "port": 2525,
        "username": "user@x",
        "password": "p/w",
        "use_tls": True,
        "use_ssl": False,
        "timeout": None,
    }
    assert mailer_from_url("smtps://mail.example.nl")["OPTIONS"]["port"] == 465


def test_passwords_are_hashed_with_argon2(db, settings):
    from avg_portal.models import User

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user(email="argon@praktijk.test", password="een-lang-wachtwoord")
    assert user.password.startswith("argon2")


def test_security_headers(client, db):
    response = client.get(reverse("two_factor:login"))
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_for_a_host_not_allowed_has_the_security_headers_too(client, db):
    response = client.get("/", HTTP_HOST="elders.example")
    assert response.status_code == 400
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_loads_assets_from_another_origin():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if "emails" in path.parts:
            continue
        for marker in ('src="http', 'href="http', 'src="//', 'href="//', "url(http"):
            if marker in text:
                offenders.append(f"{path}: {marker}")
    assert offenders == []


def test_a_form_sent_without_its_csrf_token_gets_a_dutch_page_and_changes_nothing(db):
    from django.test import Client

    from avg_portal.models import User

    browser = Client(enforce_csrf_checks=True)
    password = "een-lang-wachtwoord-42"
    data = {"email": "nieuw@example.test", "password1": password, "password2": password}
    response = browser.post(reverse("signup"), data)
    assert response.status_code == 403
    assert "Het formulier is verlopen" in response.text
    assert 'lang="nl"' in response.text
    assert not User.objects.filter(email="nieuw@example.test").exists()


def test_a_request_too_large_to_read_gets_a_dutch_page(client, db, settings):
    settings.DEBUG = False
    fields = {f"veld{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("signup"), fields)
    assert response.status_code == 400
    assert "Dit verzoek kon niet worden verwerkt" in response.text


def test_collectstatic_goes_where_the_environment_says(tmp_path):
    """Production collects the static files outside the code's folder when asked."""
    target = tmp_path / "static"
    result = manage(
        "collectstatic",
        "--noinput",
        "-v0",
        env={"DJANGO_DEBUG": "1", "DJANGO_STATIC_ROOT": str(target)},
    )
    assert result.returncode == 0, result.stderr
    assert (target / "vendor" / "bootstrap-5.3.8" / "bootstrap.min.css").is_file()


def test_operators_are_named_as_email_addresses():
    """DJANGO_ADMINS as the README writes it, as Django 6 wants ADMINS: address strings
    (the (name, address) pairs of before are deprecated)."""
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ADMINS)",
        env={"DJANGO_DEBUG": "1", "DJANGO_ADMINS": "Beheer <beheer@example.nl>, nacht@example.nl"},
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout.strip().splitlines()[-1]
    assert shown == "['Beheer <beheer@example.nl>', 'nacht@example.nl']"


def test_the_example_environment_file_can_be_sourced_by_the_shell():
    """The README's steps and deploy/backup.sh read it with `set -a; . FILE`, systemd with
    EnvironmentFile=: a value with spaces or <> must be quoted for both."""
    example = ROOT / "deploy" / "avg-portal.env.example"
    result = subprocess.run(
        [
            shutil.which("bash") or "/bin/bash",
            "-c",
            'set -a; . "$1"; printf "%s\\n" "$DJANGO_ADMINS"',
        ]
        + ["bash", str(example)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Beheer <beheer@example.nl>"
