# ErasureRecord and DossierExport moved here from the agreements app: the tables keep their
# names and their rows, so this only tells Django's state where the models now live.

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0001_initial'),
        ('agreements', '0007_event_labels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DossierExport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('requested_by', models.EmailField(max_length=254)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('file', models.FileField(blank=True, upload_to='exports/')),
                        ('sha256', models.CharField(blank=True, max_length=64)),
                        ('size', models.PositiveBigIntegerField(default=0)),
                        ('practice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='core.practice')),
                    ],
                    options={
                        'db_table': 'agreements_dossierexport',
                        'ordering': ['-requested_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ErasureRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('erased_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('erased_by', models.CharField(max_length=254)),
                        ('agreements', models.PositiveIntegerField(default=0)),
                        ('files', models.PositiveIntegerField(default=0)),
                        ('breach_notifications', models.PositiveIntegerField(default=0)),
                        ('practice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='erasures', to='core.practice')),
                    ],
                    options={
                        'db_table': 'agreements_erasurerecord',
                        'ordering': ['-erased_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
