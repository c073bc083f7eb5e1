"""Once sealed, an agreement and its declaration of destruction stay as they are: the
database refuses every ORM and raw-SQL way to change or delete any of their rows, on SQLite
and on PostgreSQL alike (core.immutability). The agreement and the declaration are sealed
once for the module (`module_rows`); each test tries one way on one row, inside its own
transaction."""

import pytest
from django.db import IntegrityError, transaction
from django.test import TestCase

from agreements import signing
from agreements.models import (
    Agreement,
    ArchivedAgreementError,
    Declaration,
    SignableDocument,
)
from core.origin import Actor, Origin

from .conftest import make_coach, media_settings
from .refusals import WAYS, assert_refused
from .signing_helpers import confirmed_code, end_and_send_declaration, signed_by_both

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sealed_once(module_rows):
    """The keys of an agreement signed by both and sealed, and of its declaration of
    destruction, signed and sealed: made once, with the module's files."""
    capture = TestCase.captureOnCommitCallbacks
    coach = make_coach()
    agreement = signed_by_both(coach, capture)
    assert agreement.is_archived
    declaration = end_and_send_declaration(agreement, coach, capture)
    link = declaration.signing_links.get()
    with capture(execute=True):
        signing.client_sign(
            link=link,
            signature=signing.SignatureInput(
                name="Zoë Ünal-Brontë", function="Cliënt", place="Breda", method="typed"
            ),
            origin=Origin(actor=Actor.CLIENT, name="Zoë Ünal-Brontë"),
            signer_code=confirmed_code(link),
        )
    declaration.refresh_from_db()
    assert declaration.is_archived
    return agreement.pk, declaration.pk


@pytest.fixture
def _module_media(settings, module_rows):
    for name, value in media_settings(module_rows).items():
        setattr(settings, name, value)


@pytest.fixture
def sealed(sealed_once, _module_media):
    return Agreement.objects.get(pk=sealed_once[0])


@pytest.fixture
def sealed_declaration(sealed_once, _module_media):
    return Declaration.objects.get(pk=sealed_once[1])


# What each test changes: the row, a field of it, and the value written into it.
SEALED_AGREEMENT_ROWS = {
    "the sealed document": lambda a: (SignableDocument.objects.get(pk=a.key), "final_sha256", ""),
    "the agreement": lambda a: (Agreement.objects.get(pk=a.pk), "client_name", "Vervalst"),
    "its status": lambda a: (Agreement.objects.get(pk=a.pk), "status", "draft"),
    "a signature": lambda a: (a.signatures.get(party="client"), "name", "Vervalst"),
    "a Bijlage 1 row": lambda a: (a.activities.first(), "description", "Vervalst"),
    "an event": lambda a: (a.events.first(), "detail", "Vervalst"),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("target", SEALED_AGREEMENT_ROWS)
def test_a_sealed_agreement_cannot_be_changed_or_deleted(sealed, target, way):
    row, field, value = SEALED_AGREEMENT_ROWS[target](sealed)
    assert_refused(row, field, value, way)
    assert Agreement.objects.filter(pk=sealed.pk, final_sha256=sealed.final_sha256).exists()


SEALED_DECLARATION_ROWS = {
    "the declaration": lambda d: (Declaration.objects.get(pk=d.pk), "method", "Vervalst"),
    "its sealed document": lambda d: (SignableDocument.objects.get(pk=d.key), "final_sha256", ""),
    "its signature": lambda d: (d.signatures.get(), "name", "Vervalst"),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("target", SEALED_DECLARATION_ROWS)
def test_a_sealed_declaration_cannot_be_changed_or_deleted(sealed_declaration, target, way):
    row, field, value = SEALED_DECLARATION_ROWS[target](sealed_declaration)
    assert_refused(row, field, value, way)


def test_the_model_guards_stay(sealed, sealed_declaration):
    sealed.client_name = "Vervalst"
    with pytest.raises(ArchivedAgreementError):
        sealed.save()
    with pytest.raises(ArchivedAgreementError):
        sealed.delete()
    # The declaration has no guard of its own: the database is the guard.
    sealed_declaration.method = "Vervalst"
    with pytest.raises(IntegrityError), transaction.atomic():
        sealed_declaration.save()
