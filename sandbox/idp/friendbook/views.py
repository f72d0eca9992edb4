from django.shortcuts import render

from .demo import DEMO_PASSWORD, DEMO_USERS


def home(request):
    profile = getattr(request.user, "friendbook", None) if request.user.is_authenticated else None
    return render(
        request,
        "friendbook/home.html",
        {"profile": profile, "demo_users": DEMO_USERS, "demo_password": DEMO_PASSWORD},
    )
