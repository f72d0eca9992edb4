"""Personal data held by the social app: consents, the shared social profile, connections."""

from privacy import registry
from privacy.activitystreams import absolute, actor_id, iso
from privacy.registry import Custom, Delete


def _consents_to_proof(queryset, *, field, user, options) -> int:
    """Consents are kept only as anonymous proof: what was granted or revoked, when, where and
    under which policy version, with no link to the shopper (see privacy.ConsentProof)."""
    from privacy.models import ConsentProof

    rows = list(
        queryset.values("category", "action", "source", "provider", "policy_version", "created_at")
    )
    ConsentProof.objects.bulk_create(
        [ConsentProof(erasure_id=options.erasure_id, **row) for row in rows]
    )
    queryset.delete()
    return len(rows)


registry.register(
    "social.ConsentRecord",
    kind="consents",
    description="Every time you granted or withdrew permission to use a kind of social data, "
    "with the privacy policy version in force. After erasure we keep only an anonymous proof of "
    "what was granted and when.",
    fields={
        "category": "The kind of data (basic, age, birthday, gender, relationship, interests, "
        "friends).",
        "action": "granted or revoked.",
        "source": "Where: permission_screen, privacy_page or disconnect.",
        "provider": "The social network concerned.",
        "policy_version": "The privacy policy version you agreed to.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Custom(fn=_consents_to_proof, label="kept as anonymous proof"),
)

registry.register(
    "social.SocialProfile",
    kind="social_profile",
    description="What you chose to share from a social account (only the categories you "
    "granted), used to personalize the store.",
    fields={
        "provider": "The social network it came from.",
        "display_name": "Your name there.",
        "age_band": "Your age band (never the birth date).",
        "birthday_month": "Birthday month (1-12), if you shared your birthday.",
        "birthday_day": "Birthday day of the month.",
        "gender": "Gender, if shared.",
        "relationship_status": "Relationship status, if shared.",
        "interests": "Interests and pages you like (at most 50).",
        "updated_at": "When it was last refreshed (UTC, ISO 8601).",
    },
    erase=Delete(),
)


def export_follows(user) -> list[dict]:
    from .models import Connection

    rows = Connection.objects.filter(follower=user).select_related("followed__public_profile")
    out = []
    for edge in rows.order_by("created_at", "pk"):
        profile = getattr(edge.followed, "public_profile", None)
        out.append(
            {
                "kind": edge.kind,
                "followed": profile.handle if profile else f"shopper {edge.followed_id}",
                "created_at": edge.created_at,
            }
        )
    return out


def follows_as_activities(user) -> list[dict]:
    from .models import Connection

    rows = Connection.objects.filter(follower=user).select_related("followed__public_profile")
    me = actor_id(user)
    out = []
    for edge in rows.order_by("created_at", "pk"):
        profile = getattr(edge.followed, "public_profile", None)
        target = absolute(profile.get_absolute_url()) if profile and profile.is_public else None
        out.append(
            {
                "type": "Follow",
                "actor": me,
                "object": target or f"urn:agora:shopper:{edge.followed_id}",
                "published": iso(edge.created_at),
                "summary": "Follows on Agora"
                if edge.kind == "follow"
                else "Friend on a social network",
            }
        )
    return out


registry.register(
    "social.Connection",
    kind="follows",
    description="The shoppers you follow and your friends from a social network who also shop "
    "here. Those who follow you are not listed (that is their data), but they stop following "
    "you when your account is erased.",
    owner="follower",
    fields={
        "kind": "follow (on Agora) or friend (from a social network).",
        "followed": "Their profile handle.",
        "created_at": "Since when (UTC, ISO 8601).",
    },
    export=export_follows,
    activity_streams=follows_as_activities,
    erase=Delete(),
    references={"followed": Delete()},
)
