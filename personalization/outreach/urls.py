from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("email/o/<str:token>.gif", views.open_pixel, name="open"),
    path("email/c/", views.click, name="click"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("email/preferences/<str:token>/", views.preferences_token, name="preferences_token"),
    path("account/email/", views.preferences, name="preferences"),
]
