from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<uuid:public_id>/", views.client_edit, name="client_edit"),
    path("clients/<uuid:public_id>/delete/", views.client_delete, name="client_delete"),
    path(
        "clients/<uuid:public_id>/delete/confirm/",
        views.client_delete_confirm,
        name="client_delete_confirm",
    ),
    path("clients/<uuid:public_id>/erase/", views.client_erase, name="client_erase"),
    path("clients/<uuid:public_id>/export/", views.export_client, name="export_client"),
    path("retention/", views.retention_list, name="retention_list"),
    path(
        "retention/<uuid:public_id>/<str:kind>/<int:row_id>/disposed/",
        views.retention_dispose,
        name="retention_dispose",
    ),
    path("export/", views.export_practice, name="export_practice"),
    path("export/<uuid:public_id>/", views.export_download, name="export_download"),
]
