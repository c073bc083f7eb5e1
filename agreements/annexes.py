"""Bijlage 1 and 2 as they apply: the agreement's, changed by its signed addenda.

An addendum carries both annexes whole (agreements.models.Addendum), so the annexes in force
on a day are those of the latest signed addendum that took effect by then, or else the
agreement's own. `compare` sets two versions side by side for the addendum's document.
Pure functions over rows already loaded: callers prefetch `addenda__activities`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone, translation

from core.models import SecurityProfileFields as Bijlage2

from .document_versions import DocumentVersion, get_version
from .models import (
    Addendum,
    AddendumStatus,
    Agreement,
    ProcessingActivityFields,
    RetentionFrom,
    RetentionUnit,
)

# The annexes are Dutch, whatever language the coach reads the site in.
DOCUMENT_LANGUAGE = "nl"


@dataclass(frozen=True)
class Annexes:
    """Bijlage 1 (the rows) and Bijlage 2 (the fields of `source`) of one version."""

    source: Agreement | Addendum
    activities: tuple[ProcessingActivityFields, ...]
    version: DocumentVersion

    @property
    def security(self) -> Bijlage2:
        return self.source

    @property
    def addendum(self) -> Addendum | None:
        return self.source if isinstance(self.source, Addendum) else None

    def technical_measures(self) -> list[str]:
        ticked = set(self.source.measures)
        return [m.label for m in self.version.technical_measures if m.code in ticked]

    def organisational_measures(self) -> list[str]:
        ticked = set(self.source.measures)
        return [m.label for m in self.version.organisational_measures if m.code in ticked]


def _annexes(agreement: Agreement, source: Agreement | Addendum) -> Annexes:
    return Annexes(
        source=source,
        activities=tuple(source.activities.all()),
        version=get_version(agreement.template_version),
    )


def signed_addenda(agreement: Agreement) -> list[Addendum]:
    """The agreement's signed addenda in order (uses a prefetch of `addenda` if present)."""
    return sorted(
        (a for a in agreement.addenda.all() if a.status == AddendumStatus.SIGNED),
        key=lambda a: a.number,
    )


def effective_annexes(agreement: Agreement, on: datetime.date | None = None) -> Annexes:
    """Bijlage 1 and 2 of `agreement` as they apply on `on` (today when left out)."""
    on = on or timezone.localdate()
    applying = [a for a in signed_addenda(agreement) if a.effective_on <= on]
    return _annexes(agreement, applying[-1] if applying else agreement)


def annexes_before(addendum: Addendum) -> Annexes:
    """The annexes an addendum changes: those of the agreement and of the signed addenda
    made before it. Only one addendum is open at a time (agreements.addenda), so this does
    not move once the addendum is drafted."""
    agreement = addendum.agreement
    earlier = [a for a in signed_addenda(agreement) if a.number < addendum.number]
    return _annexes(agreement, earlier[-1] if earlier else agreement)


def annexes_of(addendum: Addendum) -> Annexes:
    return _annexes(addendum.agreement, addendum)


# Side by side -------------------------------------------------------------------------------

BIJLAGE1_FIELDS = (
    ("description", "Beschrijving verwerkingsactiviteiten door Verwerker"),
    ("purposes", "Verwerkingsdoelen"),
    ("controller", "Verwerkingsverantwoordelijke"),
    ("processor", "Verwerker"),
    ("sub_processors", "Sub verwerkers"),
    ("personal_data", "Verwerkte Persoonsgegevens"),
    ("location", "Locatie verwerkingen"),
    ("retention", "Bewaartermijn"),
)
COMPUTED_RETENTION = "Bewaartermijn (berekend vanaf)"
UNITS = {
    RetentionUnit.DAY: ("dag", "dagen"),
    RetentionUnit.MONTH: ("maand", "maanden"),
    RetentionUnit.YEAR: ("jaar", "jaar"),
}
FROM = {
    RetentionFrom.AGREEMENT_END: "na het einde van de overeenkomst",
    RetentionFrom.FINANCIAL_YEAR_END: "na het einde van het boekjaar",
}


