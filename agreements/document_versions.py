"""The versions of the agreement's text.

A signed agreement must forever show the exact text it was signed with, so every released
version keeps its own template file and its own catalogue of Bijlage 2 measures, and is never
edited afterwards (tests/test_document_versions.py holds the SHA-256 of each released file).
A change to the text is a new version; new drafts take CURRENT_VERSION.

Beside each text lies its assessment against art. 28 GDPR (`art28`: where the text covers
each item of agreements.art28, and what it lacks), so a new version brings its own. The
optional Bijlage 4 is a text of its own with its own versions (`SUPPLEMENTS`, equally
locked), and says which of those gaps it fills and where.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Measure:
    code: str
    label: str


@dataclass(frozen=True)
class Coverage:
    """Where a text covers one art. 28 item: clause numbers ("3.1") and annexes ("Bijlage 1")
    as the text numbers them; `lacks` says what is missing when it covers the item only in
    part. No places at all: the text does not cover the item."""

    where: tuple[str, ...] = ()
    lacks: str | Promise = ""


@dataclass(frozen=True)
class DocumentVersion:
    code: str
    template: str  # the document body, shared by the HTML preview and the PDF
    technical_measures: tuple[Measure, ...]
    organisational_measures: tuple[Measure, ...]
    # Art. 28 GDPR: item code (agreements.art28.ITEMS) -> where this text covers it.
    art28: Mapping[str, Coverage] = field(default_factory=dict)
    # Whether the text forbids engaging sub-processors (clauses 3.4 and 5.1 of 2026.1).
    forbids_subprocessors: bool = False
    # The Bijlage 4 version that completes this text, if there is one.
    supplement: str = ""

    @property
    def measures(self) -> tuple[Measure, ...]:
        return self.technical_measures + self.organisational_measures

    @property
    def measure_codes(self) -> set[str]:
        return {measure.code for measure in self.measures}


# The seed's Bijlage 2, with "beveilliging" and "gebruikt" corrected.
_SEED_TECHNICAL = (
    Measure("virus_scan", "Up to date virusscan"),
    Measure("secure_usb", "Beveiligde USB-sticks"),
    Measure("phone_security", "Accurate beveiliging medewerkerstelefoon"),
    Measure("bitlocker", "Bitlocker toegangsmechanisme"),
    Measure("unique_login", "Unieke inlogcode en wachtwoord (regelmatig aanpassen)"),
    Measure("encrypted_email", "Versleutelde email"),
    Measure("no_unsecured_drives", "Geen onbeveiligde externe harde schijven"),
    Measure("no_unsecured_backups", "Geen onbeveiligde back ups maken"),
    Measure("no_private_laptop", "Geen documenten op privé laptop op slaan"),
)
_SEED_ORGANISATIONAL = (
    Measure("clean_desk", "Clean desk policy"),
    Measure("laptop_attended", "Laptop niet onbemand achterlaten"),
    Measure("laptop_not_in_car", "Laptop nooit achterlaten in de auto"),
    Measure("privacy_screens", "Privacy screens medewerkers"),
    Measure("destroy_documents", "Oude documenten op juiste manier vernietigen"),
    Measure("careful_usb", "Zorgvuldig gebruik van USB-sticks"),
)

# The seed's text measured against art. 28 GDPR (see the issue that added Bijlage 4).
_SEED_ART28 = {
    "28.2": Coverage(
        lacks=_(
            "Clause 3.4 forbids engaging others, but there is no arrangement for asking the "
            "client's permission or telling him about a new sub-processor."
        )
    ),
    "28.3.subject": Coverage(("Overwegende dat", "2.1", "2.2", "2.3", "3.2", "Bijlage 1")),
    "28.3.data": Coverage(("3.2", "Bijlage 1")),
    "28.3.subjects": Coverage(
        lacks=_("Bijlage 2 gives only the number of data subjects, not who they are.")
    ),
    "28.3.a": Coverage(
        ("3.1",),
        lacks=_(
            "Clause 3.1 does not say that you work only on documented instructions, nor what "
            "happens when a law obliges you to process data otherwise."
        ),
    ),
    "28.3.a.transfers": Coverage(
        ("5.1",),
        lacks=_("Clause 5.1 asks permission but names no safeguard for a transfer."),
    ),
    "28.3.b": Coverage(
        ("6.1", "2.4"),
        lacks=_("Clause 6.1 binds only you, not anyone who works for you."),
    ),
    "28.3.c": Coverage(("4.1", "4.2", "4.5", "Bijlage 2")),
    "28.3.d": Coverage(
        lacks=_("Clauses 3.4 and 5.1 only forbid; they set no conditions for a sub-processor.")
    ),
    "28.3.e": Coverage(),
    "28.3.f": Coverage(
        ("3.5", "4.1", "7.1", "Bijlage 2", "Bijlage 3"),
        lacks=_("Nothing about a prior consultation of the AP (art. 36)."),
    ),
    "28.3.g": Coverage(("9.1", "9.2", "9.3", "Bijlage 1")),
    "28.3.h": Coverage(),
    "28.3.h.warn": Coverage(),
    "28.4": Coverage(),
}

VERSIONS = {
    "2026.1": DocumentVersion(
        code="2026.1",
        template="pdf/agreement/2026.1.html",
        technical_measures=_SEED_TECHNICAL,
        organisational_measures=_SEED_ORGANISATIONAL,
        art28=_SEED_ART28,
        forbids_subprocessors=True,
        supplement="2026.1",
    ),
}
CURRENT_VERSION = "2026.1"


def get_version(code: str) -> DocumentVersion:
    return VERSIONS[code]


@dataclass(frozen=True)
class Supplement:
    """A version of Bijlage 4 "Aanvullende afspraken (artikel 28 AVG)": released like the
    agreement's text (its template is locked by tests/test_document_versions.py), added to
    an agreement when the coach chooses it, and printed after Bijlage 3."""

    code: str
    template: str
    # Item code -> where this Bijlage 4 covers it ("Bijlage 4, 2.1").
    fills: Mapping[str, tuple[str, ...]]
    # The agreement text versions it completes.
    completes: tuple[str, ...]


def _b4(*points: str) -> tuple[str, ...]:
    return tuple(f"Bijlage 4, {point}" for point in points)


SUPPLEMENTS = {
    "2026.1": Supplement(
        code="2026.1",
        template="pdf/agreement/bijlage4-2026.1.html",
        fills={
            "28.2": _b4("4.1", "4.2"),
            "28.3.subjects": _b4("1.1"),
            "28.3.a": _b4("2.1", "2.2"),
            "28.3.a.transfers": _b4("2.1", "5.1"),
            "28.3.b": _b4("3.1"),
            "28.3.d": _b4("4.1", "4.2", "4.3", "4.4"),
            "28.3.e": _b4("6.1"),
            "28.3.f": _b4("7.1"),
            "28.3.h": _b4("8.1", "8.2"),
            "28.3.h.warn": _b4("2.3"),
            "28.4": _b4("4.3", "4.4"),
        },
        completes=("2026.1",),
    ),
}
CURRENT_SUPPLEMENT = "2026.1"


def get_supplement(code: str) -> Supplement:
    return SUPPLEMENTS[code]


def supplement_for(version_code: str) -> Supplement | None:
    """The Bijlage 4 a new draft of this text version can add, if any."""
    code = get_version(version_code).supplement
    return SUPPLEMENTS[code] if code else None
