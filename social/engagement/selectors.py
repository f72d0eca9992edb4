"""Read-side queries: like counts and social proof in batches, likes lists, profiles."""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db.models import Count, Model, Q, QuerySet
from django.urls import reverse

from config.aftercommit import cache_fill
from social.models import Connection

from . import app_settings, likeable
from .exceptions import ProfileNotFound
from .models import Like, PublicProfile, StoreSocialAccount

REQUEST_MEMO = "_engagement_like_summaries"
STORE_ACCOUNTS_CACHE_KEY = "engagement:store_accounts"


@dataclass(frozen=True)
class Person:
    name: str
    url: str


@dataclass
class LikeSummary:
    """What a like button and a 'liked by' line need to know about one item, for one viewer.

    ``followed`` holds only shoppers the viewer follows (or is a friend of) whose profile and
    likes are public; ``count`` is the anonymous total of all likes.
    """

    count: int = 0
    liked: bool = False
    followed: list[Person] = field(default_factory=list)
    followed_total: int = 0

    @property
    def show_count(self) -> bool:
        """Totals below ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES are not shown as a claim."""
        return self.count >= app_settings.social_proof_min_likes()

    @property
    def others_followed(self) -> int:
        return max(self.followed_total - 1, 0)


def summary_key(obj: Model) -> tuple[int, int] | None:
    entry = likeable.for_object(obj)
    return (entry.content_type.pk, obj.pk) if entry else None


def like_summaries(objects, *, viewer) -> dict[tuple[int, int], LikeSummary]:
    """Like counts, the viewer's own likes and followed public likers of many items.

    At most two queries whatever the number of items (one when the viewer is anonymous).
    """
    ids_by_type: dict[int, set[int]] = defaultdict(set)
    for obj in objects:
        key = summary_key(obj)
        if key:
            ids_by_type[key[0]].add(key[1])
    summaries = {(ct, pk): LikeSummary() for ct, ids in ids_by_type.items() for pk in ids}
    if not summaries:
        return summaries
    targets = reduce(
        or_, (Q(content_type_id=ct, object_id__in=ids) for ct, ids in ids_by_type.items())
    )
    signed_in = viewer is not None and viewer.is_authenticated
    counts = {"n": Count("pk")}
    if signed_in:
        counts["mine"] = Count("pk", filter=Q(user_id=viewer.pk))
    rows = Like.objects.filter(targets).order_by().values("content_type_id", "object_id")
    for row in rows.annotate(**counts):
        summary = summaries[(row["content_type_id"], row["object_id"])]
        summary.count = row["n"]
        summary.liked = bool(row.get("mine"))
    if signed_in:
        _add_followed_likers(summaries, targets=targets, viewer=viewer)
    return summaries


def _add_followed_likers(summaries, *, targets: Q, viewer) -> None:
    rows = (
        Like.objects.filter(
            targets,
            user__follower_edges__follower_id=viewer.pk,
            user__public_profile__is_public=True,
            user__public_profile__likes_public=True,
        )
        .order_by("-created_at", "-pk")
        .values_list(
            "content_type_id",
            "object_id",
            "user_id",
            "user__public_profile__display_name",
            "user__public_profile__handle",
        )
    )
    seen: set[tuple[int, int, int]] = set()
    for content_type_id, object_id, user_id, display_name, handle in rows:
        if (content_type_id, object_id, user_id) in seen:  # followed and a friend: once
            continue
        seen.add((content_type_id, object_id, user_id))
        summary = summaries[(content_type_id, object_id)]
        summary.followed_total += 1
        if len(summary.followed) < 2:
            url = reverse("engagement:profile", kwargs={"handle": handle})
            summary.followed.append(Person(name=display_name or handle, url=url))


def like_summaries_for_request(request, objects) -> dict[tuple[int, int], LikeSummary]:
    """``like_summaries`` memoised on the request: items already loaded cost nothing more."""
    memo = getattr(request, REQUEST_MEMO, None)
    if memo is None:
        memo = {}
        setattr(request, REQUEST_MEMO, memo)
    missing = [obj for obj in objects if (key := summary_key(obj)) and key not in memo]
    if missing:
        memo.update(like_summaries(missing, viewer=getattr(request, "user", None)))
    return memo


def like_summary_for_request(request, obj: Model) -> LikeSummary:
    key = summary_key(obj)
    if key is None:
        return LikeSummary()
    return like_summaries_for_request(request, [obj]).get(key) or LikeSummary()


def like_summary(obj: Model, *, viewer) -> LikeSummary:
    key = summary_key(obj)
    return like_summaries([obj], viewer=viewer).get(key, LikeSummary()) if key else LikeSummary()


# --- lists of likes ------------------------------------------------------------------------


