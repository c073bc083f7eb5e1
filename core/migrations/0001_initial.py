# Practice and Client moved here from the agreements app: the tables keep their names and
# their rows, so this only tells Django's state where the models now live.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('agreements', '0007_event_labels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Practice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('data_kind', models.CharField(choices=[('normal', 'normal personal data'), ('special', 'special categories (e.g. health)'), ('sensitive', 'sensitive data (e.g. BSN, financial)')], default='special', max_length=10, verbose_name='kind of personal data')),
                        ('data_subjects', models.CharField(blank=True, default='', help_text="E.g. '1: the client'.", max_length=200, verbose_name='number of data subjects')),
                        ('processing_purpose', models.CharField(blank=True, default='', max_length=500, verbose_name='purpose of the processing')),
                        ('storage', models.CharField(blank=True, default='', max_length=500, verbose_name='how long and how the data is stored')),
                        ('measures', models.JSONField(blank=True, default=list, verbose_name='security measures')),
                        ('extra_measures', models.TextField(blank=True, help_text='One measure per line.', max_length=4000, verbose_name='your own additional measures')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('name', models.CharField(max_length=200, verbose_name='practice name')),
                        ('statutory_seat', models.CharField(blank=True, help_text='The city where the practice is registered, e.g. Tilburg.', max_length=100, verbose_name='statutory seat')),
                        ('address', models.CharField(blank=True, help_text='Street, number, postcode, city.', max_length=300, verbose_name='address')),
                        ('kvk_number', models.CharField(blank=True, max_length=8, validators=[django.core.validators.RegexValidator('^\\d{8}$', 'A KvK number has exactly 8 digits, for example 12345678.')], verbose_name='KvK number')),
                        ('email', models.EmailField(blank=True, max_length=254, verbose_name='email address')),
                        ('phone', models.CharField(blank=True, max_length=20, validators=[django.core.validators.RegexValidator('^\\+?[0-9][0-9 ()-]{7,19}$', 'Enter a phone number of digits, for example 013 123 45 67 or +31 6 12345678.')], verbose_name='phone')),
                        ('breach_contact_role', models.CharField(blank=True, help_text="Who the client contacts about a data breach, e.g. 'de coach' or a name.", max_length=150, verbose_name='breach contact (role or name)')),
                        ('breach_contact_phone', models.CharField(blank=True, max_length=20, validators=[django.core.validators.RegexValidator('^\\+?[0-9][0-9 ()-]{7,19}$', 'Enter a phone number of digits, for example 013 123 45 67 or +31 6 12345678.')], verbose_name='breach contact phone')),
                        ('breach_contact_email', models.EmailField(blank=True, max_length=254, verbose_name='breach contact email')),
                        ('default_penalty_per_violation', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='penalty per violation (€)')),
                        ('default_penalty_per_day', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='penalty per day of violation (€)')),
                        ('signing_link_days', models.PositiveSmallIntegerField(default=14, help_text='How long a client can use the link to sign; 14 days unless you change it.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(60)], verbose_name='signing links work for (days)')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ],
                    options={
                        'verbose_name': 'practice',
                        'verbose_name_plural': 'practices',
                        'db_table': 'agreements_practice',
                        'constraints': [models.CheckConstraint(condition=models.Q(('default_penalty_per_violation__gte', 0), ('default_penalty_per_violation__isnull', True), _connector='OR'), name='practice_penalty_per_violation_not_negative'), models.CheckConstraint(condition=models.Q(('default_penalty_per_day__gte', 0), ('default_penalty_per_day__isnull', True), _connector='OR'), name='practice_penalty_per_day_not_negative')],
                    },
                ),
                migrations.CreateModel(
                    name='Client',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('residence', models.CharField(help_text='The town or city, e.g. Breda.', max_length=100, verbose_name='place of residence')),
                        ('email', models.EmailField(max_length=254, verbose_name='email address')),
                        ('phone', models.CharField(blank=True, max_length=20, validators=[django.core.validators.RegexValidator('^\\+?[0-9][0-9 ()-]{7,19}$', 'Enter a phone number of digits, for example 013 123 45 67 or +31 6 12345678.')], verbose_name='phone')),
                        ('language', models.CharField(choices=[('nl', 'Dutch'), ('en', 'English')], default='nl', max_length=2, verbose_name='language for emails')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('practice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='clients', to='core.practice')),
                    ],
                    options={
                        'verbose_name': 'client',
                        'verbose_name_plural': 'clients',
                        'db_table': 'agreements_client',
                        'ordering': ['name', 'id'],
                        'indexes': [models.Index(fields=['practice', 'name'], name='agreements__practic_5f774e_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('language__in', ['nl', 'en'])), name='client_language_valid')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
