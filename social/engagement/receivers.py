"""At sign-in, what a visitor did while signed out becomes the shopper's: the links they shared
and the like they clicked (kept in their session, applied once)."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from personalization.events import ANON_KEY

from . import services


@receiver(user_logged_in, dispatch_uid="engagement_claim_share_links")
def claim_share_links(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    services.share_links_claim(anon_id=request.session.get(ANON_KEY) or "", user=user)


@receiver(user_logged_in, dispatch_uid="engagement_apply_pending_like")
def apply_pending_like(sender, request, user, **kwargs):
    """Sign-in and sign-up (allauth logs the new shopper in) both pass here, in the browser
    session that clicked Like; the login view then redirects back to the page."""
    if request is None or not hasattr(request, "session"):
        return
    result = services.like_pending_apply(session=request.session, user=user)
    if result is None:
        return
    if result.error:
        messages.warning(request, result.error, fail_silently=True)
    elif result.created:
        messages.success(
            request, f"You like {result.title}. It is in your likes.", fail_silently=True
        )
    else:
        messages.info(request, f"You already like {result.title}.", fail_silently=True)
