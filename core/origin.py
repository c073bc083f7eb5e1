"""Who did something, and from where: the plain value that views hand to services.

Services record evidence (who signed, from which address, with which browser) without ever
seeing a request. A view builds an `Origin` once and passes it down.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Actor(models.TextChoices):
    COACH = "coach", _("coach")
    CLIENT = "client", _("client")
    SYSTEM = "system", _("system")


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from; behind DJANGO_PROXY_COUNT trusted proxies, the
    address the nearest of them saw. Always a valid IP address or None: it goes into the
    evidence, and a header that names no address (or gunicorn on a socket) must not stop a
    client from signing."""
    proxies: int = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = ip_address_in(forwarded[-proxies])
            if address:
                return address
    return ip_address_in(request.META.get("REMOTE_ADDR", ""))


def ip_address_in(text: str) -> str | None:
    """The IP address in `text` as proxies write it: plain, IPv4 with a port, IPv6 in
    brackets with or without a port; None when there is none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text.partition("%")[0]))
    except ValueError:
        return None


def user_agent(request: HttpRequest) -> str:
    """The browser's User-Agent as evidence: printable text only (no NUL, which PostgreSQL
    refuses, nor a lone surrogate, which no chain hash can encode), at most 500
    characters."""
    agent: str = request.META.get("HTTP_USER_AGENT", "")
    return "".join(character for character in agent[:500] if character.isprintable())


@dataclass(frozen=True, slots=True)
class Origin:
    """An actor (coach, client or the system), the name to record, and where the action
    came from. `account` and `user_id` are the coach's login (empty for clients and the
    system)."""

    actor: Actor
    name: str = ""
    account: str = ""
    user_id: int | None = None
    ip_address: str | None = None
    user_agent: str = ""
    at: datetime.datetime = field(default_factory=timezone.now)

    @classmethod
    def of_coach(cls, request: HttpRequest) -> Origin:
        return dataclasses.replace(
            cls.of_account(request.user),  # type: ignore[arg-type]
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )

    @classmethod
    def of_account(cls, user: AbstractBaseUser) -> Origin:
        """A coach acting without a request of her own (a command, a test)."""
        return cls(
            actor=Actor.COACH,
            name=user.get_full_name(),  # type: ignore[attr-defined]
            account=user.get_username(),
            user_id=user.pk,
        )

    @classmethod
    def of_client(cls, request: HttpRequest, name: str) -> Origin:
        return cls(
            actor=Actor.CLIENT,
            name=name,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )

    @classmethod
    def system(cls) -> Origin:
        return cls(actor=Actor.SYSTEM, name=settings.SITE_NAME)
