from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("p/<slug:slug>/review/", views.review_write, name="write"),
    path("p/<slug:slug>/questions/", views.question_ask, name="ask"),
    path("reviews/<int:pk>/delete/", views.review_delete, name="delete"),
    path("reviews/<int:pk>/helpful/", views.review_helpful, name="helpful"),
    path("reviews/<int:pk>/report/", views.review_report, name="report"),
    path("reviews/<int:pk>/reply/", views.review_reply, name="reply"),
    path("questions/<int:pk>/answer/", views.question_answer, name="answer"),
]
