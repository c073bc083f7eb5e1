"""The art. 28 GDPR completeness check the coach sees before she sends an agreement.

Each item below is one thing art. 28(2), (3) and (4) asks a processing agreement to say. Where
a text version says it (or does not) is data kept beside that text (`DocumentVersion.art28`
and, for Bijlage 4, `Supplement.fills`, in agreements.document_versions); this module only
puts them together for one agreement and adds what it can see in the agreement's own
annexes: contradictions and empty fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ActionRefused
from core.models import DataKind

from .document_versions import (
    Coverage,
    Supplement,
    get_supplement,
    get_version,
    supplement_for,
)
from .models import Agreement, ProcessingActivity


@dataclass(frozen=True)
class Item:
    code: str
    article: str  # "art. 28(3)(a)"
    title: str | Promise  # what it asks, in plain words
    law: str | Promise  # the article's text


_A3 = gettext_lazy(
    "Processing by a processor shall be governed by a contract or other legal act under Union "
    "or Member State law, that is binding on the processor with regard to the controller and "
    "that sets out the subject-matter and duration of the processing, the nature and purpose "
    "of the processing, the type of personal data and categories of data subjects and the "
    "obligations and rights of the controller."
)
_A3A = gettext_lazy(
    "The processor processes the personal data only on documented instructions from the "
    "controller, including with regard to transfers of personal data to a third country or an "
    "international organisation, unless required to do so by Union or Member State law to "
    "which the processor is subject; in such a case, the processor shall inform the controller "
    "of that legal requirement before processing, unless that law prohibits such information "
    "on important grounds of public interest."
)
_A3H = gettext_lazy(
    "The processor makes available to the controller all information necessary to demonstrate "
    "compliance with the obligations laid down in this Article and allows for and contributes "
    "to audits, including inspections, conducted by the controller or another auditor mandated "
    "by the controller."
)

ITEMS: tuple[Item, ...] = (
    Item(
        "28.2",
        "art. 28(2)",
        gettext_lazy("Sub-processors only with the client's prior written permission"),
        gettext_lazy(
            "The processor shall not engage another processor without prior specific or "
            "general written authorisation of the controller. In the case of general written "
            "authorisation, the processor shall inform the controller of any intended changes "
            "concerning the addition or replacement of other processors, thereby giving the "
            "controller the opportunity to object to such changes."
        ),
    ),
    Item(
        "28.3.subject",
        "art. 28(3)",
        gettext_lazy("Subject, duration, nature and purpose of the processing"),
        _A3,
    ),
    Item("28.3.data", "art. 28(3)", gettext_lazy("The types of personal data"), _A3),
    Item("28.3.subjects", "art. 28(3)", gettext_lazy("The categories of data subjects"), _A3),
    Item(
        "28.3.a",
        "art. 28(3)(a)",
        gettext_lazy("Only on documented instructions, unless a law obliges otherwise"),
        _A3A,
    ),
    Item(
        "28.3.a.transfers",
        "art. 28(3)(a)",
        gettext_lazy("Transfers outside the EEA only on instruction, with a safeguard"),
        _A3A,
    ),
    Item(
        "28.3.b",
        "art. 28(3)(b)",
        gettext_lazy("Confidentiality of everyone who processes the data"),
        gettext_lazy(
            "The processor ensures that persons authorised to process the personal data have "
            "committed themselves to confidentiality or are under an appropriate statutory "
            "obligation of confidentiality."
        ),
    ),
    Item(
        "28.3.c",
        "art. 28(3)(c)",
        gettext_lazy("Security measures (art. 32)"),
        gettext_lazy("The processor takes all measures required pursuant to Article 32."),
    ),
    Item(
        "28.3.d",
        "art. 28(3)(d)",
        gettext_lazy("The conditions for engaging a sub-processor"),
        gettext_lazy(
            "The processor respects the conditions referred to in paragraphs 2 and 4 for "
            "engaging another processor."
        ),
    ),
    Item(
        "28.3.e",
        "art. 28(3)(e)",
        gettext_lazy("Help with requests of data subjects (access, correction, erasure …)"),
        gettext_lazy(
            "Taking into account the nature of the processing, the processor assists the "
            "controller by appropriate technical and organisational measures, insofar as this "
            "is possible, for the fulfilment of the controller's obligation to respond to "
            "requests for exercising the data subject's rights laid down in Chapter III."
        ),
    ),
    Item(
        "28.3.f",
        "art. 28(3)(f)",
        gettext_lazy(
            "Help with security, data breaches, DPIAs and prior consultation (art. 32–36)"
        ),
        gettext_lazy(
            "The processor assists the controller in ensuring compliance with the obligations "
            "pursuant to Articles 32 to 36 taking into account the nature of processing and "
            "the information available to the processor."
        ),
    ),
    Item(
        "28.3.g",
        "art. 28(3)(g)",
        gettext_lazy("Deleting or returning the data at the end"),
        gettext_lazy(
            "At the choice of the controller, the processor deletes or returns all the "
            "personal data to the controller after the end of the provision of services "
            "relating to processing, and deletes existing copies unless Union or Member State "
            "law requires storage of the personal data."
        ),
    ),
    Item("28.3.h", "art. 28(3)(h)", gettext_lazy("Information and audits"), _A3H),
    Item(
        "28.3.h.warn",
        "art. 28(3)",
        gettext_lazy("A warning when an instruction breaks the law"),
        gettext_lazy(
            "With regard to point (h) of the first subparagraph, the processor shall "
            "immediately inform the controller if, in its opinion, an instruction infringes "
            "this Regulation or other Union or Member State data protection provisions."
        ),
    ),
    Item(
        "28.4",
        "art. 28(4)",
        gettext_lazy("Sub-processors get the same obligations; you stay liable for them"),
        gettext_lazy(
            "Where a processor engages another processor for carrying out specific processing "
            "activities on behalf of the controller, the same data protection obligations as "
            "set out in the contract or other legal act between the controller and the "
            "processor shall be imposed on that other processor, in particular providing "
            "sufficient guarantees to implement appropriate technical and organisational "
            "measures. Where that other processor fails to fulfil its data protection "
            "obligations, the initial processor shall remain fully liable to the controller "
            "for the performance of that other processor's obligations."
        ),
    ),
)
ITEM_CODES = tuple(item.code for item in ITEMS)


class Status(StrEnum):
    COVERED = "covered"  # the agreement's text covers it
    CLOSED = "closed"  # the text lacks it, Bijlage 4 covers it
    PARTIAL = "partial"  # the text covers part of it
    MISSING = "missing"  # nowhere


@dataclass(frozen=True)
class ItemResult:
    item: Item
    status: Status
    where: tuple[str, ...]  # in the agreement's own text
    lacks: str | Promise
    closed_by: tuple[str, ...]  # in Bijlage 4

    @property
    def is_gap(self) -> bool:
        return self.status in (Status.PARTIAL, Status.MISSING)

    @property
    def places(self) -> list[str]:
        """Where it is covered, in words for the page ("clause 3.1", "Bijlage 1")."""
        return [place_label(place) for place in (*self.where, *self.closed_by)]


def place_label(place: str) -> str:
    if place[:1].isdigit():
        return _("clause %(number)s") % {"number": place}
    if place == "Overwegende dat":
        return _("the recitals")
    return place


@dataclass(frozen=True)
class Finding:
    """Something in the agreement's own annexes that contradicts its text, or is empty."""

    code: str
    message: str


