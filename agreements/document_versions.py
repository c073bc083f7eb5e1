"""The versions of the agreement's text.

A signed agreement must forever show the exact text it was signed with, so every released
version keeps its own template file and its own catalogue of Bijlage 2 measures, and is never
edited afterwards (tests/test_document_versions.py holds the SHA-256 of each released file).
A change to the text is a new version; new drafts take CURRENT_VERSION.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    code: str
    label: str


@dataclass(frozen=True)
class DocumentVersion:
    code: str
    template: str  # the document body, shared by the HTML preview and the PDF
    technical_measures: tuple[Measure, ...]
    organisational_measures: tuple[Measure, ...]

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

VERSIONS = {
    "2026.1": DocumentVersion(
        code="2026.1",
        template="pdf/agreement/2026.1.html",
        technical_measures=_SEED_TECHNICAL,
        organisational_measures=_SEED_ORGANISATIONAL,
    ),
}
CURRENT_VERSION = "2026.1"


def get_version(code: str) -> DocumentVersion:
    return VERSIONS[code]
