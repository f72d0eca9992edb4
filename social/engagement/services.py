"""Write-side operations: likes, shares and referrals, public profiles, follows.

Each function takes keyword-only arguments, runs in a transaction and raises an
``EngagementError`` (a clear message and a 4xx status) when the input is bad.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.text import slugify

from config.aftercommit import forget_keys
from personalization import events
from shop.models import Order, OrderEvent, Product
from social.models import Connection
from social.names import is_reserved_name

from . import app_settings, likeable
from .exceptions import (
    EngagementError,
    FollowNotAllowed,
    InvalidChannel,
    InvalidReferral,
    ProfileNotFound,
)
from .models import (
    Like,
    PublicProfile,
    ReferralAttribution,
    ShareChannel,
    ShareLink,
    ShareVisit,
)
from .selectors import STORE_ACCOUNTS_CACHE_KEY

REFERRAL_SESSION_KEY = "engagement_referral"
PENDING_LIKE_SESSION_KEY = "engagement_pending_like"
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


def _event_target(entry: likeable.Likeable, obj: Model) -> dict:
    """What a like or share event says about its item: ``target`` (the registry key) and
    ``object_id`` always; ``product`` for products; and whatever the item's registration adds
    (a review's product, a post's topic and category)."""
    product = obj if isinstance(obj, Product) else None
    target = {"product": product, "target": entry.key, "object_id": obj.pk}
    target.update(entry.event_attributes(obj))
    return target


# --- likes ---------------------------------------------------------------------------------


def like_add(*, user, obj: Model) -> bool:
    """Make ``user`` like ``obj``; True if this call created the like.

    Safe under concurrent clicks: the unique constraint lets exactly one insert win, the others
    find the like already there. One ``like`` event is recorded, by the winner only.
    """
    entry = _likeable_visible(obj, like=True)
    content_type = entry.content_type
    now = timezone.now()
    try:
        with transaction.atomic():
            Like.objects.create(
                user=user, content_type=content_type, object_id=obj.pk, created_at=now
            )
            events.record(
                events.Event.Kind.LIKE, user=user, occurred_at=now, **_event_target(entry, obj)
            )
    except IntegrityError:
        return False
    return True


@transaction.atomic
def like_remove(*, user, obj: Model) -> bool:
    """Withdraw ``user``'s like of ``obj``; True if there was one.

    Profiles are built from events only, so the withdrawal is an ``unlike`` event that cancels
    the like event it withdraws: it is dated at that like (its own time is ``withdrawn_at``) and
    the profile build weighs it minus a like (``personalization.building.event_weights``), so the
    like stops counting in incremental and full builds alike. A like with no like event (demo
    data, or one the retention limit deleted) has nothing to cancel and records nothing.
    """
    entry = likeable.for_object(obj)
    if entry is None:
        return False
    deleted, _ = Like.objects.filter(
        user=user, content_type=entry.content_type, object_id=obj.pk
    ).delete()
    if deleted:
        _record_unlike(user=user, entry=entry, obj=obj)
    return bool(deleted)


def _record_unlike(*, user, entry: likeable.Likeable, obj: Model) -> None:
    Event = events.Event
    like = (
        Event.objects.filter(
            user=user,
            kind=Event.Kind.LIKE,
            attributes__target=entry.key,
            attributes__object_id=obj.pk,
        )
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if like is None:
        return
    cancelled = Event.objects.filter(
        user=user, kind=Event.Kind.UNLIKE, attributes__cancels=like.pk
    ).exists()
    if cancelled:
        return
    events.record(
        Event.Kind.UNLIKE,
        user=user,
        occurred_at=like.occurred_at,
        cancels=like.pk,
        withdrawn_at=timezone.now().isoformat(),
        **_event_target(entry, obj),
    )


def like_set(*, user, obj: Model, liked: bool | None = None) -> bool:
    """Set the like to ``liked`` (None toggles); returns whether ``user`` now likes ``obj``."""
    if liked is None:
        entry = _likeable_visible(obj, like=True)
        liked = not Like.objects.filter(
            user=user, content_type=entry.content_type, object_id=obj.pk
        ).exists()
    if liked:
        like_add(user=user, obj=obj)
    else:
        like_remove(user=user, obj=obj)
    return liked


# --- a like asked for while signed out ------------------------------------------------------


@dataclass(frozen=True)
class PendingLikeResult:
    """What became of a like clicked while signed out, once the shopper signed in."""

    title: str = ""
    created: bool = False  # False with a title: the shopper already liked it
    error: str = ""  # the item is gone or hidden: nothing was liked


def like_pending_store(*, session, key: str, object_id: str) -> None:
    """Remember in this browser's session that its signed-out visitor asked to like an item.

    Only the session holds the intent (no URL carries it), so only a sign-in in the same
    browser can apply it; the last click wins. The item is checked again when applied.
    """
    session[PENDING_LIKE_SESSION_KEY] = {
        "key": key,
        "object_id": str(object_id),
        "at": timezone.now().isoformat(),
    }


def like_pending_apply(*, session, user) -> PendingLikeResult | None:
    """Apply the like this session asked for while signed out, once; None if there was none.

    The intent is removed from the session first, so it is applied at most once. It is ignored
    when older than ``ENGAGEMENT_PENDING_LIKE_MINUTES``. The item is resolved again: a missing
    or hidden one gives a result with ``error`` and no like. An existing like is left as it is
    (no second event); a new one records exactly one ``like`` event (``like_add``).
    """
    pending = session.pop(PENDING_LIKE_SESSION_KEY, None)
    if not isinstance(pending, dict):
        return None
    try:
        asked_at = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None
    max_age = timedelta(minutes=app_settings.pending_like_minutes())
    if timezone.is_naive(asked_at) or timezone.now() - asked_at > max_age:
        return None
    try:
        entry, obj = likeable.resolve(str(pending.get("key")), str(pending.get("object_id")))
        created = like_add(user=user, obj=obj)
    except EngagementError:
        return PendingLikeResult(
            error="The item you wanted to like is no longer available, so nothing was liked."
        )
    return PendingLikeResult(title=entry.title(obj), created=created)


def _likeable_visible(obj: Model, *, like: bool = False) -> likeable.Likeable:
    entry = likeable.for_object(obj)
    if entry is None:
        raise likeable.ItemNotFound("That kind of item cannot be liked or shared.")
    if like and not entry.can_like:
        raise likeable.ItemNotFound(f"A {obj._meta.verbose_name} cannot be liked.")
    if not entry.is_visible(obj):
        raise likeable.ItemNotFound(f"That {obj._meta.verbose_name} is not available.")
    return entry


# --- shares and referrals ------------------------------------------------------------------


def parse_channel(raw: str) -> ShareChannel:
    try:
        return ShareChannel(raw)
    except ValueError:
        choices = ", ".join(ShareChannel.values)
        raise InvalidChannel(f"Unknown share channel {raw[:20]!r}; use one of {choices}.") from None


def share_record(*, obj: Model, channel: str, user=None, anon_id: str = "") -> ShareLink:
    """Record one share of ``obj`` through ``channel`` and return its tracked link.

    A signed-in sharer (or an anonymous visitor) keeps one link, and so one referral code, per
    item and channel; each share adds to its count and records a ``share`` event.
    """
    channel = parse_channel(channel)
    entry = _likeable_visible(obj)
    if not entry.shareable:
        raise likeable.ItemNotFound("That item cannot be shared.")
    if user is not None and not user.is_authenticated:
        user = None
    owner = {"sharer": user, "anon_id": ""} if user else {"sharer": None, "anon_id": anon_id}
    lookup = {"content_type": entry.content_type, "object_id": obj.pk, "channel": channel}
    with transaction.atomic():
        link = None
        if user:  # their own link, or one they shared signed out and claimed at sign-in
            link = ShareLink.objects.filter(sharer=user, **lookup).order_by("pk").first()
        elif anon_id:
            link = ShareLink.objects.filter(**owner, **lookup).first()
        if link is None:
            link = _share_link_create(owner=owner, lookup=lookup)
        ShareLink.objects.filter(pk=link.pk).update(shares=F("shares") + 1)
        events.record(
            events.Event.Kind.SHARE,
            user=user,
            session_key=anon_id,
            channel=channel.value,
            code=link.code,
            **_event_target(entry, obj),
        )
    return link


def _share_link_create(*, owner: dict, lookup: dict) -> ShareLink:
    try:
        with transaction.atomic():
            return ShareLink.objects.create(code=secrets.token_urlsafe(9), **owner, **lookup)
    except IntegrityError:  # a parallel share created it first
        return ShareLink.objects.get(**owner, **lookup)


@transaction.atomic
def share_links_claim(*, anon_id: str, user) -> int:
    """Give the links a visitor shared while signed out to the shopper who just signed in.

    Called at sign-in (``receivers.py``). The links keep their codes, so what was already shared
    keeps working; from now on their visits and orders are the shopper's, and so are the orders
    already attributed to them (except the shopper's own). Returns the number of links claimed.
    """
    if not anon_id or user is None or not user.is_authenticated:
        return 0
    links = list(
        ShareLink.objects.filter(sharer__isnull=True, anon_id=anon_id).values_list("pk", flat=True)
    )
    if not links:
        return 0
    ShareLink.objects.filter(pk__in=links).update(sharer=user)
    ReferralAttribution.objects.filter(link_id__in=links, sharer__isnull=True).exclude(
        order__user=user
    ).update(sharer=user)
    return len(links)


def share_link_for_code(code: str) -> ShareLink:
    """The share link named by ``code``, or InvalidReferral for a forged or unknown code."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidReferral("This share link is not valid.")
    link = ShareLink.objects.select_related("content_type").filter(code=code).first()
    if link is None:
        raise InvalidReferral("This share link is not valid or no longer exists.")
    return link


def referral_visit(*, code: str, request) -> tuple[ShareLink, Model]:
    """Count a visit through a share link and remember it in the visitor's session.

    Returns the link and the shared item (to redirect to). The last link followed wins; a
    sharer following their own link is not counted.
    """
    link = share_link_for_code(code)
    entry = likeable.for_content_type_id(link.content_type_id)
    if entry is None:
        raise InvalidReferral("This share link points at something that cannot be shown.")
    obj = entry.get(link.object_id)
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.pk == link.sharer_id:
        return link, obj
    ShareVisit.objects.create(link=link, visitor=events.anonymous_id(request), user=user)
    request.session[REFERRAL_SESSION_KEY] = {
        "link": link.pk,
        "at": timezone.now().isoformat(),
    }
    return link, obj


def attribute_order(*, order: Order, request) -> ReferralAttribution | None:
    """Attribute ``order`` to the share link its session arrived through, if any.

    Call once after the order is placed (shop.views.checkout does). Nothing happens without a
    referral in the session, when the visit is older than ENGAGEMENT_REFERRAL_DAYS, when the
    link has gone, or when the sharer bought through their own link. Idempotent per order.
    """
    referral = request.session.get(REFERRAL_SESSION_KEY)
    if not isinstance(referral, dict):
        return None
    try:
        visited_at = datetime.fromisoformat(referral["at"])
        link = ShareLink.objects.filter(pk=int(referral["link"])).first()
    except (KeyError, TypeError, ValueError):
        request.session.pop(REFERRAL_SESSION_KEY, None)
        return None
    if link is None or timezone.now() - visited_at > timedelta(days=app_settings.referral_days()):
        request.session.pop(REFERRAL_SESSION_KEY, None)
        return None
    if order.user_id is not None and order.user_id == link.sharer_id:
        return None
    with transaction.atomic():
        attribution, created = ReferralAttribution.objects.get_or_create(
            order=order,
            defaults={
                "link": link,
                "sharer": link.sharer,
                "channel": link.channel,
                "visited_at": visited_at,
            },
        )
        if created:
            OrderEvent.objects.create(
                order=order,
                kind="referral",
                message=f"Arrived through a share on {link.get_channel_display()} "
                f"(code {link.code})",
            )
    return attribution


# --- public profiles and follows -----------------------------------------------------------


def unique_handle(user) -> str:
    """A free handle from the username (case-insensitively unique; never a reserved name)."""
    base = slugify(user.username or user.email.split("@")[0])[:30] or "shopper"
    if is_reserved_name(base):
        base = "shopper"
    handle, n = base, 1
    while PublicProfile.objects.filter(handle__iexact=handle).exists():
        n += 1
        handle = f"{base}-{n}"
    return handle


def profile_get_or_create(*, user) -> PublicProfile:
    """The shopper's profile settings; created private, with a handle from their username."""
    profile = PublicProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    try:
        with transaction.atomic():
            return PublicProfile.objects.create(
                user=user,
                handle=unique_handle(user),
                display_name="" if is_reserved_name(user.first_name) else user.first_name[:60],
            )
    except IntegrityError:
        return PublicProfile.objects.get(user=user)


@transaction.atomic
def profile_update(*, user, **fields) -> PublicProfile:
    """Change profile settings (handle, display_name, bio, is_public, likes_public)."""
    allowed = {"handle", "display_name", "bio", "is_public", "likes_public"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown profile fields: {sorted(unknown)}")
    profile = profile_get_or_create(user=user)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile


def _followable(handle: str) -> PublicProfile:
    profile = PublicProfile.objects.select_related("user").filter(handle__iexact=handle).first()
    if profile is None or not profile.is_public:
        raise ProfileNotFound("This profile is private or does not exist.")
    return profile


def follow(*, follower, handle: str) -> bool:
    """``follower`` follows the shopper with public profile ``handle``; True if new."""
    profile = _followable(handle)
    if profile.user_id == follower.pk:
        raise FollowNotAllowed("You cannot follow yourself.")
    try:
        with transaction.atomic():
            _, created = Connection.objects.get_or_create(
                follower=follower, followed=profile.user, kind=Connection.Kind.FOLLOW
            )
    except IntegrityError:  # a parallel click created it
        return False
    return created


@transaction.atomic
def unfollow(*, follower, handle: str) -> bool:
    """Stop following; friendships from a social network are not touched (they follow
    the grant of the friends category, see the social app)."""
    profile = PublicProfile.objects.filter(handle__iexact=handle).first()
    if profile is None:
        raise ProfileNotFound("This profile does not exist.")
    deleted, _ = Connection.objects.filter(
        follower=follower, followed_id=profile.user_id, kind=Connection.Kind.FOLLOW
    ).delete()
    return bool(deleted)


def store_accounts_changed() -> None:
    """Call after the store's social accounts change (the admin does)."""
    from shop.pagecache import storefront_changed

    forget_keys([STORE_ACCOUNTS_CACHE_KEY])  # now and after commit, with a lease
    storefront_changed()  # the footer of cached store pages shows them
