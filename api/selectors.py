"""Read-side queries of the API app."""

from django.db.models import QuerySet

from .models import PersonalAccessToken


def tokens_of(user) -> QuerySet[PersonalAccessToken]:
    """The user's tokens, newest first, revoked ones included (they show as revoked)."""
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-pk")
