# The database refuses to change or delete a breach's timeline entries: the register of
# art. 33(5) GDPR is append-only (core.immutability).

from django.db import migrations

from core.immutability import Immutable, ProtectRows


class Migration(migrations.Migration):

    dependencies = [
        ("breaches", "0002_practice_and_client_in_core"),
        ("core", "0002_lawful_removal"),
    ]

    operations = [
        ProtectRows(Immutable("breaches_breachupdate", "An entry of a breach's timeline")),
    ]
