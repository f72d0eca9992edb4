from django.urls import include, path

from . import views

app_name = "outreach"

urlpatterns = [
    path("email/o/<str:token>.gif", views.open_pixel, name="open"),
    path("email/c/", views.click, name="click"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("email/preferences/<str:token>/", views.preferences_token, name="preferences_token"),
    path("account/email/", views.preferences, name="preferences"),
    # The email provider's tracking (bounce, complaint) and inbound (mailto unsubscribe)
    # webhooks, e.g. /anymail/postmark/tracking/, behind HTTP basic auth with
    # ANYMAIL["WEBHOOK_SECRET"]; ``receivers.py`` turns them into suppressions.
    path("anymail/", include("anymail.urls")),
]
