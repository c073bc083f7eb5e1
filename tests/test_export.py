import csv
import datetime
import hashlib
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, AgreementEnding, AgreementStatus, Declaration
from breaches import actions as breach_actions
from core.origin import Origin

from .conftest import login_verified, stored_pdf
from .factories import make_agreement, make_client
from .test_signing import archived

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.record_entries,
    pytest.mark.usefixtures("render_once"),
]


def fake_archived(practice, client=None, *, pdf=None):
    """An archived agreement without the cost of rendering and sealing: a stored file and
    its hash, written past the model's immutability guard as the completion step would."""
    agreement = make_agreement(practice, client)
    pdf = pdf or b"%PDF-1.7\n" + agreement.client_name.encode() + b"\n%%EOF\n"
    name = default_storage.save(f"agreements/test/{agreement.public_id}.pdf", ContentFile(pdf))
    Agreement.objects.filter(pk=agreement.pk).update(
        status=AgreementStatus.SIGNED,
        final_pdf=name,
        final_sha256=hashlib.sha256(pdf).hexdigest(),
        completed_at=timezone.now(),
    )
    return Agreement.objects.get(pk=agreement.pk)


def download(http_client, url):
    response = http_client.get(url)
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    assert response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest(archive):
    text = archive.read("manifest.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Bestand", "SHA-256", "Bytes"]
    return {name: (digest, int(size)) for name, digest, size in rows[1:]}


def test_practice_export_holds_everything_and_the_manifest_matches(
    client, coach, coach_client, django_capture_on_commit_callbacks
):
    sealed = archived(coach, client, django_capture_on_commit_callbacks)
    other = fake_archived(coach.practice, make_client(coach.practice, "Bram de Vries"))
    AgreementEnding.objects.create(agreement=other, coaching_ended_on=datetime.date(2026, 3, 1))
    make_agreement(coach.practice, make_client(coach.practice, "Concept Cliënt"))  # a draft
    breach_actions.breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen",
        discovered_at=timezone.now(),
        clients=[sealed.client],
    )

    archive = download(coach_client, reverse("export_practice"))
    assert archive.testzip() is None
    listed = manifest(archive)
    members = set(archive.namelist())
    # Every member but the manifest itself is listed, with its true hash and size.
    assert set(listed) == members - {"manifest.csv"}
    for name, (digest, size) in listed.items():
        data = archive.read(name)
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert len(data) == size
    sealed_name = next(
        n for n in members if n.startswith("verwerkersovereenkomsten/zoe-unal-bronte-")
    )
    assert archive.read(sealed_name) == stored_pdf(sealed)
    assert listed[sealed_name][0] == sealed.final_sha256
    assert len([n for n in members if n.startswith("verwerkersovereenkomsten/")]) == 2
    assert len([n for n in members if n.startswith("bewijs/")]) == 2
    assert {
        "verwerkingsregister.csv",
        "verwerkingsregister.pdf",
        "datalekkenregister.csv",
    } <= members
    assert archive.read("verwerkingsregister.pdf").startswith(b"%PDF")

    evidence = archive.read(
        sealed_name.replace("verwerkersovereenkomsten/", "bewijs/")[:-4] + ".csv"
    )
    assert "ondertekend door de cliënt" in evidence.decode("utf-8-sig")

    record = list(
        csv.DictReader(
            io.StringIO(archive.read("verwerkingsregister.csv").decode("utf-8-sig")), delimiter=";"
        )
    )
    # Three Bijlage 1 rows per signed agreement; the draft is no part of the record.
    assert len(record) == 6
    # Art. 30(2): each client is a controller, the practice the processor.
    controllers = {row["Verwerkingsverantwoordelijke"] for row in record}
    assert controllers == {"Zoë Ünal-Brontë", "Bram de Vries"}
    assert {row["Verwerker"] for row in record} == {coach.practice.name}
    assert {row["Verwerkingsverantwoordelijke volgens Bijlage 1"] for row in record} == {
        coach.practice.name
    }
    bram = [row for row in record if row["Verwerkingsverantwoordelijke"] == "Bram de Vries"]
    assert sorted(row["Bewaren tot"] for row in bram) == ["01-03-2028", "01-03-2028", "31-12-2033"]
    assert "Laptop gestolen" in archive.read("datalekkenregister.csv").decode("utf-8-sig")


