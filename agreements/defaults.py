"""What a new practice starts with: a coaching default for Bijlage 1 and Bijlage 2.

The coach adjusts these in her practice profile; every new agreement copies them.
Dutch, because they are printed in the agreement.

They name no sub-processors and no processing outside the coach's own devices: the text
(clauses 3.4 and 5.1 of 2026.1) says the coach engages no one. A coach who does (an email
provider, accounting software) adds them to her register (agreements.subprocessors), ticks
them in Bijlage 1, and adds Bijlage 4, which allows them; the art. 28 check says so.
"""

from .models import DataKind, Practice, RetentionFrom, RetentionUnit

DEFAULT_ACTIVITIES = (
    {
        "description": "Vastleggen van contactgegevens en intakegegevens van de cliënt",
        "purposes": "Contact onderhouden, afspraken plannen en het coachtraject voorbereiden",
        "sub_processors": "",
        "personal_data": "Naam, adres, woonplaats, telefoonnummer, e-mailadres, geboortedatum",
        "location": "Versleutelde laptop van de coach",
        "retention": "2 jaar na het einde van het coachtraject",
        "retention_amount": 2,
        "retention_unit": RetentionUnit.YEAR,
        "retention_from": RetentionFrom.AGREEMENT_END,
    },
    {
        "description": "Maken en bewaren van aantekeningen en verslagen van de coachsessies",
        "purposes": "Uitvoeren, bijhouden en evalueren van het coachtraject",
        "sub_processors": "",
        "personal_data": (
            "Hulpvraag, doelen, voortgang en persoonlijke situatie; mogelijk gegevens over "
            "gezondheid"
        ),
        "location": (
            "Versleutelde laptop van de coach; papieren aantekeningen in een afgesloten kast"
        ),
        "retention": "2 jaar na het einde van het coachtraject",
        "retention_amount": 2,
        "retention_unit": RetentionUnit.YEAR,
        "retention_from": RetentionFrom.AGREEMENT_END,
    },
    {
        "description": "Opstellen en versturen van facturen en bijhouden van betalingen",
        "purposes": "Financiële administratie en de fiscale bewaarplicht",
        "sub_processors": "",
        "personal_data": "Naam, adres, factuurgegevens, betaalgegevens",
        "location": "Versleutelde laptop van de coach; papieren administratie in een kast op slot",
        "retention": "7 jaar na het einde van het boekjaar (fiscale bewaarplicht)",
        "retention_amount": 7,
        "retention_unit": RetentionUnit.YEAR,
        "retention_from": RetentionFrom.FINANCIAL_YEAR_END,
    },
)

DEFAULT_SECURITY_PROFILE = {
    "data_kind": DataKind.SPECIAL,
    "data_subjects": "1: de cliënt",
    "processing_purpose": "Het uitvoeren van het coachtraject",
    "storage": (
        "Digitaal op een versleutelde laptop en papier in een afgesloten kast, "
        "zo lang als in Bijlage 1 staat"
    ),
    "measures": [
        "virus_scan",
        "phone_security",
        "bitlocker",
        "unique_login",
        "no_unsecured_drives",
        "no_unsecured_backups",
        "no_private_laptop",
        "clean_desk",
        "laptop_attended",
        "laptop_not_in_car",
        "destroy_documents",
    ],
    "extra_measures": "",
}


def apply_practice_defaults(practice: Practice) -> None:
    """Give a new practice the coaching defaults (its name as controller and processor)."""
    for field, value in DEFAULT_SECURITY_PROFILE.items():
        setattr(practice, field, list(value) if isinstance(value, list) else value)
    practice.save()
    practice.default_activities.bulk_create(
        [
            practice.default_activities.model(
                practice=practice,
                controller=practice.name,
                processor=practice.name,
                position=position,
                **row,
            )
            for position, row in enumerate(DEFAULT_ACTIVITIES)
        ]
    )
