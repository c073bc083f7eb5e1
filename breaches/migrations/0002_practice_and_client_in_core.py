import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0001_initial'),
        ('core', '0001_initial'),
    ]

    operations = [
        # Practice and Client moved to the core app; their tables did not change.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='breach',
                    name='practice',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='breaches', to='core.practice'),
                ),
                migrations.AlterField(
                    model_name='clientnotification',
                    name='client',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='breach_notifications', to='core.client'),
                ),
                migrations.AlterField(
                    model_name='breach',
                    name='clients',
                    field=models.ManyToManyField(blank=True, related_name='breaches', to='core.client', verbose_name='affected clients'),
                ),
            ],
            database_operations=[],
        ),
    ]
