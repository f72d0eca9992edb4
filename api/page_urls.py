from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("account/api-tokens/", views.tokens_page, name="tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
