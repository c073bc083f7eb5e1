from django.db import migrations

from core.immutability import Immutable, ProtectRows


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0022_phone_with_no_break_spaces"),
    ]

    operations = [
        # The end of an agreement starts its retention periods: changed or removed, it would
        # let data be erased early (or kept too long). Removed only with the agreement, by
        # the lawful erasure.
        ProtectRows(Immutable("agreements_agreementending", "The end of an agreement")),
    ]
