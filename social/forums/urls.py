from django.urls import path

from . import views

app_name = "forums"

urlpatterns = [
    path("forums/", views.index, name="index"),
    path("forums/search/", views.search, name="search"),
    path("forums/notifications/", views.notifications, name="notifications"),
    path("forums/notifications/<int:pk>/", views.notification_open, name="notification"),
    path("forums/moderation/", views.moderation, name="moderation"),
    path("forums/product-picker/", views.product_picker, name="product_picker"),
    path("forums/c/<slug:slug>/", views.category_detail, name="category"),
    path("forums/c/<slug:slug>/new/", views.topic_new, name="topic_new"),
    path("forums/c/<slug:slug>/follow/", views.category_follow, name="category_follow"),
    path("forums/t/<int:pk>/", views.topic_detail, name="topic"),
    path("forums/t/<int:pk>/reply/", views.topic_reply, name="reply"),
    path("forums/t/<int:pk>/read/", views.topic_read, name="topic_read"),
    path("forums/t/<int:pk>/follow/", views.topic_follow, name="topic_follow"),
    path("forums/t/<int:pk>/moderate/", views.topic_moderate, name="topic_moderate"),
    path("forums/posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("forums/posts/<int:pk>/delete/", views.post_delete, name="post_delete"),
    path("forums/posts/<int:pk>/report/", views.post_report, name="post_report"),
    path("forums/posts/<int:pk>/hide/", views.post_hide, name="post_hide"),
    path("forums/users/<int:user_id>/ban/", views.user_ban, name="ban"),
]
