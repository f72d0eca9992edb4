"""The shopper's privacy pages: Your data (export), Delete my account, How we use your data,
Recent decisions. Rules live in services and selectors."""

import time

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from requests import RequestException

from . import selectors, services
from .exceptions import PrivacyError
from .forms import DeleteAccountForm
from .models import ErasureRequest


def _reauth_key(user) -> str:
    return selectors.reauth_key(user)


@login_required
def overview(request, *, error: PrivacyError | None = None):
    user = request.user
    exports = selectors.recent_exports(user=user)
    for export in exports:
        export.download_url = services.export_download_url(export) if export.is_downloadable else ""
    return render(
        request,
        "privacy/overview.html",
        {
            "exports": exports,
            "pending": selectors.pending_export(user=user),
            "erasure": selectors.open_erasure(user=user),
            "link_hours": services.link_hours(),
            "error": str(error) if error else "",
        },
        status=error.status_code if error else 200,
    )


@login_required
@require_POST
def export_request(request):
    export = services.export_request(user=request.user)
    if export.status == export.Status.PENDING:
        messages.success(
            request,
            "We are preparing your data. The download link appears here and is emailed to you "
            "as soon as it is ready (usually within a minute).",
        )
    return redirect("privacy:overview")


@login_required
def export_download(request, token: str):
    export = services.export_for_download(token=token, user=request.user)  # 404/410 if not
    from .exporting import export_path

    path = export_path(export)
    if path is None or not path.exists():
        raise Http404("This download is no longer available.")
    services.export_downloaded(export=export, user=request.user)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"agora-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )


def _social_accounts(request):
    accounts = list(selectors.social_accounts(user=request.user))
    providers = {p.sub_id: p for p in get_social_adapter(request).list_providers(request)}
    return [(account, providers.get(account.provider)) for account in accounts]


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    user = request.user
    erasure = selectors.open_erasure(user=user)
    if erasure is not None:
        return render(request, "privacy/delete_scheduled.html", {"erasure": erasure})
    needs_social = not user.has_usable_password()
    accounts = _social_accounts(request) if needs_social else []
    reauthenticated = (not needs_social) or selectors.recently_reauthenticated_socially(
        request, user=user, since=cache.get(_reauth_key(user))
    )
    form = DeleteAccountForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if not reauthenticated:
            form.add_error(None, "Please confirm it is you with your social account first.")
            status = 403
        elif form.is_valid():
            try:
                erasure = services.erasure_request(user=user, keep_content=form.keep_content)
            except PrivacyError as error:
                form.add_error(None, str(error))
                status = error.status_code
            else:
                cache.delete(_reauth_key(user))
                if erasure.status == ErasureRequest.Status.SCHEDULED and (
                    erasure.scheduled_for > erasure.requested_at
                ):
                    messages.success(
                        request,
                        f"Your account will be deleted on {erasure.scheduled_for:%d %B %Y}. "
                        "You can cancel until then.",
                    )
                    return redirect("privacy:delete")
                logout(request)
                return redirect("privacy:deleted")
        else:
            status = 400
    return render(
        request,
        "privacy/delete.html",
        {
            "form": form,
            "needs_social": needs_social,
            "accounts": accounts,
            "reauthenticated": reauthenticated,
            "grace_days": selectors.grace_days(),
        },
        status=status,
    )


@login_required
@require_POST
def reauth(request, provider_id: str):
    """Send a social-only shopper to their provider to confirm it is them; they come back to
    the deletion page, which then accepts the confirmation."""
    from social.adapter import permission_state
    from social.providers import scopes_for
    from social.selectors import granted_categories

    if not any(a.provider == provider_id for a, _ in _social_accounts(request)):
        raise Http404("No such connected account.")
    provider = get_social_adapter(request).get_provider(request, provider_id)
    granted = granted_categories(request.user)
    cache.set(_reauth_key(request.user), time.time(), selectors.REAUTH_SECONDS)
    try:
        return provider.redirect(
            request,
            AuthProcess.LOGIN,
            next_url=reverse("privacy:delete"),
            data=permission_state(provider_id=provider_id, categories=granted),
            scope=scopes_for(provider_id, granted),
        )
    except RequestException:
        messages.error(request, f"{provider.name} cannot be reached right now. Try again later.")
        return redirect("privacy:delete")


@login_required
@require_POST
def delete_cancel(request):
    try:
        services.erasure_cancel(user=request.user)
    except PrivacyError as error:
        messages.error(request, str(error))
        return redirect("privacy:delete")
    messages.success(request, "Your account will not be deleted.")
    return redirect("privacy:overview")


def deleted(request):
    return render(request, "privacy/deleted.html")


@login_required
def decisions(request):
    return render(
        request,
        "privacy/decisions.html",
        {
            "decisions": selectors.decisions_for(user=request.user),
            "sources": selectors.decision_source_names(),
        },
    )


def how_we_use(request):
    return render(request, "privacy/how_we_use.html", selectors.how_we_use())
