"""Reads of consent and social-profile data. Other apps use these, never the models directly."""

from dataclasses import dataclass, field

from allauth.socialaccount.models import SocialAccount
from django.db.models import QuerySet

from . import consent
from .models import Connection, ConsentRecord, SocialProfile


def granted_categories(user) -> set[str]:
    """The categories ``user`` shares right now (latest record per category is a grant)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return granted_categories_by_user([user.pk]).get(user.pk, set())


def granted_categories_by_user(user_ids) -> dict[int, set[str]]:
    """``{user id: categories shared right now}`` for ``user_ids`` (ints), in one query; users
    who share nothing are left out."""
    latest: dict[tuple[int, str], str] = {}
    for user_id, category, action in (
        ConsentRecord.objects.filter(user_id__in=list(user_ids))
        .order_by("user_id", "category", "-id")
        .values_list("user_id", "category", "action")
    ):
        latest.setdefault((user_id, category), action)
    granted: dict[int, set[str]] = {}
    for (user_id, category), action in latest.items():
        if action == ConsentRecord.Action.GRANTED:
            granted.setdefault(user_id, set()).add(category)
    return granted


def granted_categories_for_users(user_ids, category: str) -> set[int]:
    """Of ``user_ids``, those who currently grant ``category``."""
    latest: dict[int, str] = {}
    for user_id, action in (
        ConsentRecord.objects.filter(user_id__in=list(user_ids), category=category)
        .order_by("user_id", "-id")
        .values_list("user_id", "action")
    ):
        latest.setdefault(user_id, action)
    return {u for u, action in latest.items() if action == ConsentRecord.Action.GRANTED}


def connected_accounts(user) -> QuerySet[SocialAccount]:
    """The shopper's social accounts, oldest first."""
    return SocialAccount.objects.filter(user=user).order_by("date_joined", "pk")


def consent_history(user) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class SocialProfileData:
    """A shopper's shared social data: only categories granted right now hold values."""

    provider: str
    categories: frozenset[str]
    display_name: str = ""
    age_band: str = ""
    birthday: tuple[int, int] | None = None  # (month, day)
    gender: str = ""
    relationship_status: str = ""
    interests: tuple[str, ...] = ()
    friend_ids: tuple[int, ...] = field(default=())


def social_profile(user) -> SocialProfileData | None:
    """The shopper's social profile, or None when they share nothing from a social account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return social_profiles_for_users([user.pk]).get(user.pk)


def social_profiles_for_users(user_ids) -> dict[int, SocialProfileData]:
    """``{user id: social profile}`` of ``user_ids`` (ints) who share something from a social
    account: what ``social_profile`` gives each, in at most three queries for any number of
    shoppers (consents, profiles, friends), not three per shopper."""
    granted = granted_categories_by_user(user_ids)
    if not granted:
        return {}
    profiles: dict[int, SocialProfile] = {}
    for profile in SocialProfile.objects.filter(user_id__in=list(granted)).order_by("pk"):
        profiles.setdefault(profile.user_id, profile)  # the first, as .first() gave
    friends: dict[int, list[int]] = {}
    sharing_friends = [u for u in profiles if consent.FRIENDS in granted[u]]
    if sharing_friends:
        for follower_id, followed_id in (
            Connection.objects.filter(follower_id__in=sharing_friends, kind=Connection.Kind.FRIEND)
            .order_by("follower_id", "followed_id")
            .values_list("follower_id", "followed_id")
        ):
            friends.setdefault(follower_id, []).append(followed_id)
    return {
        user_id: _profile_data(profile, granted[user_id], friends.get(user_id, ()))
        for user_id, profile in profiles.items()
    }


def _profile_data(profile: SocialProfile, granted: set[str], friend_ids) -> SocialProfileData:
    has = granted.__contains__
    birthday = None
    if has(consent.BIRTHDAY) and profile.birthday_month and profile.birthday_day:
        birthday = (profile.birthday_month, profile.birthday_day)
    return SocialProfileData(
        provider=profile.provider,
        categories=frozenset(granted),
        display_name=profile.display_name if has(consent.BASIC) else "",
        age_band=profile.age_band if has(consent.AGE) else "",
        birthday=birthday,
        gender=profile.gender if has(consent.GENDER) else "",
        relationship_status=profile.relationship_status if has(consent.RELATIONSHIP) else "",
        interests=tuple(profile.interests) if has(consent.INTERESTS) else (),
        friend_ids=tuple(friend_ids) if has(consent.FRIENDS) else (),
    )


def held_data(profile: SocialProfileData | None) -> dict[str, str]:
    """What the store holds for each category, in words, for the privacy page."""
    if profile is None:
        return {}
    gender = dict(SocialProfile.Gender.choices)
    relationship = dict(SocialProfile.Relationship.choices)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    held = {consent.BASIC: profile.display_name or "Your name and email"}
    if consent.AGE in profile.categories:
        held[consent.AGE] = f"Age band {profile.age_band}" if profile.age_band else "Nothing usable"
    if consent.BIRTHDAY in profile.categories:
        held[consent.BIRTHDAY] = (
            f"{profile.birthday[1]} {months[profile.birthday[0] - 1]}"
            if profile.birthday
            else "Nothing usable"
        )
    if consent.GENDER in profile.categories:
        held[consent.GENDER] = gender.get(profile.gender, "Nothing usable")
    if consent.RELATIONSHIP in profile.categories:
        held[consent.RELATIONSHIP] = relationship.get(profile.relationship_status, "Nothing usable")
    if consent.INTERESTS in profile.categories:
        held[consent.INTERESTS] = ", ".join(profile.interests) or "Nothing usable"
    if consent.FRIENDS in profile.categories:
        count = len(profile.friend_ids)
        held[consent.FRIENDS] = f"{count} friend{'s' if count != 1 else ''} who shop here"
    return held
