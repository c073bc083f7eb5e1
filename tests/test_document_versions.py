"""Released text versions never change: a signed agreement must forever show the exact text
it was signed with. A new or corrected text is a new version in document_versions.py."""

import hashlib
from pathlib import Path

import pytest
from django.template.loader import get_template

from agreements.document_versions import (
    CURRENT_SUPPLEMENT,
    CURRENT_VERSION,
    SUPPLEMENTS,
    VERSIONS,
)

# The SHA-256 of each released version's template file and of its Bijlage 2 catalogue.
RELEASED = {
    "2026.1": {
        "template": "873795e07494a556258a6b9dee1d2df120d4448ca6fa5422a1017671af0f844f",
        "measures": "579ae5030e405a7b6497fce913b47d60ccc60463969ffa0cb9bb3f869cf049ae",
    },
}

# The SHA-256 of each released Bijlage 4 ("Aanvullende afspraken (artikel 28 AVG)") template.
RELEASED_SUPPLEMENTS = {
    "2026.1": "442e1ec1e1e77d7b35b0326c17bfa65260a766debd03513588ffc5d0d311a6fb",
}

ADD_A_VERSION = (
    "Version {code} is released: agreements were drafted and signed with exactly this text. "
    "Undo the change, and put the new text in a new version instead (a new template file and "
    "a new entry in agreements/document_versions.py, made CURRENT_VERSION)."
)


def template_digest(version):
    path = Path(get_template(version.template).origin.name)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measures_digest(version):
    catalogue = "".join(
        f"{kind}\t{measure.code}\t{measure.label}\n"
        for kind, measures in (
            ("technical", version.technical_measures),
            ("organisational", version.organisational_measures),
        )
        for measure in measures
    )
    return hashlib.sha256(catalogue.encode()).hexdigest()


def test_every_version_is_recorded_as_released():
    unrecorded = sorted(set(VERSIONS) - set(RELEASED))
    assert not unrecorded, (
        f"Record the SHA-256 of version(s) {', '.join(unrecorded)} in RELEASED when you "
        "release them, so that nobody can change their text afterwards."
    )
    assert CURRENT_VERSION in VERSIONS


@pytest.mark.parametrize("code", sorted(RELEASED))
def test_a_released_template_is_never_edited(code):
    assert code in VERSIONS, f"Version {code} was released: it can never be removed."
    assert template_digest(VERSIONS[code]) == RELEASED[code]["template"], ADD_A_VERSION.format(
        code=code
    )


@pytest.mark.parametrize("code", sorted(RELEASED))
def test_a_released_measure_catalogue_is_never_edited(code):
    assert measures_digest(VERSIONS[code]) == RELEASED[code]["measures"], ADD_A_VERSION.format(
        code=code
    )


def test_every_supplement_is_recorded_as_released():
    unrecorded = sorted(set(SUPPLEMENTS) - set(RELEASED_SUPPLEMENTS))
    assert not unrecorded, (
        f"Record the SHA-256 of Bijlage 4 version(s) {', '.join(unrecorded)} in "
        "RELEASED_SUPPLEMENTS when you release them."
    )
    assert CURRENT_SUPPLEMENT in SUPPLEMENTS
    for supplement in SUPPLEMENTS.values():
        assert set(supplement.completes) <= set(VERSIONS)


@pytest.mark.parametrize("code", sorted(RELEASED_SUPPLEMENTS))
def test_a_released_supplement_is_never_edited(code):
    assert code in SUPPLEMENTS, f"Bijlage 4 version {code} was released: it stays."
    assert template_digest(SUPPLEMENTS[code]) == RELEASED_SUPPLEMENTS[code], (
        f"Bijlage 4 version {code} is released: agreements were signed with exactly this "
        "text. Undo the change, and put the new text in a new version instead (a new "
        "template file and a new entry in SUPPLEMENTS, made CURRENT_SUPPLEMENT)."
    )
