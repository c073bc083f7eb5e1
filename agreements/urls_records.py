from django.urls import path

from . import records_views

urlpatterns = [
    path("retention/", records_views.retention_list, name="retention_list"),
    path("export/", records_views.export_practice, name="export_practice"),
    path("export/<uuid:public_id>/", records_views.export_download, name="export_download"),
    path("clients/<uuid:public_id>/export/", records_views.export_client, name="export_client"),
]
