"""Addenda: the coach changes Bijlage 1 and/or 2 of a signed agreement, both sign it through
the common signing path, and the annexes in force follow it (retention, art. 30 record)."""

import datetime
import hashlib
import types

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client as Browser
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from agreements import addenda, documents, signing
from agreements.annexes import annexes_before, annexes_of, compare, effective_annexes
from agreements.models import (
    Addendum,
    AddendumActivity,
    AddendumStatus,
    Agreement,
    AgreementEnding,
    Declaration,
    RetentionFrom,
    RetentionReminder,
    RetentionUnit,
)
from agreements.retention import (
    activity_due_date,
    agreement_keep_until,
    due_for_destruction,
    rows_to_remind,
    send_reminders,
)
from avg_portal import pdf
from avg_portal.models import User
from avg_portal.seal import verify_seal
from core.exceptions import ActionRefused
from core.origin import Actor, Origin
from records.archive_audit import verify_archive

from .conftest import login_verified, make_coach, media_settings, stored_pdf
from .pdf_reading import pdf_text
from .signing_helpers import (
    client_post,
    confirm_signer_code,
    data_url,
    send_for_signing,
    signature_png,
    token_from,
)
from .test_signing import open_link

pytestmark = pytest.mark.django_db

COACH = Origin(actor=Actor.COACH, name="Mado Remkes")


@pytest.fixture(scope="module")
def _signed_once(module_rows):
    """The coach and her signed, sealed agreement, made once for the module
    (`module_rows`): each test makes its addenda of it in a transaction of its own."""
    coach = make_coach()
    return coach.pk, sealed_agreement(coach, TestCase.captureOnCommitCallbacks).pk


@pytest.fixture(autouse=True)
def _module_media(settings, module_rows):
    for name, value in media_settings(module_rows).items():
        setattr(settings, name, value)


@pytest.fixture
def coach(_signed_once):
    return User.objects.get(pk=_signed_once[0])


@pytest.fixture
def signed(_signed_once):
    """A signed, sealed agreement of `coach`."""
    return Agreement.objects.get(pk=_signed_once[1])


def sealed_agreement(coach, capture):
    """Sent by the coach, signed by the client with his signer code, sealed."""
    agreement, token = send_for_signing(coach, capture=capture)
    client_signs(token, capture)
    agreement.refresh_from_db()
    assert agreement.is_archived
    return agreement


def management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "30",
    }


ROW_FIELDS = (
    "description",
    "purposes",
    "controller",
    "processor",
    "sub_processors",
    "personal_data",
    "location",
    "retention",
    "retention_amount",
    "retention_unit",
    "retention_from",
)


def edit_data(addendum, *, change_first=None, add=None, measures=None, **fields):
    """The addendum form as the browser posts it: the rows as they are, `change_first`
    applied to the first, `add` appended; Bijlage 2 as it is unless changed."""
    rows = list(addendum.activities.all())
    data = {
        "effective_on": fields.pop("effective_on", addendum.effective_on.isoformat()),
        "reason": fields.pop("reason", "Online agenda erbij"),
        "data_kind": addendum.data_kind,
        "data_subjects": addendum.data_subjects,
        "processing_purpose": addendum.processing_purpose,
        "storage": addendum.storage,
        "extra_measures": addendum.extra_measures,
        "measures": measures if measures is not None else list(addendum.measures),
        **management("activities", len(rows) + (1 if add else 0), len(rows)),
    }
    for index, row in enumerate(rows):
        values = {name: getattr(row, name) or "" for name in ROW_FIELDS}
        if index == 0 and change_first:
            values |= change_first
        data[f"activities-{index}-id"] = row.pk
        data[f"activities-{index}-addendum"] = addendum.pk
        data |= {f"activities-{index}-{name}": value for name, value in values.items()}
    if add:
        index = len(rows)
        data |= {f"activities-{index}-{name}": value for name, value in add.items()}
    return data | fields


