"""The shopper's side of banners: "Why am I seeing this?" and the tracked click."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from personalization.events import ANON_KEY

from . import services
from .exceptions import BannerError


def _decision(request, decision_uuid):
    try:
        return services.banner_decision_for(
            decision_uuid=decision_uuid,
            user=request.user,
            visitor=request.session.get(ANON_KEY, ""),
        )
    except BannerError as error:
        raise Http404(str(error)) from None


@require_GET
def why(request, decision_uuid):
    decision = _decision(request, decision_uuid)
    return render(request, "banners/why.html", {"decision": decision})


@require_GET
def click(request, decision_uuid):
    decision = _decision(request, decision_uuid)
    target = services.banner_click(decision=decision)
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
