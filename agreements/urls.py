from django.urls import path

from . import addendum_views, signing_views, subprocessor_views, views

urlpatterns = [
    path("practice/", views.practice_edit, name="practice_edit"),
    path("practice/defaults/", views.practice_defaults, name="practice_defaults"),
    path(
        "practice/subprocessors/",
        subprocessor_views.subprocessor_list,
        name="subprocessor_list",
    ),
    path(
        "practice/subprocessors/new/",
        subprocessor_views.subprocessor_add,
        name="subprocessor_add",
    ),
    path(
        "practice/subprocessors/<uuid:public_id>/edit/",
        subprocessor_views.subprocessor_edit,
        name="subprocessor_edit",
    ),
    path(
        "practice/subprocessors/<uuid:public_id>/end/",
        subprocessor_views.subprocessor_end,
        name="subprocessor_end",
    ),
    path(
        "practice/subprocessors/notices/<uuid:public_id>/objection/",
        subprocessor_views.notice_answer,
        {"answer": "objection"},
        name="subprocessor_notice_objection",
    ),
    path(
        "practice/subprocessors/notices/<uuid:public_id>/consent/",
        subprocessor_views.notice_answer,
        {"answer": "consent"},
        name="subprocessor_notice_consent",
    ),
    path(
        "agreements/<uuid:public_id>/supplement/",
        subprocessor_views.agreement_supplement,
        name="agreement_supplement",
    ),
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<uuid:public_id>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<uuid:public_id>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<uuid:public_id>/pdf/", views.agreement_pdf, name="agreement_pdf"),
    path("agreements/<uuid:public_id>/delete/", views.agreement_delete, name="agreement_delete"),
    path(
        "agreements/<uuid:public_id>/delete/confirm/",
        views.agreement_delete_confirm,
        name="agreement_delete_confirm",
    ),
    path("agreements/<uuid:public_id>/send/", views.agreement_send, name="agreement_send"),
    path(
        "agreements/<uuid:public_id>/withdraw/", views.agreement_withdraw, name="agreement_withdraw"
    ),
    path(
        "agreements/<uuid:public_id>/withdraw/confirm/",
        views.agreement_withdraw_confirm,
        name="agreement_withdraw_confirm",
    ),
    path("agreements/<uuid:public_id>/resend/", views.agreement_resend, name="agreement_resend"),
    path("agreements/<uuid:public_id>/reopen/", views.agreement_reopen, name="agreement_reopen"),
    path("agreements/<uuid:public_id>/end/", views.agreement_end, name="agreement_end"),
    path(
        "agreements/<uuid:public_id>/declaration/",
        views.declaration_send,
        name="declaration_send",
    ),
    path(
        "agreements/<uuid:public_id>/declaration.pdf",
        views.declaration_pdf,
        name="declaration_pdf",
    ),
    path(
        "agreements/<uuid:public_id>/addendum/",
        addendum_views.addendum_create,
        name="addendum_create",
    ),
    path("addenda/<uuid:public_id>/", addendum_views.addendum_detail, name="addendum_detail"),
    path("addenda/<uuid:public_id>/edit/", addendum_views.addendum_edit, name="addendum_edit"),
    path("addenda/<uuid:public_id>/pdf/", addendum_views.addendum_pdf, name="addendum_pdf"),
    path("addenda/<uuid:public_id>/send/", addendum_views.addendum_send, name="addendum_send"),
    path(
        "addenda/<uuid:public_id>/withdraw/",
        addendum_views.addendum_withdraw,
        name="addendum_withdraw",
    ),
    path(
        "addenda/<uuid:public_id>/delete/", addendum_views.addendum_delete, name="addendum_delete"
    ),
    path("verify/", views.verify, name="verify"),
    # The client's pages: the token is traded for a session on the first visit.
    path("sign/", signing_views.signing_page, name="signing_page"),
    path("sign/document.pdf", signing_views.signing_document, name="signing_document"),
    path("sign/decline/", signing_views.signing_decline, name="signing_decline"),
    path("sign/code/", signing_views.signing_send_code, name="signing_send_code"),
    path("sign/done/", signing_views.signing_done, name="signing_done"),
    path("sign/<str:token>/", signing_views.signing_open, name="signing_open"),
]