def structured_retention(row: ProcessingActivityFields) -> str:
    """The structured period in words ("7 jaar na het einde van het boekjaar"), or ""."""
    amount, unit, start = row.retention_amount, row.retention_unit, row.retention_from
    if not (amount and unit and start):
        return ""
    one, many = UNITS[RetentionUnit(unit)]
    return f"{amount} {one if amount == 1 else many} {FROM[RetentionFrom(start)]}"


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class RowChange:
    """One Bijlage 1 row, before and after: added (no old), removed (no new) or kept."""

    old: ProcessingActivityFields | None
    new: ProcessingActivityFields | None
    fields: tuple[FieldChange, ...]

    @property
    def title(self) -> str:
        row = self.new or self.old
        return row.description if row else ""

    @property
    def state(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if any(f.changed for f in self.fields) else "same"


def _row_values(row: ProcessingActivityFields | None) -> list[str]:
    if row is None:
        return [""] * (len(BIJLAGE1_FIELDS) + 1)
    return [str(getattr(row, name)) for name, _label in BIJLAGE1_FIELDS] + [
        structured_retention(row)
    ]


def _row_change(
    old: ProcessingActivityFields | None, new: ProcessingActivityFields | None
) -> RowChange:
    labels = [label for _name, label in BIJLAGE1_FIELDS] + [COMPUTED_RETENTION]
    fields = tuple(
        FieldChange(label, before, after)
        for label, before, after in zip(labels, _row_values(old), _row_values(new), strict=True)
    )
    return RowChange(old, new, fields)


def compare_rows(
    old_rows: Sequence[ProcessingActivityFields], new_rows: Sequence[ProcessingActivityFields]
) -> list[RowChange]:
    """Rows are matched by their description. A row left over is matched to one whose
    purposes and personal data are the same: the same processing, its description put
    better, reads as changed, not as one processing dropped and another added. What differs
    in what and why stays one removed and one added, which is what it means for the
    processing. The new order first, then what was removed."""
    unmatched = list(old_rows)
    pairs: list[tuple[ProcessingActivityFields | None, ProcessingActivityFields]] = []
    for new in new_rows:
        old = next((row for row in unmatched if row.description == new.description), None)
        if old is not None:
            unmatched.remove(old)
        pairs.append((old, new))
    for index, (old, new) in enumerate(pairs):
        if old is None:
            same = next((row for row in unmatched if _same_processing(row, new)), None)
            if same is not None:
                unmatched.remove(same)
                pairs[index] = (same, new)
    changes = [_row_change(old, new) for old, new in pairs]
    changes += [_row_change(old, None) for old in unmatched]
    return changes


def _same_processing(old: ProcessingActivityFields, new: ProcessingActivityFields) -> bool:
    return (old.purposes, old.personal_data) == (new.purposes, new.personal_data)


def _bijlage2_values(annexes: Annexes) -> list[tuple[str, str]]:
    source = annexes.source
    with translation.override(DOCUMENT_LANGUAGE):
        data_kind = str(source.get_data_kind_display())
    return [
        ("Soort persoonsgegevens", data_kind),
        ("Hoeveelheid betrokkenen", source.data_subjects),
        ("Doel waarvoor gegevens worden verwerkt", source.processing_purpose),
        ("Duur en wijze van bewaren", source.storage),
        ("Technische beveiligingsmaatregelen", "\n".join(annexes.technical_measures())),
        ("Organisatorische beveiligingsmaatregelen", "\n".join(annexes.organisational_measures())),
        ("Aanvullende beveiligingsmaatregelen", "\n".join(source.extra_measure_lines())),
    ]


# The Bijlage 2 values that are lists of measures, one per line.
MEASURE_LISTS = {
    "Technische beveiligingsmaatregelen",
    "Organisatorische beveiligingsmaatregelen",
    "Aanvullende beveiligingsmaatregelen",
}


def _mark_lines(lines: str, other: str, mark: str) -> str:
    """Mark each line that the other version lacks, so a measure added to a long list (or
    dropped from it) can be found at a glance."""
    others = set(other.splitlines())
    return "\n".join(line if line in others else f"{line} {mark}" for line in lines.splitlines())


def compare_security(old: Annexes, new: Annexes) -> list[FieldChange]:
    changes = []
    for (label, before), (_label, after) in zip(
        _bijlage2_values(old), _bijlage2_values(new), strict=True
    ):
        if label in MEASURE_LISTS and before != after:
            before, after = (
                _mark_lines(before, after, "(vervalt)"),
                _mark_lines(after, before, "(nieuw)"),
            )
        changes.append(FieldChange(label, before, after))
    return changes


@dataclass(frozen=True)
class Comparison:
    rows: list[RowChange]
    security: list[FieldChange]

    @property
    def bijlage1_changed(self) -> bool:
        return any(row.state != "same" for row in self.rows)

    @property
    def bijlage2_changed(self) -> bool:
        return any(field.changed for field in self.security)

    @property
    def changed(self) -> bool:
        return self.bijlage1_changed or self.bijlage2_changed


def compare(old: Annexes, new: Annexes) -> Comparison:
    return Comparison(compare_rows(old.activities, new.activities), compare_security(old, new))


def security_description(annexes: Annexes) -> str:
    """Bijlage 2 in a few lines: the general description of the technical and organisational
    measures (art. 30(2)(d) with art. 32(1) GDPR)."""
    parts = [f"{label}: {value}" for label, value in _bijlage2_values(annexes) if value]
    return "\n".join(part.replace("\n", "; ") for part in parts)
