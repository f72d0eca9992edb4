"""At sign-in, the links a visitor shared while signed out become the shopper's."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from personalization.events import ANON_KEY

from . import services


@receiver(user_logged_in, dispatch_uid="engagement_claim_share_links")
def claim_share_links(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    services.share_links_claim(anon_id=request.session.get(ANON_KEY) or "", user=user)
