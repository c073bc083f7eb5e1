import django.db.models.deletion
from django.db import migrations, models

MOVED = {"practice": "core", "client": "core", "erasurerecord": "records", "dossierexport": "records"}


def move_content_types(apps, schema_editor):
    """Permissions and admin history follow the models to their new apps."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        ContentType.objects.filter(app_label="agreements", model=model).update(app_label=app_label)


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        ContentType.objects.filter(app_label=app_label, model=model).update(app_label="agreements")


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0007_event_labels'),
        ('avg_portal', '0002_practice_in_core'),
        ('breaches', '0002_practice_and_client_in_core'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0001_initial'),
        ('records', '0001_initial'),
    ]

    operations = [
        # Practice and Client went to the core app, ErasureRecord and DossierExport to the
        # records app. The tables stay as they are; only Django's state changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='agreement',
                    name='client',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='agreements', to='core.client'),
                ),
                migrations.AlterField(
                    model_name='agreement',
                    name='practice',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='agreements', to='core.practice'),
                ),
                migrations.AlterField(
                    model_name='defaultprocessingactivity',
                    name='practice',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='default_activities', to='core.practice'),
                ),
                migrations.DeleteModel(name='DossierExport'),
                migrations.DeleteModel(name='ErasureRecord'),
                migrations.DeleteModel(name='Client'),
                migrations.DeleteModel(name='Practice'),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
