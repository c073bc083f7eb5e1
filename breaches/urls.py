from django.urls import path

from . import views

urlpatterns = [
    path("", views.breach_list, name="breach_list"),
    path("new/", views.breach_create, name="breach_create"),
    path("register.csv", views.register_csv, name="breach_register_csv"),
    path("register.pdf", views.register_pdf, name="breach_register_pdf"),
    path("<uuid:public_id>/", views.breach_detail, name="breach_detail"),
    path("<uuid:public_id>/edit/<slug:section>/", views.breach_edit, name="breach_edit"),
    path("<uuid:public_id>/report.pdf", views.breach_report_pdf, name="breach_report_pdf"),
    path("<uuid:public_id>/notify-clients/", views.breach_notify, name="breach_notify"),
    path(
        "<uuid:public_id>/authority-decision/",
        views.breach_authority_decision,
        name="breach_authority_decision",
    ),
    path(
        "<uuid:public_id>/authority-followup/",
        views.breach_authority_followup,
        name="breach_authority_followup",
    ),
    path(
        "<uuid:public_id>/authority-withdrawal/",
        views.breach_authority_withdraw,
        name="breach_authority_withdraw",
    ),
    path(
        "<uuid:public_id>/subjects-decision/",
        views.breach_subjects_decision,
        name="breach_subjects_decision",
    ),
    path("<uuid:public_id>/close/", views.breach_close, name="breach_close"),
    path("<uuid:public_id>/reopen/", views.breach_reopen, name="breach_reopen"),
]