@dataclass(frozen=True)
class LikedItem:
    like: Like
    obj: Model
    entry: likeable.Likeable

    @property
    def title(self) -> str:
        return self.entry.title(self.obj)

    @property
    def image_url(self) -> str | None:
        return self.entry.image_url(self.obj)

    @property
    def url(self) -> str:
        return self.entry.url(self.obj)

    @property
    def kind(self) -> str:
        return str(self.entry.model._meta.verbose_name)


def likes_of(user) -> QuerySet:
    """A shopper's likes, newest first (for "My likes" and public profiles)."""
    registered = [entry.content_type.pk for entry in likeable.registered()]
    return Like.objects.filter(user=user, content_type_id__in=registered).order_by(
        "-created_at", "-pk"
    )


def hydrate(likes) -> list[LikedItem]:
    """The liked items of a page of likes, one query per kind; hidden or gone items drop out."""
    likes = list(likes)
    ids_by_type: dict[int, set[int]] = defaultdict(set)
    for like in likes:
        ids_by_type[like.content_type_id].add(like.object_id)
    objects: dict[tuple[int, int], tuple[Model, likeable.Likeable]] = {}
    for content_type_id, ids in ids_by_type.items():
        entry = likeable.for_content_type_id(content_type_id)
        if entry is None:
            continue
        for pk, obj in entry.visible_in_bulk(ids).items():
            objects[(content_type_id, pk)] = (obj, entry)
    items = []
    for like in likes:
        found = objects.get((like.content_type_id, like.object_id))
        if found:
            items.append(LikedItem(like=like, obj=found[0], entry=found[1]))
    return items


# --- profiles ------------------------------------------------------------------------------


def profile_of(user) -> PublicProfile | None:
    return PublicProfile.objects.filter(user=user).first()


def profile_for_page(*, handle: str, viewer) -> PublicProfile:
    """The profile at /u/<handle>/ if the viewer may see it: public, or their own."""
    profile = PublicProfile.objects.select_related("user").filter(handle__iexact=handle).first()
    own = profile is not None and viewer.is_authenticated and profile.user_id == viewer.pk
    if profile is None or not (profile.is_public or own):
        raise ProfileNotFound("This profile is private or does not exist.")
    return profile


def follow_counts(user) -> dict[str, int]:
    counts = Connection.objects.aggregate(
        followers=Count("pk", filter=Q(followed=user)),
        following=Count("pk", filter=Q(follower=user)),
    )
    return {"followers": counts["followers"], "following": counts["following"]}


def is_following(*, viewer, user) -> bool:
    if not viewer.is_authenticated:
        return False
    return Connection.objects.filter(
        follower=viewer, followed=user, kind=Connection.Kind.FOLLOW
    ).exists()


def connections_of(user) -> QuerySet:
    """Whom ``user`` follows or is friends with, with their public profile when they have one."""
    return (
        Connection.objects.filter(follower=user)
        .select_related("followed__public_profile")
        .order_by("-created_at", "-pk")
    )


def store_social_accounts() -> list[StoreSocialAccount]:
    """The store's active social accounts, cached until the admin changes them."""
    accounts = cache.get(STORE_ACCOUNTS_CACHE_KEY)
    if accounts is None:
        accounts = list(StoreSocialAccount.objects.filter(is_active=True))
        cache_fill(STORE_ACCOUNTS_CACHE_KEY, accounts, 3600)
    return accounts


def profile_of_handle(handle: str) -> PublicProfile | None:
    return PublicProfile.objects.filter(handle__iexact=handle).first()


def public_profile_urls(usernames) -> dict[str, str]:
    """For the given usernames (any case), ``{lower-case username: profile URL}`` of those
    whose profile is public and whose account is active; one query, none for an empty list.
    Private profiles and unknown names are absent, so callers leave them as plain text."""
    from django.db.models.functions import Lower

    wanted = {str(name).lower() for name in usernames if name}
    if not wanted:
        return {}
    rows = (
        PublicProfile.objects.filter(is_public=True, user__is_active=True)
        .annotate(username_lower=Lower("user__username"))
        .filter(username_lower__in=wanted)
        .values_list("username_lower", "handle")
    )
    return {name: reverse("engagement:profile", kwargs={"handle": handle}) for name, handle in rows}


def public_profile_url(user) -> str | None:
    """The URL of ``user``'s public profile when it is public, else None. Reads
    ``user.public_profile`` (select_related it to keep a list page's queries constant)."""
    if user is None or not getattr(user, "is_active", False):
        return None
    try:
        profile = user.public_profile
    except PublicProfile.DoesNotExist:
        return None
    if profile is None or not profile.is_public:
        return None
    return profile.get_absolute_url()
