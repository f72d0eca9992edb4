"""The shopper's "My rewards" page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import rewards_for


@login_required
def rewards(request):
    return render(request, "loyalty/rewards.html", {"rewards": rewards_for(request.user)})
