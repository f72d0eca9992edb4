from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("account/data/", views.overview, name="overview"),
    path("account/data/export/", views.export_request, name="export_request"),
    path("account/data/download/<str:token>/", views.export_download, name="export_download"),
    path("account/data/delete/", views.delete_account, name="delete"),
    path("account/data/delete/confirm-with/<slug:provider_id>/", views.reauth, name="reauth"),
    path("account/data/delete/cancel/", views.delete_cancel, name="delete_cancel"),
    path("account/data/deleted/", views.deleted, name="deleted"),
    path("account/decisions/", views.decisions, name="decisions"),
    path("how-we-use-your-data/", views.how_we_use, name="how_we_use"),
]
