from django.db import migrations, models
from django.db.models import F


def overdue_when_first_sent(apps, schema_editor):
    """A row first announced after its date was announced as overdue already."""
    reminder = apps.get_model("agreements", "RetentionReminder")
    reminder.objects.filter(sent_on__gt=F("due_on")).update(overdue_sent_on=F("sent_on"))


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0023_immutable_ending"),
    ]

    operations = [
        migrations.AddField(
            model_name="retentionreminder",
            name="overdue_sent_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(overdue_when_first_sent, migrations.RunPython.noop),
    ]