@dataclass(frozen=True)
class Art28Check:
    items: tuple[ItemResult, ...]
    findings: tuple[Finding, ...]
    # The Bijlage 4 the agreement has, or could add (None: none exists for its text).
    supplement: Supplement | None
    with_supplement: bool

    @property
    def gaps(self) -> tuple[ItemResult, ...]:
        return tuple(result for result in self.items if result.is_gap)

    @property
    def gap_codes(self) -> set[str]:
        return {result.item.code for result in self.gaps}

    @property
    def supplement_closes_gaps(self) -> bool:
        """Adding the available Bijlage 4 would fill every gap."""
        return bool(
            self.supplement
            and not self.with_supplement
            and self.gaps
            and self.gap_codes <= set(self.supplement.fills)
        )


def check_text(version_code: str, supplement_code: str = "") -> tuple[ItemResult, ...]:
    """Each art. 28 item against a text version, with or without a Bijlage 4 version."""
    version = get_version(version_code)
    supplement = get_supplement(supplement_code) if supplement_code else None
    results = []
    for item in ITEMS:
        coverage = version.art28.get(item.code, Coverage())
        closed_by = supplement.fills.get(item.code, ()) if supplement else ()
        results.append(
            ItemResult(
                item=item,
                status=_status(coverage, closed_by),
                where=coverage.where,
                lacks=coverage.lacks,
                closed_by=closed_by,
            )
        )
    return tuple(results)


