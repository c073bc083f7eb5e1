"""What every page's template gets besides Django's own context processors."""

import functools

from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

# The links of the base layout's menus (templates/base.html). They are the same on every page,
# so they are reversed once per process instead of a dozen reverse() calls on every page.
NAVIGATION = (
    "dashboard",
    "agreement_list",
    "client_list",
    "breach_list",
    "practice_edit",
    "set_language",
    "password_change",
    "two_factor:backup_tokens",
    "replace_authenticator",
    "security_log",
    "logout",
)


@functools.cache
def _navigation(script_prefix: str) -> dict[str, str]:
    # reverse() prefixes the script prefix of the current request: one dict per prefix.
    return {name.rpartition(":")[2]: reverse(name) for name in NAVIGATION}


def navigation(request: HttpRequest) -> dict[str, dict[str, str]]:
    """`nav.<url name>`: the menu links, e.g. `nav.dashboard`, `nav.backup_tokens`."""
    return {"nav": _navigation(get_script_prefix())}
