from django.urls import path

from . import views

app_name = "personalization"

urlpatterns = [
    path("account/interests/", views.interests, name="interests"),
    path("account/interests/remove/", views.interest_remove, name="interest_remove"),
    path("account/interests/restore/", views.interest_restore, name="interest_restore"),
    path("account/interests/personalization/", views.personalization_toggle, name="toggle"),
]
