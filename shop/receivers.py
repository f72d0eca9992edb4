"""At sign-in, hand the visitor's anonymous cart and events to the shopper."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from personalization.events import ANON_KEY, merge_anonymous

from .cart import cart_merge


@receiver(user_logged_in, dispatch_uid="shop_merge_anonymous")
def merge_anonymous_activity(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    anon_id = request.session.get(ANON_KEY)
    if anon_id:
        merged = cart_merge(anon_id=anon_id, user=user)
        # The store changed the cart on its own: say what changed and why (issue 17, item 8).
        for change in merged.changes:
            messages.info(request, change, fail_silently=True)
        merge_anonymous(session_key=anon_id, user=user)
