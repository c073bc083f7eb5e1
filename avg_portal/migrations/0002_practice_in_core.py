import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('avg_portal', '0001_initial'),
        ('core', '0001_initial'),
    ]

    operations = [
        # The practice moved to the core app; its table did not change.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='user',
                    name='practice',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='members', to='core.practice', verbose_name='practice'),
                ),
            ],
            database_operations=[],
        ),
    ]
