from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import django_otp.middleware
from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device
from django_otp.models import Device

from .rowload import get_by_pk


def second_factor_not_required[V: Callable[..., HttpResponseBase]](view_func: V) -> V:
    """Let a logged-in user who has not yet passed the second factor reach this view: the
    enrolment screens themselves, and logging out."""
    view_func.second_factor_required = False  # type: ignore[attr-defined]
    return view_func


class SecondFactorRequiredMiddleware:
    """Every view that needs a login also needs a verified second factor.

    Runs after Django's LoginRequiredMiddleware, so views are protected by default: a new view
    is covered without anyone remembering a decorator. A password-only session is sent to
    enrol an authenticator app (mandatory) or to pass the code step of the login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True):
            return None
        if not getattr(view_func, "second_factor_required", True):
            return None
        user = request.user
        # is_verified() is added to the user by django_otp's OTPMiddleware.
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        target = "two_factor:login" if user_has_device(user) else "two_factor:setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class LanguageMiddleware:
    """Dutch unless the visitor chose English with the language switch (a cookie).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: the product
    is Dutch, and a coach or client reading a Dutch agreement should see Dutch around it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class PrivatePagesMiddleware:
    """Every answer to a logged-in coach holds her clients' data: no browser or proxy keeps
    a copy (a shared computer, the back button after logging out). A view that says how its
    answer may be kept is left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class MethodNotAllowedPageMiddleware:
    """A request with the wrong method (a GET of an address that only takes a POST) gets a
    page that says so in Dutch: Django's answer is empty, and the browser fills it with its
    own English error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "content", b"x"):
            allowed = response.get("Allow", "")
            response = render(request, "405.html", status=405)
            response["Allow"] = allowed
        return response


class OTPMiddleware(django_otp.middleware.OTPMiddleware):
    """django-otp's middleware, reading the session's device with a statement made once
    (`rowload`) instead of an ORM query built for every request.

    Overrides `_device_from_persistent_id`, the one step of django-otp's middleware (1.7)
    that queries; what it does with the device (is it confirmed, and this user's?) is
    unchanged. tests/test_rowload.py goes through it with good and bad devices.
    """

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _slash, device_id = self._normalize_persistent_id(persistent_id).rpartition("/")
        try:
            model = apps.get_model(label)
            key = int(device_id)
        except (LookupError, ValueError):
            return None
        if not issubclass(model, Device):
            return None
        return get_by_pk(model, key)