def _status(coverage: Coverage, closed_by: tuple[str, ...]) -> Status:
    if coverage.where and not coverage.lacks:
        return Status.COVERED
    if closed_by:
        return Status.CLOSED
    return Status.PARTIAL if coverage.where else Status.MISSING


def check_agreement(agreement: Agreement) -> Art28Check:
    """The check for one agreement: its text, its Bijlage 4 if added, and its annexes."""
    activities = list(agreement.activities.all())
    supplement = (
        get_supplement(agreement.supplement_version)
        if agreement.with_supplement
        else supplement_for(agreement.template_version)
    )
    return Art28Check(
        items=check_text(agreement.template_version, agreement.supplement_version),
        findings=tuple(annex_findings(agreement, activities)),
        supplement=supplement,
        with_supplement=agreement.with_supplement,
    )


# Words that point to special categories of personal data (art. 9 GDPR), Dutch and English.
SPECIAL_CATEGORY_WORDS = re.compile(
    r"\b(gezondheid|medisch|medicijn|medicatie|diagnose|psychisch|psychiatr|ziekte|"
    r"ras|etnisch|afkomst|relig|geloof|levensbeschouw|politiek|vakbond|seksu|genetisch|"
    r"biometrisch|health|medical|ethnic|racial|political|trade union|sexual|genetic|biometric)",
    re.IGNORECASE,
)


def annex_findings(agreement: Agreement, activities: list[ProcessingActivity]) -> list[Finding]:
    findings = []
    version = get_version(agreement.template_version)
    named = [n for n, row in enumerate(activities, start=1) if row.sub_processors.strip()]
    if named and version.forbids_subprocessors and not agreement.with_supplement:
        findings.append(
            Finding(
                "subprocessors_forbidden",
                _(
                    "Bijlage 1 names sub-processors (processing activity %(rows)s), but "
                    "clauses 3.4 and 5.1 say you engage no one. Add Bijlage 4, which allows "
                    "them with the client's permission, or remove them."
                )
                % {"rows": _numbers(named)},
            )
        )
    special = [
        n
        for n, row in enumerate(activities, start=1)
        if SPECIAL_CATEGORY_WORDS.search(f"{row.personal_data} {row.description}")
    ]
    if special and agreement.data_kind == DataKind.NORMAL:
        findings.append(
            Finding(
                "special_data_marked_normal",
                _(
                    "Bijlage 1 mentions special categories of personal data (such as health, "
                    "in processing activity %(rows)s), but Bijlage 2 says “normal personal "
                    "data”. Choose special categories in Bijlage 2."
                )
                % {"rows": _numbers(special)},
            )
        )
    no_retention = [
        n for n, row in enumerate(activities, start=1) if not row.retention.strip(" -–—.?")
    ]
    if no_retention:
        findings.append(
            Finding(
                "retention_missing",
                _("Processing activity %(rows)s in Bijlage 1 has no retention period.")
                % {"rows": _numbers(no_retention)},
            )
        )
    if agreement.with_supplement and not agreement.data_subject_categories.strip():
        findings.append(
            Finding(
                "no_data_subject_categories",
                _("Bijlage 4 names the categories of data subjects: fill them in."),
            )
        )
    return findings


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers)


def agreement_set_supplement(*, agreement: Agreement, add: bool) -> Agreement:
    """Add Bijlage 4 to a draft (the version that completes its text), or take it out."""
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if not locked.is_draft:
            raise ActionRefused(_("Only a draft can be changed."))
        supplement = supplement_for(locked.template_version)
        if add and supplement is None:
            raise ActionRefused(_("There is no Bijlage 4 for this text version."))
        locked.supplement_version = supplement.code if add and supplement else ""
        locked.save(update_fields=["supplement_version"])
    return locked
