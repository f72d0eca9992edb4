from django.urls import path

from . import views

app_name = "recommendations"

urlpatterns = [
    path("account/picks/why/", views.why, name="why"),
]
