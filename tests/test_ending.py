import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils import timezone

from agreements.models import (
    Addendum,
    Agreement,
    AgreementEnding,
    Client,
    ProcessingActivity,
    RetentionDisposal,
    SealedVersion,
)
from agreements.retention import agreement_keep_until
from core.immutability import lawful_removal
from core.origin import Origin
from records.models import ErasureRecord

from .conftest import login_verified, rendered_once
from .factories import close_breach
from .test_signing import archived

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(coach, django_capture_on_commit_callbacks, module_pdfs):
    """A signed, sealed agreement. The tests here are about what follows the signing, so the
    agreement's two PDFs (the one both sign, the final one) are rendered once per module
    (`rendered_once`); sealing, storing and everything after are done each time."""
    from django.test import Client as Browser

    with rendered_once(module_pdfs, kinds=("agreement",)):
        # The client signs in a browser of his own.
        return archived(coach, Browser(), django_capture_on_commit_callbacks)


def end(coach_client, agreement, on):
    return coach_client.post(
        reverse("agreement_end", args=[agreement.public_id]), {"coaching_ended_on": on}
    )


def test_record_the_end(coach_client, signed):
    today = timezone.localdate().isoformat()
    assert coach_client.get(reverse("agreement_end", args=[signed.public_id])).status_code == 405
    end(coach_client, signed, today)
    ending = AgreementEnding.objects.get(agreement=signed)
    assert ending.coaching_ended_on == timezone.localdate()
    assert signed.events.filter(kind="ended").exists()
    page = coach_client.get(reverse("agreement_detail", args=[signed.public_id])).text
    assert "Wat blijft gelden (artikel 2.4)" in page
    keep_until = agreement_keep_until(Agreement.objects.get(pk=signed.pk))
    assert f"Bewaar de gegevens tot {keep_until.day} " in page
    # Once only; the signed row itself is untouched.
    response = end(coach_client, signed, today)
    assert AgreementEnding.objects.count() == 1
    assert "al vastgelegd" in coach_client.get(response.url).text
    assert Agreement.objects.get(pk=signed.pk).final_sha256 == signed.final_sha256


@pytest.mark.parametrize(
    ("on", "message"),
    [
        ("2999-01-01", "Vul een datum in tussen"),
        ((timezone.localdate() + datetime.timedelta(days=2)).isoformat(), "in de toekomst"),
        ("2001-01-01", "kan niet eindigen voordat"),
        ("gisteren", "Voer een geldige datum in"),
    ],
)
def test_bad_end_dates_are_refused(coach_client, signed, on, message):
    response = end(coach_client, signed, on)
    assert message in coach_client.get(response.url).text
    assert not AgreementEnding.objects.exists()


def test_a_draft_cannot_end(coach_client, coach):
    from .factories import make_agreement

    draft = make_agreement(coach.practice)
    end(coach_client, draft, timezone.localdate().isoformat())
    assert not AgreementEnding.objects.exists()


def test_stranger_cannot_end_or_erase(client, signed, stranger):
    login_verified(client, stranger)
    assert end(client, signed, timezone.localdate().isoformat()).status_code == 404
    response = client.post(
        reverse("client_erase", args=[signed.client.public_id]),
        {"confirm_name": signed.client.name},
    )
    assert response.status_code == 404
    assert Client.objects.filter(pk=signed.client_id).exists()
    assert not AgreementEnding.objects.exists()


def erase(coach_client, client_obj, name=None):
    return coach_client.post(
        reverse("client_erase", args=[client_obj.public_id]),
        {"confirm_name": name if name is not None else client_obj.name},
    )


def test_erasure_is_refused_while_the_agreement_must_be_kept(coach_client, signed):
    client_obj = signed.client
    page = coach_client.get(reverse("client_edit", args=[client_obj.public_id])).text
    assert "nog niet beëindigd" in page
    erase(coach_client, client_obj)
    assert Client.objects.filter(pk=client_obj.pk).exists()

    end(coach_client, signed, timezone.localdate().isoformat())
    page = coach_client.get(reverse("client_edit", args=[client_obj.public_id])).text
    assert "bewaartermijn loopt" in page
    keep_until = agreement_keep_until(Agreement.objects.get(pk=signed.pk))
    assert keep_until > timezone.localdate()
    assert f"tot {keep_until.day} " in page
    assert str(keep_until.year) in page
    response = erase(coach_client, client_obj)
    assert "moeten nog bewaard blijven" in coach_client.get(response.url).text
    assert Agreement.objects.filter(pk=signed.pk).exists()
    assert default_storage.exists(signed.final_pdf.name)


def personal_data_left(*needles):
    """Every text column of every table that still holds one of the needles."""
    found = []
    for model in apps.get_models():
        text_fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and f.concrete
        ]
        for field in text_fields:
            for needle in needles:
                if model._default_manager.filter(**{f"{field}__icontains": needle}).exists():
                    found.append(f"{model._meta.label}.{field}")
    return found


