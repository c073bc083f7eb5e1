from django.urls import path

from . import signing_views, views

urlpatterns = [
    path("practice/", views.practice_edit, name="practice_edit"),
    path("practice/defaults/", views.practice_defaults, name="practice_defaults"),
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
    path("verify/", views.verify, name="verify"),
    # The client's pages: the token is traded for a session on the first visit.
    path("sign/", signing_views.signing_page, name="signing_page"),
    path("sign/document.pdf", signing_views.signing_document, name="signing_document"),
    path("sign/decline/", signing_views.signing_decline, name="signing_decline"),
    path("sign/done/", signing_views.signing_done, name="signing_done"),
    path("sign/<str:token>/", signing_views.signing_open, name="signing_open"),
]
