from django.db import migrations

from core.immutability import Immutable, ProtectRows


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
    ]

    operations = [
        # What is left to show that a client's data was erased.
        ProtectRows(Immutable("agreements_erasurerecord", "The record of an erasure")),
    ]
