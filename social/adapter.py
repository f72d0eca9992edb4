"""allauth integration: the permission screen's choices decide what a social login may keep.

Order of events in one social login (allauth 65):
1. ``populate_user``: the provider's claims arrive. Everything beyond the account's identity is
   taken out of ``SocialAccount.extra_data`` here, before allauth saves it anywhere.
2. ``pre_social_login``: the categories chosen on the permission screen (stashed in the OAuth
   state, so a replayed or forged callback has none) are intersected with what the provider
   actually released; the result is cleaned and reduced, and applied at once when the shopper is
   known (returning shopper, or connecting from their account). A new social login whose email
   belongs to an existing Agora account is sent to sign in to that account first.
3. ``save_user``: a new shopper's account exists; the same result is applied to it.
"""

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.manage_email import assess_unique_email
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthError, AuthProcess
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from requests import RequestException

from . import claims as claimkit
from . import consent
from .services import consent_apply_sign_in

STATE_KEY = "agora_consent"  # in the OAuth state "data": what the permission screen granted
RESULT_KEY = "agora_social"  # in the social login state: the cleaned result, once computed


def permission_state(
    *, provider_id: str, categories: set[str], marketing_opt_in: bool = False
) -> dict:
    """What the permission screen chose, carried through the provider in the OAuth state."""
    return {
        STATE_KEY: {
            "provider": provider_id,
            "categories": sorted(categories),
            "policy_version": consent.policy_version(),
            "marketing_opt_in": bool(marketing_opt_in),
        }
    }


def _marketing_chosen(sociallogin) -> bool:
    data = sociallogin.state.get("data")
    chosen = data.get(STATE_KEY) if isinstance(data, dict) else None
    return isinstance(chosen, dict) and chosen.get("marketing_opt_in") is True


def _chosen(sociallogin) -> set[str] | None:
    data = sociallogin.state.get("data")
    chosen = data.get(STATE_KEY) if isinstance(data, dict) else None
    if not isinstance(chosen, dict) or chosen.get("provider") != sociallogin.account.provider:
        return None
    categories = chosen.get("categories")
    if not isinstance(categories, list):
        return None
    return {c for c in categories if c in consent.CATEGORIES}


class AgoraSocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        raw = sociallogin.account.extra_data
        # Kept in memory for pre_social_login only; never saved.
        sociallogin._agora_claims = claimkit.merged_claims(raw)
        sociallogin.account.extra_data = claimkit.identity_only(raw)
        return user

    def pre_social_login(self, request, sociallogin):
        super().pre_social_login(request, sociallogin)
        provider = sociallogin.account.provider
        chosen = _chosen(sociallogin)
        if chosen is None:
            self._fail(
                request,
                "Please choose what you share with Agora first; nothing was shared "
                "and you are not signed in.",
                reverse("social:permissions", args=[provider]),
            )
        process = sociallogin.state.get("process")
        if process != AuthProcess.CONNECT and not sociallogin.is_existing:
            self._refuse_email_of_existing_account(request, sociallogin)
        claims = getattr(sociallogin, "_agora_claims", None) or {}
        released = claimkit.released_categories(claims)
        granted = (chosen & released) | {consent.BASIC}
        today = timezone.localdate()
        result = {
            "provider": provider,
            "granted": sorted(granted),
            "withheld": sorted(chosen - released),
            "profile": claimkit.clean_profile(claims, granted, today=today),
            "marketing_opt_in": _marketing_chosen(sociallogin),
            "applied": False,
        }
        sociallogin.state[RESULT_KEY] = result
        if process == AuthProcess.CONNECT and request.user.is_authenticated:
            if not sociallogin.is_existing or sociallogin.user == request.user:
                self._apply(request, request.user, sociallogin)
        elif process != AuthProcess.CONNECT and sociallogin.is_existing:
            self._apply(request, sociallogin.user, sociallogin)

    def _refuse_email_of_existing_account(self, request, sociallogin) -> None:
        """A new social login whose email is an Agora account's: sign in to that, then connect.

        allauth would show its signup form and refuse the address only after it is posted.
        ``assess_unique_email`` is allauth's own rule (False: in use and safe to say so).
        """
        addresses = sociallogin.email_addresses
        email = addresses[0].email if addresses else ""
        if not email:
            return
        unique = assess_unique_email(email)
        if unique is True:
            return
        provider = sociallogin.provider
        permissions = reverse("social:permissions", args=[provider.sub_id])
        if unique is None:
            # ACCOUNT_EMAIL_VERIFICATION=mandatory with enumeration prevention: allauth would go
            # on to say "a verification email was sent" and send none (issue 17, item 5). The
            # page does not confirm that the account exists; the address's owner is told by an
            # email that is really sent, with the way to sign in and then connect.
            self._email_existing_account(
                request, email=email, provider=provider, next_url=permissions
            )
            self._fail(
                request,
                f"We sent an email to {email} with the next step. Nothing was shared and you "
                "are not signed in.",
                reverse("account_login"),
            )
        self._fail(
            request,
            f"An Agora account already uses {email}. Sign in to it first; then you can "
            f"connect {provider.name} on the same screen. Nothing was shared.",
            f"{reverse('account_login')}?{urlencode({'next': permissions})}",
        )

    def _email_existing_account(self, request, *, email: str, provider, next_url: str) -> None:
        """Tell the owner of ``email`` (an existing account) how to sign in and connect
        ``provider``; sent at once through allauth's adapter (EMAIL_BACKEND)."""
        adapter = get_account_adapter(request)
        login = f"{reverse('account_login')}?{urlencode({'next': next_url})}"
        context = {
            "email": email,
            "provider_name": provider.name,
            "login_url": request.build_absolute_uri(login),
            "reset_url": request.build_absolute_uri(reverse("account_reset_password")),
            "permissions_url": request.build_absolute_uri(next_url),
        }
        adapter.send_mail("account/email/social_existing_account", email, context)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form=form)
        self._apply(request, user, sociallogin)
        return user

    def _apply(self, request, user, sociallogin) -> None:
        result = sociallogin.state.get(RESULT_KEY)
        if not result or result.get("applied"):
            return
        consent_apply_sign_in(
            user=user,
            provider=result["provider"],
            granted=result["granted"],
            profile=result["profile"],
        )
        if result.get("marketing_opt_in"):
            _opt_in_to_marketing(user)
        result["applied"] = True
        if result["withheld"]:
            titles = ", ".join(consent.CATEGORIES[c].title for c in result["withheld"])
            messages.info(
                request,
                f"{sociallogin.provider.name} did not share: {titles}. "
                "You can share it later under Privacy & sharing.",
            )

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        name = getattr(provider, "name", "The provider")
        if error == AuthError.CANCELLED:
            text = f"You cancelled at {name}. Nothing was shared and you are not signed in."
        elif isinstance(exception, RequestException):
            text = (
                f"{name} could not be reached, so sign-in did not complete. Nothing was "
                "shared; please try again in a moment."
            )
        else:
            text = (
                f"Sign-in with {name} did not complete: the request had expired, was "
                "already used or was not valid. Nothing was shared; please start again."
            )
        if request.user.is_authenticated:
            self._fail(request, text, reverse("social:privacy"))
        self._fail(request, text, reverse("account_login"))

    def _fail(self, request, text: str, url: str):
        get_account_adapter(request)  # ensure allauth's request context is set up
        messages.error(request, text)
        raise ImmediateHttpResponse(HttpResponseRedirect(url))


class AgoraAccountAdapter(DefaultAccountAdapter):
    """allauth's account adapter with Agora's two site-wide rules: every ``next`` goes through
    ``config.redirects`` (this site only), and usernames that pass for the store are refused
    (``social.names``; generated usernames skip to the next candidate)."""

    def is_safe_url(self, url):
        from allauth.core import context

        from config.redirects import is_own_url

        return is_own_url(url, request=context.request)

    def clean_username(self, username, shallow=False):
        from .names import validate_not_reserved

        validate_not_reserved(username)
        return super().clean_username(username, shallow=shallow)


def _opt_in_to_marketing(user) -> None:
    """Record the marketing-email opt-in ticked on the permission screen (outreach's consent)."""
    from django.apps import apps

    if not apps.is_installed("personalization.outreach"):
        return
    from personalization.outreach.models import MarketingConsentRecord
    from personalization.outreach.services import marketing_consent_set

    marketing_consent_set(
        user=user, opted_in=True, source=MarketingConsentRecord.Source.PERMISSION_SCREEN
    )
