"""A confirmation page before an action that cannot be undone: it names what will happen and
asks once more. A plain page with a form, so it works without JavaScript; the action itself
stays a POST to its own URL."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: list[str],
    action_url: str,
    button: str,
    cancel_url: str,
) -> HttpResponse:
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "consequences": consequences,
            "action_url": action_url,
            "button": button,
            "cancel_url": cancel_url,
        },
    )
