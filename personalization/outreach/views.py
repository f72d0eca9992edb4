"""Links in campaign emails (open pixel, tracked clicks, one-click unsubscribe) and the
preference centre. Rules live in services; these parse, call and render."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import links, selectors, services
from .exceptions import OutreachError
from .forms import PreferencesForm
from .models import MarketingConsentRecord

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _problem(request, title: str, detail: str, status: int):
    return render(
        request, "outreach/problem.html", {"title": title, "detail": detail}, status=status
    )


@never_cache
@require_GET
def open_pixel(request, token: str):
    """A 1×1 GIF; the first load records the open. A bad token still gets the image."""
    message = services.message_for_token(token)
    if message is not None:
        services.message_opened(message=message)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def click(request):
    """A tracked link: record the click, then go to its target on this site (never elsewhere)."""
    payload = links.unsign_click(request.GET.get("t", ""))
    target = links.safe_target(payload.get("u", "")) if payload else None
    if payload is None or target is None:
        return _problem(
            request,
            "This link does not work",
            "The link is incomplete or was changed. You can still browse the store.",
            400,
        )
    message = services.message_for_token(links.sign_message(payload["m"]))
    if message is not None:
        product_id = payload.get("p")
        services.message_clicked(
            message=message,
            url=target,
            product_id=product_id if isinstance(product_id, int) else None,
        )
    return HttpResponseRedirect(target)


@csrf_exempt  # RFC 8058: mail clients POST without a CSRF token; the signed URL is the secret
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation and changes nothing (link scanners follow GETs); POST (the
    RFC 8058 one-click request, or the page's button) unsubscribes at once, no sign-in."""
    message = services.message_for_token(token)
    if message is None:
        return _problem(
            request,
            "This unsubscribe link does not work",
            "The link is incomplete or was changed. Signed in, you can change your email "
            "choices under Account → Email preferences.",
            404 if request.method == "GET" else 400,
        )
    if request.method == "POST":
        changed = services.unsubscribe_one_click(
            message=message, source=MarketingConsentRecord.Source.ONE_CLICK
        )
        return render(
            request,
            "outreach/unsubscribed.html",
            {"email": message.user.email, "changed": changed, "token": token},
        )
    return render(
        request,
        "outreach/unsubscribe_confirm.html",
        {
            "email": message.user.email,
            "opted_in": selectors.is_opted_in(message.user),
            "token": token,
        },
    )


def _preferences(request, *, user, token: str | None):
    subscriber = selectors.subscriber_of(user)
    muted = selectors.muted_topics(user)
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if "unsubscribe_all" in request.POST:
            services.marketing_consent_set(
                user=user, opted_in=False, source=MarketingConsentRecord.Source.ACCOUNT
            )
            messages.success(request, "You are unsubscribed from all marketing email.")
            return redirect(request.path)
        if form.is_valid():
            data = form.cleaned_data
            wanted = set(data["wanted_topics"])
            try:
                services.preferences_update(
                    user=user,
                    opted_in=data["opted_in"],
                    muted_topics={t for t in services.topics.codes() if t not in wanted},
                    frequency="normal" if data["frequency"] == "pause" else data["frequency"],
                    pause_weeks=data["pause_weeks"] or 0 if data["frequency"] == "pause" else 0,
                    time_zone=data.get("time_zone") or "",
                )
            except OutreachError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, "Your email preferences are saved.")
                return redirect(request.path)
        else:
            status = 400
    else:
        form = PreferencesForm(initial=PreferencesForm.initial_for(subscriber, muted))
    return render(
        request,
        "outreach/preferences.html",
        {
            "form": form,
            "subscriber": subscriber,
            "history": selectors.consent_history(user)[:20],
            "email": user.email,
            "token": token,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    return _preferences(request, user=request.user, token=None)


@never_cache
@require_http_methods(["GET", "POST"])
def preferences_token(request, token: str):
    """The preference centre from an email's link, without signing in."""
    message = services.message_for_token(token)
    if message is None:
        if request.user.is_authenticated:
            return redirect(reverse("outreach:preferences"))
        return _problem(
            request,
            "This link does not work",
            "The link is incomplete or was changed. Sign in to change your email choices.",
            404,
        )
    return _preferences(request, user=message.user, token=token)
