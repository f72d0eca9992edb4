"""Personal data held by engagement: likes, the public profile, share links and referrals."""

from django.contrib.contenttypes.models import ContentType
from django.utils.crypto import get_random_string

from privacy import registry
from privacy.activitystreams import absolute, actor_id, iso
from privacy.registry import Custom, Delete, Detach


def _liked_items(user):
    from . import likeable
    from .models import Like

    likes = list(
        Like.objects.filter(user=user).select_related("content_type").order_by("created_at", "pk")
    )
    by_type: dict[int, set] = {}
    for like in likes:
        by_type.setdefault(like.content_type_id, set()).add(like.object_id)
    objects: dict[tuple[int, int], object] = {}
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            continue
        for pk, obj in model._default_manager.in_bulk(list(ids)).items():
            objects[(ct_id, pk)] = obj
    for like in likes:
        obj = objects.get((like.content_type_id, like.object_id))
        entry = likeable.for_object(obj) if obj is not None else None
        yield like, obj, entry


def export_likes(user) -> list[dict]:
    out = []
    for like, obj, entry in _liked_items(user):
        out.append(
            {
                "item_type": like.content_type.model,
                "item_id": like.object_id,
                "title": entry.title(obj) if entry else "",
                "url": absolute(entry.url(obj)) if entry else "",
                "created_at": like.created_at,
            }
        )
    return out


def likes_as_activities(user) -> list[dict]:
    me = actor_id(user)
    out = []
    for like, obj, entry in _liked_items(user):
        target = {"type": "Object", "id": f"urn:agora:{like.content_type.model}:{like.object_id}"}
        if entry is not None:
            target = {"type": "Page", "id": absolute(entry.url(obj)), "name": entry.title(obj)}
        out.append(
            {"type": "Like", "actor": me, "object": target, "published": iso(like.created_at)}
        )
    return out


registry.register(
    "engagement.Like",
    kind="likes",
    description="What you liked: products, reviews and forum posts. Used to suggest products "
    "and, if you made your likes public, shown on your profile.",
    fields={
        "item_type": "What kind of item (product, review, post).",
        "item_id": "Its number.",
        "title": "Its name.",
        "url": "Its address.",
        "created_at": "When you liked it (UTC, ISO 8601).",
    },
    export=export_likes,
    activity_streams=likes_as_activities,
    erase=Delete(),
)

registry.register(
    "engagement.PublicProfile",
    kind="public_profile",
    description="Your public profile settings: handle, name and bio others can see if you make "
    "it public.",
    fields={
        "handle": "Your profile address: /u/<handle>/.",
        "display_name": "The name shown.",
        "bio": "Your bio.",
        "is_public": "Whether others can see it and follow you.",
        "likes_public": "Whether your likes appear on it.",
        "updated_at": "Last change (UTC, ISO 8601).",
    },
    erase=Delete(),
)


def _erase_share_links(queryset, *, field, user, options) -> int:
    """Share links go; one that brought an order stays for the shop's referral accounts, with
    no sharer and a fresh random code (the shopper's code stops working)."""
    from .models import ShareLink

    kept = queryset.filter(attributions__isnull=False).distinct()
    count = 0
    for pk in list(kept.values_list("pk", flat=True)):
        ShareLink.objects.filter(pk=pk).update(
            sharer=None, anon_id="", code=f"erased-{get_random_string(20)}"
        )
        count += 1
    deleted, _ = queryset.filter(attributions__isnull=True).delete()
    return count + deleted


registry.register(
    "engagement.ShareLink",
    kind="shares",
    description="The links you shared (which item, through which channel, how often) and "
    "their referral codes.",
    owner="sharer",
    fields={
        "code": "The referral code in the link.",
        "content_type__model": "What kind of item.",
        "object_id": "Its number.",
        "channel": "Where you shared it.",
        "shares": "How many times.",
        "created_at": "When first shared (UTC, ISO 8601).",
    },
    erase=Custom(fn=_erase_share_links, label="deleted (codes that brought an order: replaced)"),
    order=40,
)

registry.register(
    "engagement.ShareVisit",
    kind="share_visits",
    description="Visits you made through links other people shared.",
    fields={"link__channel": "The channel of the link.", "created_at": "When (UTC, ISO 8601)."},
    erase=Detach(clear={"visitor": ""}),
)

registry.register(
    "engagement.ReferralAttribution",
    kind="referrals",
    description="Orders other shoppers placed after following a link you shared.",
    owner="sharer",
    fields={
        "channel": "The channel of your link.",
        "visited_at": "When they arrived (UTC, ISO 8601).",
        "created_at": "When they ordered (UTC, ISO 8601).",
    },
    erase=Detach(),
)