def test_erasure_removes_the_personal_data_and_the_files(
    coach_client, signed, coach, django_capture_on_commit_callbacks
):
    from breaches.models import ClientNotification

    client_obj = signed.client
    # The agreement ended long ago and every retention period ran out. (The database lets
    # sealed rows be backdated only inside a lawful removal.)
    ended = datetime.date(2020, 1, 31)
    with lawful_removal(reason="test: backdated", origin=Origin.system()):
        Agreement.objects.filter(pk=signed.pk).update(agreement_date=datetime.date(2019, 1, 1))
        ProcessingActivity.objects.filter(agreement=signed).update(
            retention_amount=1, retention_unit="year", retention_from="agreement_end"
        )
    AgreementEnding.objects.create(agreement=signed, coaching_ended_on=ended)
    # An addendum with a renewed version of its sealed PDF (manage.py renew_evidence): every
    # document of the dossier goes, each of its versions too.
    addendum = Addendum.objects.create(
        agreement=signed,
        kind=Addendum.KIND,
        number=1,
        effective_on=datetime.date(2019, 6, 1),
        reason="Nieuwe agenda",
        final_pdf=default_storage.save("addenda/t/a.pdf", ContentFile(b"%PDF addendum")),
        final_sha256="a" * 64,
    )
    version = SealedVersion.objects.create(
        document=addendum.document,
        number=2,
        file=default_storage.save("addenda/versions/t/a-2.pdf", ContentFile(b"%PDF v2")),
        sha256="b" * 64,
        reason="test",
    )
    # The coach recorded that the session notes were destroyed (append-only, like the rest).
    RetentionDisposal.objects.create(
        activity=signed.activities.first(),
        disposition="destroyed",
        done_on=datetime.date(2021, 2, 1),
        method="Sessieverslagen van Zoë Ünal-Brontë versnipperd",
    )
    from breaches.actions import breach_create

    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen met het dossier van Zoë Ünal-Brontë",
        discovered_at=timezone.now() - datetime.timedelta(days=1),
        clients=[client_obj],
    )
    ClientNotification.objects.create(
        breach=breach, client=client_obj, client_name=client_obj.name, email=client_obj.email
    )
    import json

    def timeline_text():
        return " ".join(
            e.text + json.dumps(e.changes, ensure_ascii=False) for e in breach.updates.all()
        )

    assert "Ünal-Brontë" in timeline_text()  # the first report names the affected client
    stored_name = signed.final_pdf.name
    assert default_storage.exists(stored_name)
    assert personal_data_left("Ünal-Brontë", "zoe@example.test")

    # The breach is still open: she may still have to be told of it, so her data stays.
    page = coach_client.get(reverse("client_edit", args=[client_obj.public_id])).text
    assert "Datalek ontdekt op" in page
    assert "nog open" in page
    erase(coach_client, client_obj, name=client_obj.name)
    assert Client.objects.filter(pk=client_obj.pk).exists()
    close_breach(breach, coach)

    with django_capture_on_commit_callbacks(execute=True):
        response = erase(coach_client, client_obj, name="  zoë ünal-brontë ")
    assert response.status_code == 302

    assert not Client.objects.filter(pk=client_obj.pk).exists()
    assert not Agreement.objects.filter(pk=signed.pk).exists()
    assert not RetentionDisposal.objects.exists()
    assert not default_storage.exists(stored_name)
    assert not default_storage.exists(addendum.final_pdf.name)
    assert not default_storage.exists(version.file.name)
    assert personal_data_left("Ünal-Brontë", "zoe@example.test") == []
    record = ErasureRecord.objects.get()
    assert (record.agreements, record.files, record.breach_notifications) == (1, 3, 1)
    assert record.erased_by == coach.email
    # What she recorded as destroyed stays provable, as dates: kept until the end of the
    # one-year period, destroyed the day after.
    assert record.disposals == [
        {"kept_until": "2021-01-31", "done_on": "2021-02-01", "disposition": "destroyed"}
    ]
    page = coach_client.get(reverse("retention_list")).text
    assert "Gewiste cliënten" in page
    assert "1 overeenkomst, 3 opgeslagen bestanden, 1 datalekmelding geanonimiseerd." in page
    assert (
        "Rij van Bijlage 1 bewaard tot en met 31 januari 2021: vernietigd op 1 februari 2021."
        in page
    )
    assert "Ünal" not in page
    from records.export import practice_dossier

    with zipfile.ZipFile(io.BytesIO(b"".join(practice_dossier(coach.practice)))) as dossier:
        erasures = dossier.read("wissingen.csv").decode("utf-8-sig").splitlines()
    assert erasures[1].endswith(f";{coach.email};1;3;1;2021-01-31, 2021-02-01, vernietigd;")
    # The register still shows that a client was notified, not who.
    (notification,) = ClientNotification.objects.all()
    assert notification.client_id is None
    assert notification.email == ""
    breach.refresh_from_db()
    assert breach.summary == "Laptop gestolen met het dossier van (gewiste cliënt)"
    assert "Ünal-Brontë" not in timeline_text()
    assert "(gewiste cliënt)" in timeline_text()


