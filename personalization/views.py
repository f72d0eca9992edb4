"""The shopper's "Your interests" page: see the profile, remove interests, turn it off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .exceptions import PersonalizationError


@login_required
def interests(request):
    enabled = selectors.personalization_enabled(user=request.user)
    profile = selectors.profile_for(request.user) if enabled else None
    groups = []
    if profile:
        for dimension, label in selectors.DIMENSION_LABELS.items():
            items = profile.interests.get(dimension, [])[:8]
            if items:
                groups.append({"dimension": dimension, "label": label, "items": items})
    context = {
        "enabled": enabled,
        "profile": profile,
        "groups": groups,
        "removed": selectors.removed_interests(user=request.user),
    }
    return render(request, "personalization/interests.html", context)


@login_required
@require_POST
def interest_remove(request):
    # A PersonalizationError becomes a 400 page in ShopErrorMiddleware.
    services.interest_remove(
        user=request.user,
        dimension=request.POST.get("dimension", ""),
        value=request.POST.get("value", ""),
    )
    label = request.POST.get("label") or request.POST.get("value")
    messages.success(request, f"Removed “{label[:120]}”. We won't use it again.")
    return redirect("personalization:interests")


@login_required
@require_POST
def interest_restore(request):
    services.interest_restore(
        user=request.user,
        dimension=request.POST.get("dimension", ""),
        value=request.POST.get("value", ""),
    )
    messages.success(request, "Restored. It will show again once your activity suggests it.")
    return redirect("personalization:interests")


@login_required
@require_POST
def personalization_toggle(request):
    choice = request.POST.get("enabled")
    if choice not in {"on", "off"}:
        raise PersonalizationError("Choose whether personalization is on or off.")
    services.personalization_set_enabled(user=request.user, enabled=choice == "on")
    if choice == "on":
        messages.success(request, "Personalization is on. Your interests will be rebuilt shortly.")
    else:
        messages.success(request, "Personalization is off. We deleted your interest profile.")
    return redirect("personalization:interests")
