from django.db import migrations

from core.immutability import Immutable, ProtectRows


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_phone_with_no_break_spaces"),
    ]

    operations = [
        # The record of each use of the one way past the triggers. A permit changes once,
        # when its own block ends (active becomes false); after that it stays as it is.
        ProtectRows(
            Immutable("core_lawfulremoval", "The record of a lawful removal", when="NOT OLD.active")
        ),
    ]
