from django.urls import path

from . import views

app_name = "social"

urlpatterns = [
    path(
        "account/social/<slug:provider_id>/permissions/",
        views.permissions,
        name="permissions",
    ),
    path("account/privacy/", views.privacy, name="privacy"),
    path("account/privacy/revoke/<slug:category>/", views.revoke, name="revoke"),
    path(
        "account/privacy/disconnect/<int:account_id>/",
        views.disconnect,
        name="disconnect",
    ),
]
