"""Writes of consent and social-profile data. Every change leaves a ConsentRecord row."""

from collections.abc import Iterable
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from webhooks import payloads as webhook_payloads

from . import consent
from .exceptions import CannotDisconnect, ConsentNotGranted, SocialError, UnknownCategory
from .models import Connection, ConsentRecord, SocialProfile
from .selectors import granted_categories, granted_categories_for_users

# Profile fields holding each category's data, with their "nothing" value.
FIELDS: dict[str, dict[str, Any]] = {
    consent.BASIC: {"display_name": ""},
    consent.AGE: {"age_band": ""},
    consent.BIRTHDAY: {"birthday_month": None, "birthday_day": None},
    consent.GENDER: {"gender": ""},
    consent.RELATIONSHIP: {"relationship_status": ""},
    consent.INTERESTS: {"interests": []},
    consent.FRIENDS: {},
}


def _lock_user(user) -> None:
    """Serialize consent changes of one shopper (two tabs revoking at once)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _enqueue_rebuild(user_id: int) -> None:
    """After commit, rebuild the shopper's preference profile from what they share now."""
    from personalization.tasks import rebuild_profile

    transaction.on_commit(lambda: rebuild_profile.delay(user_id))


def _record(*, user, category: str, action: str, source: str, provider: str) -> ConsentRecord:
    record = ConsentRecord.objects.create(
        user=user,
        category=category,
        action=action,
        source=source,
        provider=provider,
        policy_version=consent.policy_version(),
    )
    webhook_payloads.emit_consent(record=record)  # issue 14: consent.granted / consent.revoked
    return record


@transaction.atomic
def consent_apply_sign_in(
    *,
    user,
    provider: str,
    granted: Iterable[str],
    profile: dict[str, Any],
    source: str = ConsentRecord.Source.PERMISSION_SCREEN,
) -> set[str]:
    """Record the categories granted at a sign-in and store their cleaned data.

    Only the fields of ``granted`` categories are written (``profile`` keys of other categories
    are ignored). Categories shared before stay shared: revoking happens on the privacy page.
    Returns the categories that were newly granted.
    """
    granted = {c for c in granted if c in consent.CATEGORIES} | {consent.BASIC}
    _lock_user(user)
    current = granted_categories(user)
    new = [c for c in consent.CATEGORIES if c in granted and c not in current]
    for code in new:
        _record(
            user=user,
            category=code,
            action=ConsentRecord.Action.GRANTED,
            source=source,
            provider=provider,
        )
    social, _ = SocialProfile.objects.get_or_create(user=user, defaults={"provider": provider})
    before = {f: getattr(social, f) for fields in FIELDS.values() for f in fields}
    social.provider = provider
    for code in granted:
        for name in FIELDS[code]:
            if name in profile:
                setattr(social, name, profile[name])
    social.save()
    changed = before != {f: getattr(social, f) for fields in FIELDS.values() for f in fields}
    if consent.FRIENDS in granted:
        friends_sync(user=user, provider=provider, friend_uids=profile.get("friend_uids", []))
        changed = True
    if new or changed:
        _enqueue_rebuild(user.pk)
    return set(new)


def _clear(user, categories: Iterable[str]) -> None:
    social = SocialProfile.objects.filter(user=user).first()
    categories = set(categories)
    if social is not None:
        for code in categories:
            for name, empty in FIELDS[code].items():
                setattr(social, name, list(empty) if isinstance(empty, list) else empty)
        social.save()
    if consent.FRIENDS in categories:
        friends_remove(user=user)


@transaction.atomic
def consent_revoke(
    *, user, category: str, source: str = ConsentRecord.Source.PRIVACY_PAGE
) -> ConsentRecord:
    """Stop sharing ``category``: its data is deleted now, the profile rebuilt after commit."""
    if category not in consent.CATEGORIES:
        raise UnknownCategory("There is no such kind of data.")
    if category == consent.BASIC:
        raise SocialError(
            "The basic profile is what signs you in. To stop sharing it, disconnect the account."
        )
    _lock_user(user)
    if category not in granted_categories(user):
        raise ConsentNotGranted(f"You are not sharing {consent.CATEGORIES[category].title}.")
    social = SocialProfile.objects.filter(user=user).first()
    record = _record(
        user=user,
        category=category,
        action=ConsentRecord.Action.REVOKED,
        source=source,
        provider=social.provider if social else "",
    )
    _clear(user, [category])
    _enqueue_rebuild(user.pk)
    return record


@transaction.atomic
def consent_withdraw_all(*, user, source: str = ConsentRecord.Source.DISCONNECT) -> list[str]:
    """Revoke every category and delete the social profile (the account was disconnected)."""
    _lock_user(user)
    social = SocialProfile.objects.filter(user=user).first()
    provider = social.provider if social else ""
    revoked = [c for c in consent.CATEGORIES if c in granted_categories(user)]
    for code in revoked:
        _record(
            user=user,
            category=code,
            action=ConsentRecord.Action.REVOKED,
            source=source,
            provider=provider,
        )
    friends_remove(user=user)
    SocialProfile.objects.filter(user=user).delete()
    if revoked or social:
        _enqueue_rebuild(user.pk)
    return revoked


@transaction.atomic
def social_account_disconnect(*, user, account_id: int) -> None:
    """Remove a connected social account; with the last one goes every grant and its data."""
    account = SocialAccount.objects.filter(user=user, pk=account_id).first()
    if account is None:
        raise SocialError("That account is not connected to yours.")
    others = SocialAccount.objects.filter(user=user).exclude(pk=account.pk).exists()
    if not others and not user.has_usable_password():
        raise CannotDisconnect(
            "Set a password first, so that you can still sign in after disconnecting."
        )
    account.delete()
    if not others:
        consent_withdraw_all(user=user)


def friends_remove(*, user) -> int:
    """Delete every friend connection of ``user``, both directions."""
    deleted, _ = (
        Connection.objects.filter(kind=Connection.Kind.FRIEND)
        .filter(Q(follower=user) | Q(followed=user))
        .delete()
    )
    return deleted


def friends_sync(*, user, provider: str, friend_uids: list[str]) -> int:
    """Make ``user``'s friend connections match their friends list on ``provider``.

    A friend becomes a connection (both directions) only when they are a shopper here with
    that provider connected and also share their friends: both sides agreed. Returns the number
    of friends connected.
    """
    shoppers = set(
        SocialAccount.objects.filter(provider=provider, uid__in=friend_uids[:1000])
        .exclude(user=user)
        .values_list("user_id", flat=True)
    )
    friends = granted_categories_for_users(shoppers, consent.FRIENDS)
    stale = (
        Connection.objects.filter(kind=Connection.Kind.FRIEND)
        .filter(Q(follower=user) | Q(followed=user))
        .exclude(Q(follower_id__in=friends) | Q(followed_id__in=friends))
    )
    stale.delete()
    Connection.objects.bulk_create(
        [
            Connection(follower_id=a, followed_id=b, kind=Connection.Kind.FRIEND)
            for friend in friends
            for a, b in ((user.pk, friend), (friend, user.pk))
        ],
        ignore_conflicts=True,
    )
    from shop.signed import shoppers_changed  # bulk_create sends no post_save

    shoppers_changed([user.pk, *friends])
    return len(friends)
