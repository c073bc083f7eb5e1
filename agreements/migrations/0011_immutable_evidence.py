# The database refuses to change or delete sealed evidence (core.immutability): a sealed
# document, the agreement or declaration it is, its signatures and its Bijlage 1 rows; and
# every event of the evidence trail, which is append-only.

from django.db import migrations

from core.immutability import Immutable, ProtectRows


def sealed(document_id):
    """The SQL condition: the signable document with this id is sealed."""
    return (
        'EXISTS (SELECT 1 FROM agreements_signabledocument WHERE "key" = '
        f"{document_id} AND final_sha256 <> '')"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("agreements", "0010_archive_evidence"),
        ("core", "0002_lawful_removal"),
    ]

    operations = [
        ProtectRows(
            Immutable(
                "agreements_signabledocument", "A sealed document", when="OLD.final_sha256 <> ''"
            ),
            Immutable("agreements_agreement", "A sealed agreement", when=sealed("OLD.document_id")),
            Immutable(
                "agreements_declaration", "A sealed declaration", when=sealed("OLD.document_id")
            ),
            Immutable(
                "agreements_signature",
                "The signature of a sealed document",
                when=sealed("OLD.document_id"),
            ),
            Immutable(
                "agreements_processingactivity",
                "Bijlage 1 of a sealed agreement",
                when=sealed(
                    "(SELECT document_id FROM agreements_agreement WHERE id = OLD.agreement_id)"
                ),
            ),
            Immutable("agreements_agreementevent", "An event of the evidence trail"),
        ),
    ]