def test_a_signed_declaration_is_exported_with_its_agreement(coach, coach_client):
    agreement = fake_archived(coach.practice, make_client(coach.practice, "Anna Jansen"))
    pdf = b"%PDF-1.7\nverklaring\n%%EOF\n"
    name = default_storage.save(f"declarations/test/{agreement.public_id}.pdf", ContentFile(pdf))
    Declaration.objects.create(
        agreement=agreement,
        disposition=Declaration.Disposition.DESTROYED,
        data_description="Sessieverslagen",
        done_on=datetime.date(2026, 3, 2),
        method="Bestanden gewist",
        status=Declaration.Status.SIGNED,
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    archive = download(coach_client, reverse("export_client", args=[agreement.client.public_id]))
    declared = [n for n in archive.namelist() if n.startswith("verklaringen/")]
    assert len(declared) == 1 and archive.read(declared[0]) == pdf
    assert manifest(archive)[declared[0]][0] == hashlib.sha256(pdf).hexdigest()


def test_client_export_holds_only_that_client(coach, coach_client):
    anna = make_client(coach.practice, "Anna Jansen")
    bram = make_client(coach.practice, "Bram de Vries")
    fake_archived(coach.practice, anna)
    fake_archived(coach.practice, bram)
    for summary, clients in (("Over Anna", [anna]), ("Over Bram", [bram])):
        breach_actions.breach_create(
            practice=coach.practice,
            origin=Origin.of_account(coach),
            summary=summary,
            discovered_at=timezone.now(),
            clients=clients,
        )
    archive = download(coach_client, reverse("export_client", args=[anna.public_id]))
    names = archive.namelist()
    assert [n for n in names if n.startswith("verwerkersovereenkomsten/")][0].startswith(
        "verwerkersovereenkomsten/anna-"
    )
    assert not any("bram" in n for n in names)
    assert "Bram" not in archive.read("verwerkingsregister.csv").decode("utf-8-sig")
    register = archive.read("datalekkenregister.csv").decode("utf-8-sig")
    assert "Over Anna" in register and "Over Bram" not in register
    assert set(manifest(archive)) == set(names) - {"manifest.csv"}


def test_a_stranger_gets_404_and_none_of_the_practice(coach, stranger, client):
    fake_archived(coach.practice, make_client(coach.practice, "Anna Jansen"))
    other = login_verified(client, stranger)
    anna = coach.practice.clients.get()
    assert other.get(reverse("export_client", args=[anna.public_id])).status_code == 404
    # The practice export is always the logged-in coach's own practice.
    archive = download(other, reverse("export_practice"))
    assert not any(n.startswith("verwerkersovereenkomsten/") for n in archive.namelist())
    assert "Anna" not in archive.read("verwerkingsregister.csv").decode("utf-8-sig")


def test_an_account_without_a_practice_gets_404(client, db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from avg_portal.models import User

    admin = User.objects.create_user(email="admin@example.test", password="x" * 20)
    TOTPDevice.objects.create(user=admin, name="default", confirmed=True)
    assert login_verified(client, admin).get(reverse("export_practice")).status_code == 404


def test_exports_refuse_post(coach, coach_client):
    anna = make_client(coach.practice, "Anna Jansen")
    assert coach_client.post(reverse("export_practice")).status_code == 405
    assert coach_client.post(reverse("export_client", args=[anna.public_id])).status_code == 405
    assert coach_client.post(reverse("retention_list")).status_code == 405


def test_the_export_streams_in_chunks(coach):
    from records import export

    for index in range(3):
        fake_archived(
            coach.practice,
            make_client(coach.practice, f"Cliënt {index}"),
            pdf=b"%PDF-1.7\n" + bytes(range(256)) * 2048,  # 512 KB each
        )
    chunks = list(export.practice_dossier(coach.practice))
    assert len(chunks) > 3
    assert max(len(chunk) for chunk in chunks) < 2 * export.YIELD_AT
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


def test_export_links_are_on_the_pages(coach, coach_client):
    anna = make_client(coach.practice, "Anna Jansen")
    assert reverse("export_practice") in coach_client.get(reverse("agreement_list")).text
    page = coach_client.get(reverse("client_edit", args=[anna.public_id])).text
    assert reverse("export_client", args=[anna.public_id]) in page


def test_a_large_dossier_arrives_by_emailed_link(
    coach, coach_client, stranger, client, settings, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    from records.models import DossierExport

    settings.EXPORT_EMAIL_ABOVE = 1
    for name in ("Bram de Vries", "Zoë Ünal-Brontë"):
        fake_archived(coach.practice, make_client(coach.practice, name))
    url = reverse("export_practice")
    page = coach_client.get(url)
    assert "dossier wordt op de achtergrond gemaakt" in page.text
    assert not DossierExport.objects.exists()  # a GET starts nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(url)
    assert response.status_code == 302
    job = DossierExport.objects.get()
    assert job.completed_at and job.size > 0
    (message,) = mail.outbox
    assert message.to == [coach.email]
    path = re.search(r"https?://[^/\s]+(/export/[0-9a-f-]+/)", message.body).group(1)

    response = coach_client.get(path)
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == job.sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    for member, (digest, size) in manifest(archive).items():
        assert hashlib.sha256(archive.read(member)).hexdigest() == digest
        assert len(archive.read(member)) == size
    assert sum(1 for n in archive.namelist() if n.startswith("verwerkersovereenkomsten/")) == 2

    login_verified(client, stranger)
    assert client.get(path).status_code == 404
    # After a week the link dies and the file goes.
    from records.dossier_exports import remove_expired

    stored = job.file.name
    assert remove_expired(now=job.expires_at) == 1
    assert not default_storage.exists(stored)
    assert coach_client.get(path).status_code == 404