def test_erasure_needs_the_name_typed(coach_client, coach):
    from .factories import make_client

    client_obj = make_client(coach.practice)
    response = erase(coach_client, client_obj, name="Iemand anders")
    assert "niet de naam" in coach_client.get(response.url).text
    assert Client.objects.filter(pk=client_obj.pk).exists()
    assert coach_client.get(reverse("client_erase", args=[client_obj.public_id])).status_code == 405


def test_declaration_signed_through_the_emailed_link(
    client, coach_client, signed, coach, django_capture_on_commit_callbacks
):
    from django.core import mail

    from agreements.models import Declaration
    from avg_portal.seal import verify_seal

    from .conftest import stored_pdf
    from .signing_helpers import client_post, confirm_signer_code, token_from

    data = {
        "data_description": "Sessieverslagen en <b>intakeformulier</b>",
        "disposition": "destroyed",
        "done_on": timezone.localdate().isoformat(),
        "method": "Bestanden verwijderd, prullenbak geleegd",
    }
    url = reverse("declaration_send", args=[signed.public_id])
    assert coach_client.get(url).status_code == 405
    coach_client.post(url, data)
    assert not Declaration.objects.exists()  # the agreement has not ended yet

    end(coach_client, signed, timezone.localdate().isoformat())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(url, data)
    declaration = Declaration.objects.get()
    assert declaration.status == "sent"
    (invitation,) = mail.outbox
    assert "verklaring van teruggave" in invitation.subject
    token = token_from(invitation)

    client.get(reverse("signing_open", args=[token]))
    page = client.get(reverse("signing_page")).text
    assert "Verklaring van teruggave en/of vernietiging" in page
    assert "&lt;b&gt;intakeformulier&lt;/b&gt;" in page
    assert "Niet ondertekenen" not in page  # nothing to decline in a statement of fact
    assert "Stuur mij een code" in page  # the declaration is signed with a code too
    confirm_signer_code(client)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_page"), client_post())
    assert response.url == reverse("signing_done")

    declaration.refresh_from_db()
    assert declaration.status == "signed"
    assert declaration.is_archived
    sealed = stored_pdf(declaration)
    verify_seal(sealed)
    results = Path(__file__).resolve().parent.parent / "test-results"
    results.mkdir(exist_ok=True)
    (results / "signed-declaration.pdf").write_bytes(sealed)  # to look at with pdftoppm
    from .test_signing import pdf_text

    text = pdf_text(sealed)
    assert "Bewijs van ondertekening" in text
    assert "<b>intakeformulier</b>" in text
    assert declaration.document_sha256 in text.replace(" ", "").replace("\n", "")
    kinds = list(signed.events.values_list("kind", flat=True))
    for kind in ("ended", "declaration_sent", "declaration_signed", "declaration_completed"):
        assert kind in kinds
    assert {tuple(m.to) for m in mail.outbox} >= {(signed.client.email,)}
    # The agreement's own signatures are untouched; the sealed agreement still verifies.
    assert signed.signatures.count() == 2
    assert declaration.signatures.count() == 1
    verify_seal(stored_pdf(Agreement.objects.get(pk=signed.pk)))
    detail = coach_client.get(reverse("agreement_detail", args=[signed.public_id])).text
    assert "Door de cliënt ondertekend, verzegeld en opgeslagen" in detail
    download = coach_client.get(reverse("declaration_pdf", args=[signed.public_id]))
    assert b"".join(download.streaming_content) == sealed
    # The verification page knows the declaration too.
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("v.pdf", sealed, content_type="application/pdf")
    checked = type(client)().post(reverse("verify"), {"document": upload})
    assert "Echt en onveranderd" in checked.text


def test_stranger_gets_404_on_the_declaration(client, signed, stranger, coach_client):
    from agreements.models import Declaration

    end(coach_client, signed, timezone.localdate().isoformat())
    login_verified(client, stranger)
    data = {
        "data_description": "Alles",
        "disposition": "destroyed",
        "done_on": timezone.localdate().isoformat(),
        "method": "Verwijderd",
    }
    assert (
        client.post(reverse("declaration_send", args=[signed.public_id]), data).status_code == 404
    )
    assert client.get(reverse("declaration_pdf", args=[signed.public_id])).status_code == 404
    assert not Declaration.objects.exists()
