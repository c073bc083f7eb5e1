"""Every page behind a login also needs the second factor. The test walks all URL patterns,
so a view added later is covered without anyone remembering to add it here."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import make_coach

pytestmark = pytest.mark.django_db

# Views anyone may open. A new public view must be added here on purpose.
PUBLIC = {
    "two_factor:login",
    "signup",
    "confirm_email",
    "resend_confirmation",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "otpadmin:login",
    # The client's signing pages: reached through the emailed link, no account.
    "signing_open",
    "signing_page",
    "signing_document",
    "signing_decline",
    "signing_send_code",
    "signing_done",
    "verify",
    # Health checks for the load balancer and monitoring: states and numbers, no data.
    "healthz",
    "readyz",
    "favicon",
}
# Views for a logged-in user who has not passed the second factor yet: enrolling it.
ENROLMENT = {"two_factor:setup", "two_factor:qr", "logout"}

SAMPLE_KWARGS = {"int": "1", "uuid": str(uuid.uuid4()), "str": "x", "slug": "x", "path": "x"}


def walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from walk(
                entry, prefix + str(entry.pattern), f"{namespace}{ns}:" if ns else namespace
            )
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, f"{namespace}{entry.name or ''}"


def sample_path(route, pattern):
    """A concrete path for a route, with made-up values for its parameters."""
    import re

    path = "/" + route.lstrip("^")
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_KWARGS[m.group(1) or "str"], path)
    # Regex routes (the admin's): take the literal parts, fill groups with a sample.
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).replace("\\", "")
    return path.rstrip("$")


def protected_patterns():
    for route, pattern, name in walk(get_resolver()):
        callback = pattern.callback
        if not getattr(callback, "login_required", True):
            continue
        yield name, sample_path(route, pattern)


def test_public_views_are_exactly_the_known_ones():
    public = {
        name
        for _route, pattern, name in walk(get_resolver())
        if not getattr(pattern.callback, "login_required", True)
    }
    assert public == PUBLIC


@pytest.mark.parametrize("with_device", [True, False], ids=["has-device", "no-device"])
def test_every_protected_url_redirects_to_the_second_factor(client, with_device):
    user = make_coach(with_device=with_device)
    client.force_login(user)  # password only: no verified device in the session
    expected = reverse("two_factor:login" if with_device else "two_factor:setup")
    checked = 0
    for name, path in protected_patterns():
        if name in ENROLMENT:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (name, path, method, response.status_code)
            assert response.url.startswith(expected + "?next="), (name, path, response.url)
            checked += 1
    assert checked >= 20


def test_every_protected_url_redirects_anonymous_users_to_login(client):
    for name, path in protected_patterns():
        response = client.get(path)
        assert response.status_code == 302, (name, path)
        # The admin's index has its own login page, with a code field of its own.
        logins = (reverse("two_factor:login"), reverse("otpadmin:login"))
        assert response.url.startswith(logins), (name, path)


def test_enrolment_pages_open_without_second_factor(client):
    user = make_coach(with_device=False)
    client.force_login(user)
    assert client.get(reverse("two_factor:setup")).status_code == 200
