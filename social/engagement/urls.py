from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("likes/<slug:key>/<str:object_id>/", views.like, name="like"),
    path("share/<slug:key>/<str:object_id>/<str:channel>/", views.share, name="share"),
    path("r/<str:code>/", views.referral, name="referral"),
    path("account/likes/", views.my_likes, name="my_likes"),
    path("account/profile/", views.profile_settings, name="profile_settings"),
    path("u/<slug:handle>/", views.profile, name="profile"),
    path("u/<slug:handle>/follow/", views.follow, name="follow"),
]
