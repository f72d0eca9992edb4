from django.urls import path

from . import views

app_name = "banners"

urlpatterns = [
    path("banners/<str:decision_uuid>/why/", views.why, name="why"),
    path("banners/<str:decision_uuid>/go/", views.click, name="click"),
]
