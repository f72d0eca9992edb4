"""allauth tells us an account was disconnected on its own connections page."""

from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.signals import social_account_removed
from django.dispatch import receiver


@receiver(social_account_removed)
def withdraw_consent_on_disconnect(sender, request, socialaccount, **kwargs):
    from .services import consent_withdraw_all

    if not SocialAccount.objects.filter(user_id=socialaccount.user_id).exists():
        consent_withdraw_all(user=socialaccount.user)
