"""Like, share and follow endpoints and the likes and profile pages. Thin: parse, call, render.

Every POST works as a plain form (redirect back with a message) and, when htmx sends it, answers
with the fragment to swap in. Anonymous shoppers are sent to sign in and brought back to the page
they were on; a like they clicked is kept in their session and applied when they sign in
(``receivers.apply_pending_like``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from config.redirects import next_url as next_url_or
from personalization import events

from . import likeable, profile_sections, selectors, services, sharing
from .app_settings import site_url
from .exceptions import EngagementError
from .forms import ProfileForm
from .models import ShareChannel


class _ShareRedirect(HttpResponseRedirect):
    allowed_schemes = ["http", "https", "mailto"]


def _safe_next(request, fallback: str) -> str:
    return next_url_or(request, fallback=fallback)  # config.redirects: this site's URLs only


def _sign_in_first(request, next_url: str, why: str):
    """Send an anonymous shopper to sign in; they come back to ``next_url`` afterwards."""
    login_url = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"
    messages.info(request, why)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _problem(request, error: EngagementError):
    """The one place a domain error becomes a response: a clear message with its 4xx status."""
    if _wants_json(request):
        return JsonResponse({"error": str(error)}, status=error.status_code)
    if request.htmx:
        return HttpResponse(str(error), status=error.status_code, content_type="text/plain")
    return render(
        request, "engagement/problem.html", {"message": str(error)}, status=error.status_code
    )


def _parse_liked(raw: str | None) -> bool | None:
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in {"1", "true", "on", "like"}:
        return True
    if value in {"0", "false", "off", "unlike"}:
        return False
    raise EngagementError("Send liked=1 to like or liked=0 to remove the like.")


@require_POST
def like(request, key, object_id):
    try:
        entry, obj = likeable.resolve(key, object_id)
        liked = _parse_liked(request.POST.get("liked"))
    except EngagementError as error:
        return _problem(request, error)
    next_url = _safe_next(request, fallback=entry.url(obj))
    if not request.user.is_authenticated:
        if liked is not False:
            # Kept in this browser's session only; applied when this session signs in.
            services.like_pending_store(session=request.session, key=entry.key, object_id=obj.pk)
        return _sign_in_first(
            request,
            next_url,
            f"Sign in or sign up to like {entry.title(obj)}; we'll like it and bring you back.",
        )
    try:
        now_liked = services.like_set(user=request.user, obj=obj, liked=liked)
    except EngagementError as error:
        return _problem(request, error)
    if request.htmx:
        summary = selectors.like_summary(obj, viewer=request.user)
        context = {
            "obj": obj,
            "key": entry.key,
            "summary": summary,
            "next": next_url,
            "compact": request.POST.get("compact") == "1",
        }
        return render(request, "engagement/_like_button.html", context)
    title = entry.title(obj)
    if now_liked:
        messages.success(request, f"You like {title}. It is in your likes.")
    else:
        messages.success(request, f"{title} was removed from your likes.")
    return redirect(next_url)


@require_POST
def share(request, key, object_id, channel):
    try:
        channel = services.parse_channel(channel)
        entry, obj = likeable.resolve(key, object_id)
        signed_in = request.user.is_authenticated
        link = services.share_record(
            obj=obj,
            channel=channel,
            user=request.user if signed_in else None,
            anon_id="" if signed_in else events.anonymous_id(request),
        )
    except EngagementError as error:
        return _problem(request, error)
    url = site_url() + link.get_absolute_url()
    title = entry.title(obj)
    image = entry.image_url(obj)
    image = site_url() + image if image and image.startswith("/") else image
    target = sharing.network_url(channel, url=url, title=title, image=image)
    if _wants_json(request):
        return JsonResponse(
            {"url": url, "code": link.code, "channel": channel, "title": title, "open": target}
        )
    if target:
        return _ShareRedirect(target)
    context = {"url": url, "title": title, "obj": obj, "native": channel == ShareChannel.NATIVE}
    return render(request, "engagement/share_link.html", context)


@require_GET
def referral(request, code):
    try:
        link, obj = services.referral_visit(code=code, request=request)
    except EngagementError as error:
        return _problem(request, error)
    return redirect(likeable.for_content_type_id(link.content_type_id).url(obj))


@login_required
def my_likes(request):
    paginator = Paginator(selectors.likes_of(request.user), 24)
    page = paginator.get_page(request.GET.get("page"))
    items = selectors.hydrate(page.object_list)
    selectors.like_summaries_for_request(request, [item.obj for item in items])
    return render(request, "engagement/my_likes.html", {"page": page, "items": items})


@login_required
def profile_settings(request):
    profile = services.profile_get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.profile_update(user=request.user, **form.cleaned_data)
            messages.success(request, "Your profile settings were saved.")
            return redirect("engagement:profile_settings")
        status = 400
    context = {
        "form": form,
        "profile": profile,
        "connections": selectors.connections_of(request.user)[:200],
        "counts": selectors.follow_counts(request.user),
    }
    return render(request, "engagement/profile_settings.html", context, status=status)


def profile(request, handle):
    try:
        profile = selectors.profile_for_page(handle=handle, viewer=request.user)
    except EngagementError as error:
        return _problem(request, error)
    own = request.user.is_authenticated and profile.user_id == request.user.pk
    likes = []
    if profile.shows_likes or own:
        likes = selectors.hydrate(selectors.likes_of(profile.user)[:24])
    sections = profile_sections.filled(user=profile.user, viewer=request.user)
    context = {
        "profile": profile,
        "own": own,
        "likes": likes,
        "sections": sections,
        "counts": selectors.follow_counts(profile.user),
        "following": selectors.is_following(viewer=request.user, user=profile.user),
    }
    return render(request, "engagement/profile.html", context)


@require_POST
def follow(request, handle):
    next_url = _safe_next(
        request, fallback=reverse("engagement:profile", kwargs={"handle": handle})
    )
    if not request.user.is_authenticated:
        return _sign_in_first(
            request, next_url, "Sign in to follow shoppers; we'll bring you back."
        )
    action = request.POST.get("action", "follow")
    try:
        if action == "follow":
            services.follow(follower=request.user, handle=handle)
        elif action == "unfollow":
            services.unfollow(follower=request.user, handle=handle)
        else:
            raise EngagementError("Send action=follow or action=unfollow.")
    except EngagementError as error:
        return _problem(request, error)
    profile = selectors.profile_of_handle(handle)
    if request.htmx:
        context = {
            "profile": profile,
            "following": action == "follow",
            "next": next_url,
            # The follower count on the page follows at once (an out-of-band swap).
            "counts": selectors.follow_counts(profile.user) if profile else None,
            "oob_count": profile is not None,
        }
        return render(request, "engagement/_follow_button.html", context)
    name = profile.name if profile else handle
    if action == "follow":
        messages.success(request, f"You follow {name} now.")
    else:
        messages.success(request, f"You no longer follow {name}.")
    return redirect(next_url)