NEW_ROW = {
    "description": "Afspraken plannen in een online agenda",
    "purposes": "Sessies plannen",
    "controller": "Zoë Ünal-Brontë",
    "processor": "Coachpraktijk De Linde",
    "sub_processors": "Agendadienst B.V.",
    "personal_data": "Naam, e-mailadres <script>alert(1)</script>",
    "location": "Nederland",
    "retention": "2 jaar na het einde",
    "retention_amount": "2",
    "retention_unit": RetentionUnit.YEAR,
    "retention_from": RetentionFrom.AGREEMENT_END,
}


def coach_signature(**overrides):
    return {
        "name": "Mado Remkes",
        "function": "Coach",
        "place": "Tilburg",
        "method": "drawn",
        "signature_image": data_url(signature_png()),
        "typed_signature": "",
        "consent": "on",
    } | overrides


def client_signs(token, capture):
    """The client opens his link in a browser of his own and signs."""
    browser = Browser()
    open_link(browser, token)
    confirm_signer_code(browser)
    with capture(execute=True):
        response = browser.post(reverse("signing_page"), client_post())
    return browser, response


def draft_changed(coach_client, signed, **changes):
    response = coach_client.post(reverse("addendum_create", args=[signed.public_id]))
    addendum = Addendum.objects.filter(agreement=signed).order_by("number").last()
    assert response.url == reverse("addendum_edit", args=[addendum.public_id])
    data = edit_data(addendum, **changes) | {"preview": "1"}
    response = coach_client.post(reverse("addendum_edit", args=[addendum.public_id]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    addendum.refresh_from_db()
    return addendum


def test_addendum_signed_by_both_sealed_and_in_force(
    coach_client, coach, signed, django_capture_on_commit_callbacks
):
    first = signed.activities.first()
    old_retention = first.retention
    # Drafting starts from the annexes in force: the agreement's own.
    addendum = draft_changed(
        coach_client,
        signed,
        change_first={
            "retention": "10 jaar na het einde van het boekjaar",
            "retention_amount": "10",
            "retention_unit": RetentionUnit.YEAR,
            "retention_from": RetentionFrom.FINANCIAL_YEAR_END,
        },
        add=NEW_ROW,
        measures=[*signed.measures, "privacy_screens"]
        if "privacy_screens" not in signed.measures
        else [m for m in signed.measures if m != "privacy_screens"],
    )
    assert addendum.status == AddendumStatus.DRAFT
    assert addendum.number == 1
    assert addendum.activities.count() == signed.activities.count() + 1

    # The preview sets old and new side by side, escaped.
    page = coach_client.get(reverse("addendum_detail", args=[addendum.public_id])).text
    assert "Was" in page and "Wordt" in page
    assert old_retention in page
    assert "10 jaar na het einde van het boekjaar" in page
    assert "Afspraken plannen in een online agenda (nieuw)" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page

    # The coach signs and sends; the client gets the invitation with his link.
    mail.outbox.clear()
    send_url = reverse("addendum_send", args=[addendum.public_id])
    assert coach_client.get(send_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(send_url, coach_signature())
    assert response.status_code == 302
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT
    assert addendum.document_sha256 == hashlib.sha256(bytes(addendum.document_pdf)).hexdigest()
    (invitation,) = [m for m in mail.outbox if "zoe@example.test" in m.to]
    assert "addendum 1" in invitation.subject
    assert "naast elkaar" in invitation.body
    token = token_from(invitation)
    # Until the client signs, the agreement's own annexes apply.
    assert effective_annexes(signed).source == signed

    browser, response = client_signs(token, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert "het addendum is ondertekend" in browser.get(response.url).text
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SIGNED
    assert addendum.is_archived
    assert addendum.signatures.count() == 2
    assert signed.events.filter(kind="addendum_signed", document=addendum).exists()
    assert signed.events.filter(kind="addendum_completed", document=addendum).exists()

    # Sealed, stored with its SHA-256, mailed to both, genuine at /verify/.
    pdf = stored_pdf(addendum)
    assert hashlib.sha256(pdf).hexdigest() == addendum.final_sha256
    verify_seal(pdf)
    code_mail = [m for m in mail.outbox if m.subject.startswith("Je code")][-1]
    assert code_mail.subject == "Je code om addendum 1 voor Coachpraktijk De Linde te ondertekenen"
    sealed_mails = [m for m in mail.outbox if "ondertekende addendum" in m.subject]
    assert {tuple(m.to) for m in sealed_mails} == {
        ("zoe@example.test",),
        tuple(coach.practice.notice_recipients()),
    }
    for message in sealed_mails:
        assert message.attachments[0][1] == pdf
    upload = SimpleUploadedFile("addendum.pdf", pdf, content_type="application/pdf")
    assert "Echt en onveranderd" in Browser().post(reverse("verify"), {"document": upload}).text

    text = pdf_text(pdf)
    assert "Addendum 1 bij de Verwerkersovereenkomst" in text
    assert "Was" in text and "Wordt" in text
    assert old_retention in text
    assert "10 jaar na het einde van het boekjaar" in text
    assert "Bewijs van ondertekening" in text
    assert "Mado Remkes" in text and "Zoë Ünal-Brontë" in text

    # From its date the addendum's annexes are in force, and drive retention.
    in_force = effective_annexes(Agreement.objects.get(pk=signed.pk))
    assert in_force.addendum == addendum
    assert any(row.description == NEW_ROW["description"] for row in in_force.activities)

    # The agreement's page lists it; the download serves the stored file.
    page = coach_client.get(reverse("agreement_detail", args=[signed.public_id])).text
    assert "Addendum 1" in page
    download = coach_client.get(reverse("addendum_pdf", args=[addendum.public_id]))
    assert b"".join(download.streaming_content) == pdf
    listed = coach_client.get(reverse("agreement_list")).text
    assert reverse("addendum_detail", args=[addendum.public_id]) in listed
    assert 'Addendum 1</a> <span class="badge status-signed">Ondertekend</span>' in listed

    # The nightly archive check covers the sealed addendum: a changed byte is found.
    assert verify_archive().ok
    with default_storage.open(addendum.final_pdf.name, "wb") as damaged:
        damaged.write(pdf[:-10] + b"0123456789")
    (finding,) = verify_archive().findings
    assert f"addendum {addendum.public_id}" in finding.reference


def test_retention_follows_the_addendum(coach, signed, django_capture_on_commit_callbacks):
    """The keep-until date is computed from the Bijlage 1 in force when the agreement ended."""
    agreement = Agreement.objects.get(pk=signed.pk)
    ended_on = timezone.localdate()
    as_signed = AgreementEnding(agreement=agreement, coaching_ended_on=ended_on)
    before = max(activity_due_date(row, as_signed) for row in agreement.activities.all())

    addendum = addenda.addendum_create_draft(agreement=agreement, origin=COACH)
    row = addendum.activities.first()
    AddendumActivity.objects.filter(pk=row.pk).update(
        retention="25 jaar na het einde van het boekjaar",
        retention_amount=25,
        retention_unit=RetentionUnit.YEAR,
        retention_from=RetentionFrom.FINANCIAL_YEAR_END,
    )
    with django_capture_on_commit_callbacks(execute=True):
        addenda.addendum_sign_and_send(
            addendum=addendum,
            signature=signing.SignatureInput(
                name="Mado Remkes",
                function="Coach",
                place="Tilburg",
                method="drawn",
                image=signature_png(),
            ),
            origin=COACH,
        )
    token = token_from([m for m in mail.outbox if "addendum" in m.subject][-1])
    client_signs(token, django_capture_on_commit_callbacks)
    assert Addendum.objects.get(pk=addendum.pk).is_archived

    AgreementEnding.objects.create(agreement=agreement, coaching_ended_on=ended_on)
    after = agreement_keep_until(Agreement.objects.get(pk=signed.pk))
    assert after == datetime.date(ended_on.year + 25, 12, 31)
    assert after != before

    # The retention list and its reminders go by the same rows: the addendum's.
    later = after + datetime.timedelta(days=1)
    rows = due_for_destruction(coach.practice, today=later)
    assert {type(row.activity) for row in rows} == {AddendumActivity}
    assert max(row.due_on for row in rows) == after
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=later) == 1
    (reminder,) = mail.outbox
    assert "25 jaar na het einde van het boekjaar" in reminder.body
    reminded = RetentionReminder.objects.filter(addendum_activity__addendum=addendum)
    assert reminded.count() == len(rows)
    assert rows_to_remind(coach.practice, today=later) == []


def test_an_addendum_that_changes_nothing_is_not_sent(coach_client, signed):
    coach_client.post(reverse("addendum_create", args=[signed.public_id]))
    addendum = Addendum.objects.get()
    page = coach_client.get(reverse("addendum_detail", args=[addendum.public_id])).text
    assert "verandert nog niets" in page
    response = coach_client.post(
        reverse("addendum_send", args=[addendum.public_id]), coach_signature()
    )
    assert response.status_code == 302
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.DRAFT
    assert not addendum.signatures.exists()
    assert "verandert nog niets" in coach_client.get(response.url).text


def test_each_kind_of_document_has_its_own_words_on_the_signing_path(
    coach_client, signed, django_capture_on_commit_callbacks
):
    """The shared signing page, form and emails show each kind's own words
    (SignableDocument.signing_words): the coach's notice of a late seal names the addendum,
    not the agreement."""
    from agreements import notices

    coach_client.post(reverse("addendum_create", args=[signed.public_id]))
    addendum = Addendum.objects.get()
    declaration = Declaration(
        agreement=signed, disposition="destroyed", done_on=datetime.date(2026, 6, 1)
    )
    words = {d.kind: d.signing_words() for d in (signed, declaration, addendum)}
    assert words["addendum"].name == "Addendum 1"
    assert words["declaration"].sign == "Onderteken de verklaring"
    assert (
        words["agreement"].consent
        == "Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord."
    )
    for kind_words in words.values():  # every field filled in, and Dutch
        assert all(vars(kind_words).values())
    assert len({w.sealing_delayed for w in words.values()}) == 3
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notices.send_sealing_delayed(addendum)
    (notice,) = mail.outbox
    assert "Zoë Ünal-Brontë heeft addendum 1 ondertekend" in notice.body


def test_a_sent_addendum_gets_its_timestamp_as_the_agreement_does(
    coach_client, signed, django_capture_on_commit_callbacks, monkeypatch
):
    """Every kind is sent through signing.send_for_client_signature: the addendum's text,
    too, is timestamped once sent (it was left to the recovery sweep)."""
    from agreements import evidence_renewal

    asked = []
    monkeypatch.setattr(
        evidence_renewal, "timestamp_sent_document", types.SimpleNamespace(enqueue=asked.append)
    )
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("addendum_send", args=[addendum.public_id]), coach_signature()
        )
    assert response.status_code == 302
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT
    assert asked == [addendum.key]
    assert signed.events.filter(kind="addendum_sent", document=addendum).count() == 1


def test_one_open_addendum_at_a_time_and_not_before_sealing(coach_client, coach, signed):
    url = reverse("addendum_create", args=[signed.public_id])
    coach_client.post(url)
    response = coach_client.post(url)
    assert Addendum.objects.count() == 1
    assert "al een addendum in behandeling" in coach_client.get(response.url).text

    from .factories import make_agreement

    draft = make_agreement(coach.practice)
    with pytest.raises(ActionRefused):
        addenda.addendum_create_draft(agreement=draft, origin=COACH)


def test_effective_date_cannot_precede_the_agreement(coach_client, signed):
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    data = edit_data(addendum, effective_on="2001-01-01")
    response = coach_client.post(reverse("addendum_edit", args=[addendum.public_id]), data)
    assert response.status_code == 400
    assert "kan niet ingaan vóór" in response.text
    addendum.refresh_from_db()
    assert addendum.effective_on != datetime.date(2001, 1, 1)


def test_withdraw_and_delete(coach_client, signed, django_capture_on_commit_callbacks):
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_send", args=[addendum.public_id]), coach_signature())
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT
    coach_client.post(reverse("addendum_withdraw", args=[addendum.public_id]))
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.WITHDRAWN
    assert not addendum.signing_links.filter(revoked_at=None).exists()
    assert effective_annexes(signed).source == signed

    # A new one can now be drafted, and a draft deleted.
    second = draft_changed(coach_client, signed, add=NEW_ROW)
    assert second.number == 2
    response = coach_client.post(reverse("addendum_delete", args=[second.public_id]))
    assert response.url == reverse("agreement_detail", args=[signed.public_id])
    assert not Addendum.objects.filter(pk=second.pk).exists()


def test_the_end_waits_for_an_addendum_in_progress_and_then_closes_the_annexes(
    coach_client, signed, django_capture_on_commit_callbacks
):
    """An ended agreement can no longer be changed: its end is refused while an addendum is
    a draft or sent, and an addendum of an agreement whose end is recorded (in data from
    before that rule) can be neither sent by the coach nor signed by the client."""
    end_url = reverse("agreement_end", args=[signed.public_id])
    today = {"coaching_ended_on": timezone.localdate().isoformat()}
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    refused = "addendum in behandeling: trek het in of verwijder het"
    assert refused in coach_client.post(end_url, today, follow=True).text
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_send", args=[addendum.public_id]), coach_signature())
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT
    token = token_from(mail.outbox[-1])
    assert refused in coach_client.post(end_url, today, follow=True).text
    assert not AgreementEnding.objects.filter(agreement=signed).exists()

    # Data from before the rule: the end recorded while the addendum was out for signing.
    AgreementEnding.objects.create(
        agreement=signed, coaching_ended_on=timezone.localdate(), recorded_by="oud"
    )
    response = Browser().get(reverse("signing_open", args=[token]))
    assert "ingetrokken" in response.text
    with pytest.raises(ActionRefused):
        signing.client_sign(
            link=addendum.signing_links.get(),
            signature=signing.SignatureInput(
                name="Zoë Ünal-Brontë", function="", place="Breda", method="typed"
            ),
            origin=Origin(actor=Actor.CLIENT, name="Zoë Ünal-Brontë"),
        )
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT and not addendum.is_signed

    # Nor can the coach send a draft of such an agreement.
    Addendum.objects.filter(pk=addendum.pk).update(status=AddendumStatus.DRAFT)
    response = coach_client.post(
        reverse("addendum_send", args=[addendum.public_id]), coach_signature(), follow=True
    )
    assert "is beëindigd" in response.text
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.DRAFT


NEW_VIEWS = [
    ("addendum_detail", "get"),
    ("addendum_edit", "get"),
    ("addendum_pdf", "get"),
    ("addendum_send", "get"),
    ("addendum_withdraw", "post"),
    ("addendum_delete", "post"),
]


def test_a_stranger_gets_404_everywhere(client, coach_client, signed, stranger):
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    login_verified(client, stranger)
    assert client.post(reverse("addendum_create", args=[signed.public_id])).status_code == 404
    for name, method in NEW_VIEWS:
        response = getattr(client, method)(reverse(name, args=[addendum.public_id]))
        assert response.status_code == 404, name
    response = client.post(
        reverse("addendum_edit", args=[addendum.public_id]), edit_data(addendum, reason="x")
    )
    assert response.status_code == 404
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.DRAFT
    assert addendum.reason == "Online agenda erbij"
    assert Addendum.objects.count() == 1


def test_mutating_views_refuse_get(coach_client, signed):
    assert coach_client.get(reverse("addendum_create", args=[signed.public_id])).status_code == (
        405
    )
    assert not Addendum.objects.exists()
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    for name in ("addendum_withdraw", "addendum_delete"):
        assert coach_client.get(reverse(name, args=[addendum.public_id])).status_code == 405
    assert Addendum.objects.get(pk=addendum.pk).status == AddendumStatus.DRAFT
    for name in ("addendum_detail", "addendum_pdf"):
        assert coach_client.post(reverse(name, args=[addendum.public_id])).status_code == 405


def test_a_sealed_addendum_is_immutable(coach_client, signed, django_capture_on_commit_callbacks):
    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_send", args=[addendum.public_id]), coach_signature())
    token = token_from([m for m in mail.outbox if "addendum" in m.subject][-1])
    client_signs(token, django_capture_on_commit_callbacks)
    addendum = Addendum.objects.get(pk=addendum.pk)
    assert addendum.is_archived
    with pytest.raises(IntegrityError), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).update(reason="vervalst")
    with pytest.raises(IntegrityError), transaction.atomic():
        AddendumActivity.objects.filter(addendum=addendum).update(retention="vervalst")
    with pytest.raises(IntegrityError), transaction.atomic():
        AddendumActivity.objects.filter(addendum=addendum).delete()
    assert Addendum.objects.get(pk=addendum.pk).reason == "Online agenda erbij"
    # The edit page sends a signed addendum back to its page.
    response = coach_client.get(reverse("addendum_edit", args=[addendum.public_id]))
    assert response.status_code == 302


def test_comparison_marks_added_removed_and_changed(signed):
    addendum = addenda.addendum_create_draft(agreement=signed, origin=COACH)
    rows = list(addendum.activities.all())
    assert not compare(annexes_before(addendum), annexes_of(addendum)).changed
    rows[0].delete()
    AddendumActivity.objects.create(addendum=addendum, **(NEW_ROW | {"retention_amount": 2}))
    comparison = compare(annexes_before(addendum), annexes_of(addendum))
    states = [row.state for row in comparison.rows]
    assert states.count("added") == 1
    assert states.count("removed") == 1
    assert comparison.bijlage1_changed and not comparison.bijlage2_changed
    Addendum.objects.filter(pk=addendum.pk).update(data_subjects="2: de cliënt en partner")
    addendum.refresh_from_db()
    comparison = compare(annexes_before(addendum), annexes_of(addendum))
    (changed,) = [field for field in comparison.security if field.changed]
    assert changed.label == "Hoeveelheid betrokkenen"
    assert changed.new == "2: de cliënt en partner"


def test_a_description_put_better_reads_as_a_change_of_that_row(signed):
    """The same processing (its purposes and personal data unchanged) with a clearer
    description is one changed row, not one dropped and one added."""
    addendum = addenda.addendum_create_draft(agreement=signed, origin=COACH)
    first = addendum.activities.first()
    old_description = first.description
    AddendumActivity.objects.filter(pk=first.pk).update(
        description=f"{old_description}; ook van online sessies (Zoom)"
    )
    comparison = compare(annexes_before(addendum), annexes_of(addendum))
    states = [row.state for row in comparison.rows]
    assert states.count("changed") == 1
    assert "added" not in states and "removed" not in states
    (changed,) = [row for row in comparison.rows if row.state == "changed"]
    assert [f.label for f in changed.fields if f.changed] == [
        "Beschrijving verwerkingsactiviteiten door Verwerker"
    ]
    assert changed.fields[0].old == old_description


def test_the_object_lock_never_outlasts_an_addendum_that_shortens_retention(coach):
    """A sealed PDF is locked in the bucket until the earliest day its data could be erased;
    an addendum with a shorter retention period makes that day earlier."""
    from agreements import archive
    from agreements.retention import add_period

    from .test_art30 import signed_addendum
    from .test_export import fake_archived

    agreement = fake_archived(coach.practice)
    today = agreement.agreement_date
    as_signed = archive.lock_until(agreement, today=today)
    short = agreement.activities.first().copy_values() | {
        "retention": "1 maand na het einde",
        "retention_amount": 1,
        "retention_unit": RetentionUnit.MONTH,
        "retention_from": RetentionFrom.AGREEMENT_END,
    }
    signed_addendum(agreement, effective_on=today, rows=[short])
    until = archive.lock_until(Agreement.objects.get(pk=agreement.pk), today=today)
    assert until == add_period(today, 1, RetentionUnit.MONTH)
    assert until < as_signed


def test_an_unsigned_addendum_is_reminded_and_its_expiry_is_on_the_trail(
    coach_client, signed, django_capture_on_commit_callbacks, settings
):
    """Reminders and expiry take every kind alike: the client of a sent addendum gets the
    reminders an agreement's client gets, with a new link to the addendum; when every link
    ran out the trail says so, once, and nothing more is sent."""
    from datetime import timedelta

    from django.core import mail

    from agreements import signing
    from agreements.models import AgreementEvent, SigningLink

    addendum = draft_changed(coach_client, signed, add=NEW_ROW)
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_send", args=[addendum.public_id]), coach_signature())
    link = SigningLink.objects.get(document=addendum)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert signing.expire_and_remind(now=link.created_at + timedelta(days=2)) == (0, 0)
        assert signing.expire_and_remind(now=link.created_at + timedelta(days=3, hours=1)) == (0, 1)
    (reminder,) = mail.outbox
    assert reminder.subject.startswith("Herinnering")
    assert reminder.to == [signed.client.email]
    # It says what is unsigned: the addendum, not the agreement the client signed long ago.
    assert "Je hebt addendum 1 bij je verwerkersovereenkomst nog niet ondertekend." in reminder.body
    assert "de verwerkersovereenkomst nog niet" not in reminder.body
    new_link = signing.link_for_token(token_from(reminder))
    assert new_link.document_id == addendum.document_id
    assert new_link.expires_at == link.expires_at
    assert signed.events.filter(kind=AgreementEvent.Kind.REMINDED, document=addendum).exists()

    mail.outbox.clear()
    after = link.expires_at + timedelta(minutes=1)
    assert signing.expire_and_remind(now=after) == (1, 0)
    assert signing.expire_and_remind(now=after + timedelta(days=1)) == (0, 0)
    expired = signed.events.filter(kind=AgreementEvent.Kind.EXPIRED, document=addendum)
    assert expired.count() == 1
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.SENT  # the coach withdraws it or it stays open
    signed.refresh_from_db()
    assert signed.is_archived  # the agreement itself is untouched
    assert mail.outbox == []


def test_an_addendum_draft_is_rendered_once_per_version(
    coach_client, signed, renders, django_capture_on_commit_callbacks
):
    addendum = draft_changed(coach_client, signed, change_first={"description": "Intake"})
    url = reverse("addendum_pdf", args=[addendum.public_id])

    first = coach_client.get(url)
    again = coach_client.get(url)

    assert first.status_code == again.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert again.content == first.content
    assert len(renders) == 1
    assert "Intake" in pdf_text(first.content)
    # A change is laid out once more, and the draft keeps only its latest version.
    data = edit_data(addendum, change_first={"description": "Intake en evaluatie"})
    coach_client.post(reverse("addendum_edit", args=[addendum.public_id]), data)
    changed = coach_client.get(url).content
    assert len(renders) == 2
    assert "Intake en evaluatie" in pdf_text(changed)
    folder = f"{pdf.RENDERS_FOLDER}/{documents.draft_pdf_folder(addendum)}"
    assert len(default_storage.listdir(folder)[1]) == 1
    # Deleting the draft removes it.
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("addendum_delete", args=[addendum.public_id]))
    assert not Addendum.objects.filter(pk=addendum.pk).exists()
    assert default_storage.listdir(folder)[1] == []
