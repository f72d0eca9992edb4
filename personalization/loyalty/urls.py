from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("account/rewards/", views.rewards, name="rewards"),
]
