"""The permission screen and the Privacy & sharing page. Rules live in services/selectors."""

from allauth.account.utils import get_next_redirect_url
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import AuthProcess
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, MultipleObjectsReturned
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from requests import RequestException

from . import consent, selectors, services
from .adapter import permission_state
from .exceptions import SocialError
from .forms import PermissionForm
from .providers import offered_categories, scopes_for


def _provider_or_404(request, provider_id: str):
    try:
        provider = get_social_adapter(request).get_provider(request, provider_id)
    except (SocialApp.DoesNotExist, ImproperlyConfigured, MultipleObjectsReturned):
        raise Http404("No such sign-in provider.") from None
    if provider.sub_id != provider_id:
        raise Http404("No such sign-in provider.")
    return provider


@require_http_methods(["GET", "POST"])
def permissions(request, provider_id: str):
    """Ask what the shopper shares, then send them to the provider for exactly that."""
    provider = _provider_or_404(request, provider_id)
    connecting = request.user.is_authenticated
    process = AuthProcess.CONNECT if connecting else AuthProcess.LOGIN
    back = reverse("social:privacy") if connecting else reverse("account_login")
    next_url = get_next_redirect_url(request) or ""
    current = selectors.granted_categories(request.user) if connecting else set()
    form = PermissionForm(
        request.POST or None,
        offered=offered_categories(provider_id),
        initial_granted=current,
        offer_marketing=_offer_marketing(request.user),
    )
    status = 200
    if request.method == "POST":
        if "cancel" in request.POST:
            messages.info(
                request,
                f"You did not continue with {provider.name}. Nothing was shared"
                + (" and you are not signed in." if not connecting else "."),
            )
            return redirect(back)
        if form.is_valid():
            granted = form.granted()
            try:
                return provider.redirect(
                    request,
                    process,
                    # Connecting (or sharing more) ends where it started: Privacy & sharing.
                    next_url=next_url or (back if connecting else None),
                    data=permission_state(
                        provider_id=provider_id,
                        categories=granted,
                        marketing_opt_in=form.wants_marketing(),
                    ),
                    scope=scopes_for(provider_id, granted),
                )
            except RequestException:
                form.add_error(
                    None,
                    f"{provider.name} cannot be reached right now. Nothing was shared; "
                    "please try again in a moment.",
                )
                status = 503
    return render(
        request,
        "social/permissions.html",
        {
            "provider": provider,
            "form": form,
            "connecting": connecting,
            "current": current,
            "next": next_url,
            "back": back,
            "policy_version": consent.policy_version(),
        },
        status=status,
    )


def _offer_marketing(user) -> bool:
    """The marketing-email offer shows unless the shopper has opted in already."""
    if not apps.is_installed("personalization.outreach"):
        return False
    if not user.is_authenticated:
        return True
    from personalization.outreach.models import Subscriber

    return not Subscriber.objects.filter(user=user, marketing_opt_in=True).exists()


@login_required
def privacy(request):
    return _privacy_page(request)


def _privacy_page(request, *, error: SocialError | None = None):
    """The page itself; with ``error``, shown again with its message and its 4xx status."""
    user = request.user
    profile = selectors.social_profile(user)
    granted = selectors.granted_categories(user)
    held = selectors.held_data(profile)
    accounts = list(selectors.connected_accounts(user))
    providers = get_social_adapter(request).list_providers(request)
    names = {p.sub_id: p.name for p in providers}
    rows = [
        {
            "category": category,
            "shared": code in granted,
            "held": held.get(code, ""),
        }
        for code, category in consent.CATEGORIES.items()
    ]
    return render(
        request,
        "social/privacy.html",
        {
            "rows": rows,
            "accounts": [(a, names.get(a.provider, a.provider.title())) for a in accounts],
            "providers": providers,
            "connected": {a.provider for a in accounts},
            # The last account can go only once the shopper has another way to sign in.
            "needs_password": len(accounts) == 1 and not user.has_usable_password(),
            "history": selectors.consent_history(user)[:100],
            "policy_version": consent.policy_version(),
            "error": str(error) if error else "",
        },
        status=error.status_code if error else 200,
    )


@login_required
@require_POST
def revoke(request, category: str):
    try:
        services.consent_revoke(user=request.user, category=category)
    except SocialError as error:
        return _privacy_page(request, error=error)
    messages.success(
        request,
        f"You no longer share {consent.CATEGORIES[category].title}. We deleted what we held.",
    )
    return redirect("social:privacy")


@login_required
@require_POST
def disconnect(request, account_id: int):
    try:
        services.social_account_disconnect(user=request.user, account_id=account_id)
    except SocialError as error:
        return _privacy_page(request, error=error)
    messages.success(
        request, "The account is disconnected and everything it shared has been deleted."
    )
    return redirect("social:privacy")
