"""`manage.py check` names what a kind of signable document lacks.

The signing path serves every kind through a few conventions (the README's Layout lists the
steps): a model that inherits from `SignableDocument` through a parent link called
`document` whose reverse accessor is `as_<kind>`, the class attributes the path reads, its
own `signing_words`, a `status` and a `public_id`, its renderers, and its place in the
dossier. A kind that misses one fails here, when it is added, not in a client's browser.
"""

from collections.abc import Sequence
from typing import Any, get_args

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Error, register

ATTRIBUTES = (
    "KIND",
    "STORAGE_FOLDER",
    "DOSSIER_FOLDER",
    "FILE_STEM",
    "COMPLETED_EMAIL",
    "DECLINABLE",
    "SIGNED_EVENT",
    "COMPLETED_EVENT",
)
OVERRIDDEN = ("signing_words", "dossier", "awaits_client_signature", "is_signed")


@register()
def signable_documents(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    from . import documents
    from .models import ConcreteDocument, DocumentKind, SignableDocument

    errors: list[CheckMessage] = []
    listed = set(get_args(ConcreteDocument))
    for model in apps.get_models():
        if not issubclass(model, SignableDocument) or model is SignableDocument:
            continue
        missing = [attribute for attribute in ATTRIBUTES if not hasattr(model, attribute)]
        if missing:
            errors.append(_lacks(model, f"lacks {', '.join(missing)}", "See SignableDocument.", 1))
            continue
        if model.KIND not in DocumentKind.values:
            errors.append(_lacks(model, "has a KIND not in DocumentKind", "Add it there.", 2))
        fields: dict[str, Any] = {field.name: field for field in model._meta.get_fields()}
        link = fields.get("document")
        if getattr(getattr(link, "remote_field", None), "related_name", "") != f"as_{model.KIND}":
            errors.append(
                _lacks(
                    model,
                    "has no parent link `document` with related_name 'as_<KIND>'",
                    "SignableDocument.concrete() and the signing views find it by that name.",
                    3,
                )
            )
        for field in ("status", "public_id"):
            if field not in fields:
                errors.append(_lacks(model, f"has no `{field}` field", "The path reads it.", 4))
        for method in OVERRIDDEN:
            if getattr(model, method) is getattr(SignableDocument, method):
                errors.append(_lacks(model, f"does not define `{method}`", "Each kind does.", 5))
        if model.KIND not in documents.RENDERERS:
            errors.append(_lacks(model, "has no renderers", "Add them to documents.RENDERERS.", 6))
        if model not in listed:
            errors.append(
                _lacks(
                    model,
                    "is not in ConcreteDocument",
                    "Add it there and to Agreement.dossier_documents().",
                    7,
                )
            )
    return errors


def _lacks(model: type, what: str, hint: str, code: int) -> Error:
    return Error(f"{model.__name__} {what}.", hint=hint, obj=model, id=f"agreements.E{code:03d}")
