# The agreement and the declaration become two kinds of one signable document: what they
# share (the PDF signed, its hash, the sealed final PDF) moves into SignableDocument, and
# links, signatures and events point at the document they concern. Every row is kept: the
# agreements and declarations keep their ids, their files and their hashes.

import django.db.models.deletion
from django.db import migrations, models

import agreements.models

SHARED = ("document_pdf", "document_sha256", "sent_at", "final_pdf", "final_sha256", "completed_at")
# Before this migration, the declaration's evidence page showed these events when they
# happened after it was sent; now each event says which document it concerns.
CLIENT_VISITS = ("opened", "viewed", "downloaded", "email_accepted", "email_failed")


class AlterModelBases(migrations.operations.base.Operation):
    """Make a model in Django's state inherit from another; the tables are already set up
    for it by the operations before."""

    reversible = True

    def __init__(self, name, bases):
        self.name = name
        self.bases = bases

    def deconstruct(self):
        return self.__class__.__name__, [], {"name": self.name, "bases": self.bases}

    def state_forwards(self, app_label, state):
        state.models[app_label, self.name.lower()].bases = self.bases
        state.reload_model(app_label, self.name.lower(), delay=False)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return f"Make {self.name} inherit from {', '.join(map(str, self.bases))}"


def to_documents(apps, schema_editor):
    SignableDocument = apps.get_model("agreements", "SignableDocument")
    Agreement = apps.get_model("agreements", "Agreement")
    Declaration = apps.get_model("agreements", "Declaration")
    Signature = apps.get_model("agreements", "Signature")
    SigningLink = apps.get_model("agreements", "SigningLink")
    AgreementEvent = apps.get_model("agreements", "AgreementEvent")

    agreement_documents, declarations = {}, {}
    for agreement in Agreement.objects.order_by("pk"):
        document = SignableDocument.objects.create(
            kind="agreement", **{field: getattr(agreement, field) for field in SHARED}
        )
        Agreement.objects.filter(pk=agreement.pk).update(document=document)
        agreement_documents[agreement.pk] = document.pk
    for declaration in Declaration.objects.order_by("pk"):
        document = SignableDocument.objects.create(
            kind="declaration", **{field: getattr(declaration, field) for field in SHARED}
        )
        Declaration.objects.filter(pk=declaration.pk).update(document=document)
        declarations[declaration.agreement_id] = (declaration.pk, document.pk, declaration.sent_at)
    declaration_documents = {pk: key for pk, key, _ in declarations.values()}

    for model in (Signature, SigningLink):
        for row in model.objects.all():
            if row.declaration_id:
                key = declaration_documents[row.declaration_id]
            else:
                key = agreement_documents[row.agreement_id]
            model.objects.filter(pk=row.pk).update(document=key)

    for event in AgreementEvent.objects.all():
        key = agreement_documents[event.agreement_id]
        declaration = declarations.get(event.agreement_id)
        if event.kind in ("created", "ended"):
            key = None
        elif declaration and (
            event.kind.startswith("declaration")
            or (event.kind in CLIENT_VISITS and event.at >= declaration[2])
        ):
            key = declaration[1]
        AgreementEvent.objects.filter(pk=event.pk).update(document=key)


def from_documents(apps, schema_editor):
    """Back to before: the shared fields return to the agreement and the declaration."""
    Agreement = apps.get_model("agreements", "Agreement")
    Declaration = apps.get_model("agreements", "Declaration")
    Signature = apps.get_model("agreements", "Signature")
    SigningLink = apps.get_model("agreements", "SigningLink")
    SignableDocument = apps.get_model("agreements", "SignableDocument")
    owners = {}
    for model in (Agreement, Declaration):
        for row in model.objects.all():
            document = SignableDocument.objects.get(pk=row.document_id)
            model.objects.filter(pk=row.pk).update(
                **{field: getattr(document, field) for field in SHARED}
            )
            agreement_id = row.pk if model is Agreement else row.agreement_id
            declaration_id = row.pk if model is Declaration else None
            owners[row.document_id] = (agreement_id, declaration_id)
    for model in (Signature, SigningLink):
        for row in model.objects.all():
            agreement_id, declaration_id = owners[row.document_id]
            model.objects.filter(pk=row.pk).update(
                agreement=agreement_id, declaration=declaration_id
            )


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0008_models_to_core_and_records'),
    ]

    operations = [
        migrations.CreateModel(
            name='SignableDocument',
            fields=[
                ('key', models.BigAutoField(primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('agreement', 'processing agreement'), ('declaration', 'declaration of return or destruction')], editable=False, max_length=20)),
                ('document_pdf', models.BinaryField(blank=True, default=b'')),
                ('document_sha256', models.CharField(blank=True, editable=False, max_length=64)),
                ('sent_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('final_pdf', models.FileField(blank=True, editable=False, upload_to=agreements.models.final_pdf_path)),
                ('final_sha256', models.CharField(blank=True, db_index=True, editable=False, max_length=64)),
                ('completed_at', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['agreement', 'declaration'])), name='signabledocument_kind_valid')],
            },
        ),
        migrations.AddField(
            model_name='agreement',
            name='document',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agreements.signabledocument'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='document',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agreements.signabledocument'),
        ),
        migrations.AddField(
            model_name='agreementevent',
            name='document',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='document_events', to='agreements.signabledocument'),
        ),
        migrations.AddField(
            model_name='signature',
            name='document',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='signatures', to='agreements.signabledocument'),
        ),
        migrations.AddField(
            model_name='signinglink',
            name='document',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='signing_links', to='agreements.signabledocument'),
        ),
        migrations.RunPython(to_documents, from_documents, elidable=False),
        migrations.RemoveConstraint(model_name='signature', name='one_signature_per_party'),
        migrations.RemoveConstraint(model_name='signature', name='one_declaration_signature_per_party'),
        migrations.RemoveField(model_name='signature', name='agreement'),
        migrations.RemoveField(model_name='signature', name='declaration'),
        migrations.RemoveField(model_name='signinglink', name='agreement'),
        migrations.RemoveField(model_name='signinglink', name='declaration'),
        *[
            migrations.RemoveField(model_name=model, name=field)
            for model in ('agreement', 'declaration')
            for field in SHARED
        ],
        migrations.AlterField(
            model_name='signature',
            name='document',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='signatures', to='agreements.signabledocument'),
        ),
        migrations.AlterField(
            model_name='signinglink',
            name='document',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='signing_links', to='agreements.signabledocument'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.UniqueConstraint(fields=('document', 'party'), name='one_signature_per_party_and_document'),
        ),
        migrations.AlterField(
            model_name='agreement',
            name='id',
            field=models.BigAutoField(primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name='declaration',
            name='id',
            field=models.BigAutoField(primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name='agreement',
            name='document',
            field=models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, parent_link=True, related_name='as_agreement', to='agreements.signabledocument'),
        ),
        migrations.AlterField(
            model_name='declaration',
            name='document',
            field=models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, parent_link=True, related_name='as_declaration', to='agreements.signabledocument'),
        ),
        AlterModelBases('Agreement', ('agreements.signabledocument',)),
        AlterModelBases('Declaration', ('agreements.signabledocument',)),
    ]
