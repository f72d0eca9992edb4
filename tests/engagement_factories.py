"""Factories for the engagement app's tests (likes, public profiles, follows)."""

from social.engagement import services
from social.engagement.models import PublicProfile
from social.models import Connection
from tests.factories import UserFactory


def public_shopper(*, name: str, likes_public: bool = True, **kwargs):
    """A shopper with a public profile; ``likes_public=False`` keeps their likes private."""
    user = UserFactory(first_name=name, **kwargs)
    services.profile_update(user=user, is_public=True, likes_public=likes_public, display_name=name)
    return user


def follow(follower, followed, *, kind: str = Connection.Kind.FOLLOW) -> Connection:
    return Connection.objects.create(follower=follower, followed=followed, kind=kind)


def profile_of(user) -> PublicProfile:
    return PublicProfile.objects.get(user=user)
