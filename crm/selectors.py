"""Read-side queries of the CRM: the customer list, the 360 page's parts, influence, duplicates.

Every function runs a constant number of queries, whatever the customer's history.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from shop.money import money

from .models import AuditEntry, CustomerTag, Note, Task

User = get_user_model()


def customers() -> QuerySet:
    """Shoppers (not staff), with what the list shows joined in one query."""
    return User.objects.filter(is_staff=False).select_related("preference_profile")


def tags_of(user) -> list[CustomerTag]:
    return list(CustomerTag.objects.filter(user=user).select_related("tag", "added_by"))


def notes_of(user, limit: int = 20) -> list[Note]:
    return list(Note.objects.filter(customer=user).select_related("author")[:limit])


def tasks_of(user, limit: int = 20) -> list[Task]:
    return list(
        Task.objects.filter(customer=user)
        .select_related("assignee")
        .order_by(F("done_at").desc(nulls_first=True), "due_on")[:limit]
    )


def open_tasks(*, assignee=None) -> QuerySet[Task]:
    """Open follow-ups, earliest due first; ``assignee`` narrows to one staff member."""
    qs = Task.objects.filter(done_at__isnull=True).select_related("customer", "assignee")
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    return qs.order_by("due_on", "pk")


def audit_for(user, limit: int = 20) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(customer=user).select_related("actor")[:limit]


# --- consent and social data ---------------------------------------------------------------


@dataclass(frozen=True)
class ConsentState:
    code: str
    title: str
    granted: bool
    since: datetime | None
    provider: str


def consent_state(user) -> tuple[list[ConsentState], list]:
    """(current state per category of the permission screen, the full history newest first).

    One query: the history, from which the latest record per category is the state.
    """
    from social import consent
    from social.selectors import consent_history

    history = list(consent_history(user))
    latest = {}
    for record in history:
        latest.setdefault(record.category, record)
    states = []
    for code, category in consent.CATEGORIES.items():
        record = latest.get(code)
        states.append(
            ConsentState(
                code=code,
                title=category.title,
                granted=bool(record and record.action == "granted"),
                since=record.created_at if record else None,
                provider=record.provider if record else "",
            )
        )
    return states, history


@dataclass(frozen=True)
class SourcedField:
    """A piece of data with where it came from: the label staff read next to it."""

    label: str
    value: str
    source: str  # "Friendbook", "Given to the store", ...
    shared_at: datetime | None = None
    verified: bool = False
    verb: str = "shared"  # "shared" from a network, "given" to the store

    @property
    def source_label(self) -> str:
        parts = [f"from {self.source}"]
        if self.shared_at:
            parts.append(f"{self.verb} {self.shared_at:%-d %b %Y}")
        parts.append("verified" if self.verified else "not verified")
        return ", ".join(parts)


def _provider_name(provider_id: str) -> str:
    try:
        from allauth.socialaccount.adapter import get_adapter

        return get_adapter().get_provider(None, provider_id).name
    except Exception:  # an unconfigured provider still has a readable id
        return provider_id.replace("_", " ").title()


def social_fields(user, states: list[ConsentState]) -> list[SourcedField]:
    """The social profile's fields, each with its provider, share date and "not verified".

    Only categories granted right now appear (``social.selectors.social_profile`` drops the
    rest), so revoking a category removes its field from the 360 page.
    """
    from social import consent
    from social.models import SocialProfile
    from social.selectors import held_data, social_profile

    profile = social_profile(user)
    if profile is None:
        return []
    since = {s.code: s.since for s in states if s.granted}
    held = held_data(profile)
    source = _provider_name(profile.provider)
    gender = dict(SocialProfile.Gender.choices)
    relationship = dict(SocialProfile.Relationship.choices)
    values = {
        consent.BASIC: ("Name on the network", profile.display_name),
        consent.AGE: ("Age band", profile.age_band),
        consent.BIRTHDAY: ("Birthday", held.get(consent.BIRTHDAY, "")),
        consent.GENDER: ("Gender", gender.get(profile.gender, "")),
        consent.RELATIONSHIP: (
            "Relationship status",
            relationship.get(profile.relationship_status, ""),
        ),
        consent.INTERESTS: ("Interests", ", ".join(profile.interests)),
        consent.FRIENDS: ("Friends who shop here", held.get(consent.FRIENDS, "")),
    }
    result = []
    for code, (label, value) in values.items():
        if code in profile.categories and value:
            result.append(SourcedField(label, value, source, since.get(code), verified=False))
    return result


def first_party_fields(user) -> list[SourcedField]:
    """What the shopper gave the store directly: account and last order's contact details."""
    from allauth.account.models import EmailAddress

    from shop.models import Order

    verified = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True)
    last_order = (
        Order.objects.filter(user=user)
        .order_by("-created_at")
        .values("full_name", "phone", "line1", "city", "postcode", "country", "created_at")
        .first()
    )
    name = f"{user.first_name} {user.last_name}".strip()
    fields = [
        SourcedField(
            "Email", user.email, "the account", user.date_joined, verified.exists(), "given"
        ),
    ]
    if name:
        fields.append(SourcedField("Name", name, "the account", user.date_joined, verb="given"))
    if last_order:
        at = last_order["created_at"]
        if last_order["phone"]:
            fields.append(
                SourcedField("Phone", last_order["phone"], "the last order", at, verb="given")
            )
        address = ", ".join(
            p
            for p in (
                last_order["line1"],
                f"{last_order['postcode']} {last_order['city']}".strip(),
                last_order["country"],
            )
            if p
        )
        fields.append(SourcedField("Delivery address", address, "the last order", at, verb="given"))
    return fields


# --- the social graph and influence --------------------------------------------------------


def graph_of(user, limit: int = 12) -> dict:
    """Who the customer follows, who follows them, and their friends who shop here.

    Friends come only from consented data: none unless the customer grants the friends
    category right now.
    """
    from social import consent
    from social.models import Connection
    from social.selectors import granted_categories

    edges = Connection.objects.select_related("followed", "follower")
    following = Connection.objects.filter(follower=user, kind=Connection.Kind.FOLLOW)
    followers = Connection.objects.filter(followed=user, kind=Connection.Kind.FOLLOW)
    friends = []
    if consent.FRIENDS in granted_categories(user):
        friends = [
            e.followed
            for e in edges.filter(follower=user, kind=Connection.Kind.FRIEND).order_by("-pk")[
                :limit
            ]
        ]
    return {
        "following": [e.followed for e in edges.filter(pk__in=following).order_by("-pk")[:limit]],
        "following_count": following.count(),
        "followers": [e.follower for e in edges.filter(pk__in=followers).order_by("-pk")[:limit]],
        "followers_count": followers.count(),
        "friends": friends,
    }


@dataclass
class Influence:
    shares: int = 0
    visits: int = 0
    signups: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0.00")
    review_likes: int = 0
    helpful_votes: int = 0

    @property
    def total(self) -> int:
        """Points: a visit 1, a like or helpful vote on a review 1, a sign-up 5, an order 10."""
        return (
            self.visits
            + self.review_likes
            + self.helpful_votes
            + 5 * self.signups
            + 10 * self.orders
        )


def influence_table() -> QuerySet:
    """Every shopper with any influence, annotated with its parts (sortable by any of them).

    Sign-ups: orders attributed to a share whose buyer's account was created after the
    visit through the link (the share brought a new customer).
    """
    from django.contrib.contenttypes.models import ContentType

    from social.engagement.models import Like, ReferralAttribution, ShareLink, ShareVisit
    from social.reviews.models import Review

    def count(qs, outer="pk"):
        return Coalesce(
            Subquery(qs.order_by().values("grp").annotate(n=Count("*")).values("n")[:1]),
            0,
        )

    review_type = ContentType.objects.get_for_model(Review)
    visits = ShareVisit.objects.filter(link__sharer=OuterRef("pk")).annotate(grp=F("link__sharer"))
    attributions = ReferralAttribution.objects.filter(sharer=OuterRef("pk")).annotate(
        grp=F("sharer")
    )
    signups = attributions.filter(order__user__date_joined__gte=F("visited_at"))
    revenue = Coalesce(
        Subquery(
            attributions.order_by().values("grp").annotate(s=Sum("order__total")).values("s")[:1]
        ),
        Decimal("0.00"),
    )
    shares = Coalesce(
        Subquery(
            ShareLink.objects.filter(sharer=OuterRef("pk"))
            .annotate(grp=F("sharer"))
            .order_by()
            .values("grp")
            .annotate(s=Sum("shares"))
            .values("s")[:1]
        ),
        0,
    )
    review_ids = Review.objects.filter(author=OuterRef(OuterRef("pk"))).values("pk")
    review_likes = Like.objects.filter(content_type=review_type, object_id__in=review_ids).annotate(
        grp=F("content_type")
    )
    helpful = Coalesce(
        Subquery(
            Review.objects.filter(author=OuterRef("pk"))
            .annotate(grp=F("author"))
            .order_by()
            .values("grp")
            .annotate(s=Sum("helpful_count"))
            .values("s")[:1]
        ),
        0,
    )
    has_any = Q(Exists(ShareLink.objects.filter(sharer=OuterRef("pk")))) | Q(
        Exists(Review.objects.filter(author=OuterRef("pk")))
    )
    return (
        User.objects.filter(has_any, is_staff=False)
        .annotate(
            inf_shares=shares,
            inf_visits=count(visits),
            inf_signups=count(signups),
            inf_orders=count(attributions),
            inf_revenue=revenue,
            inf_review_likes=count(review_likes),
            inf_helpful=helpful,
        )
        .annotate(
            inf_total=F("inf_visits")
            + F("inf_review_likes")
            + F("inf_helpful")
            + 5 * F("inf_signups")
            + 10 * F("inf_orders")
        )
    )


def influence_of(user) -> Influence:
    row = influence_table().filter(pk=user.pk).first()
    if row is None:
        return Influence()
    return Influence(
        shares=row.inf_shares,
        visits=row.inf_visits,
        signups=row.inf_signups,
        orders=row.inf_orders,
        revenue=row.inf_revenue,
        review_likes=row.inf_review_likes,
        helpful_votes=row.inf_helpful,
    )


# --- engagement score ----------------------------------------------------------------------


@dataclass
class ScorePart:
    label: str
    points: int
    out_of: int
    why: str


@dataclass
class EngagementScore:
    parts: list[ScorePart] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.points for p in self.parts)

    @property
    def out_of(self) -> int:
        return sum(p.out_of for p in self.parts)


def engagement_score(*, profile, activity: dict, influence: Influence) -> EngagementScore:
    """A 0–100 score explained by its parts (RFM scoring in the usual 0–20 bands per part).

    Recency: 20 within 30 days of the last purchase, 10 within 90, 5 within 365.
    Frequency: 4 points an order, at most 20. Monetary: a point per €25 spent, at most 20.
    Social: 2 points a like, share, review or post in the last year's events, at most 20.
    Influence: the influence points (``Influence.total``), at most 20.
    """
    recency = profile.recency_days if profile else None
    if recency is None:
        r, why_r = 0, "no purchase yet"
    elif recency <= 30:
        r, why_r = 20, f"last purchase {recency} days ago"
    elif recency <= 90:
        r, why_r = 10, f"last purchase {recency} days ago"
    elif recency <= 365:
        r, why_r = 5, f"last purchase {recency} days ago"
    else:
        r, why_r = 0, f"last purchase {recency} days ago"
    frequency = profile.frequency if profile else 0
    monetary = profile.monetary if profile else 0.0
    social = sum(activity.get(k, 0) for k in ("like", "share", "review", "forum_post"))
    return EngagementScore(
        [
            ScorePart("Recency", r, 20, why_r),
            ScorePart("Frequency", min(20, 4 * frequency), 20, f"{frequency} orders"),
            ScorePart(
                "Monetary",
                min(20, int(monetary // 25)),
                20,
                f"{money(monetary)} spent",
            ),
            ScorePart(
                "Social", min(20, 2 * social), 20, f"{social} likes, shares, reviews and posts"
            ),
            ScorePart(
                "Influence",
                min(20, influence.total),
                20,
                f"{influence.visits} visits, {influence.signups} sign-ups, "
                f"{influence.orders} orders brought",
            ),
        ]
    )


def activity_counts(user, *, days: int = 365) -> dict[str, int]:
    """Events per kind in the last ``days`` days (one grouped query)."""
    from personalization.models import Event

    since = timezone.now() - timezone.timedelta(days=days)
    return dict(
        Event.objects.filter(user=user, occurred_at__gte=since)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("*"))
    )


# --- duplicates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePair:
    first_id: int
    second_id: int
    reason: str


#: A key (normalized email, phone, name and address) shared by more customers than this is a
#: placeholder or a shared place (a pick-up point, a company switchboard, "Bench Shopper, 1 Road"
#: on 95,000 bench orders), not one person with two accounts: it yields no pairs. Without the
#: bound the pairs of one such key grow with the square of its customers (4.5 billion for the
#: bench's orders: the finder never returned).
DUPLICATE_MAX_GROUP = 10


def duplicate_pairs(limit: int = 200) -> list[DuplicatePair]:
    """Likely duplicate active customers, in SQL: the same normalized email (lower case, no
    ``+tag``, no dots in the local part of Gmail addresses), the same phone (digits only, last
    9), or the same name and address on an order (lower case, spaces squeezed).

    Pairs are (lower id, higher id), each reported once with the first reason found, ordered
    by id, at most ``limit``. Keys shared by more than ``DUPLICATE_MAX_GROUP`` customers give
    none, so the work grows with the number of customers and orders, never with its square.
    """
    from django.db import connection, transaction

    sql = """
    WITH u AS (
        SELECT id,
          CASE WHEN d.domain IN ('gmail.com', 'googlemail.com')
            THEN replace(d.local, '.', '') || '@gmail.com'
            ELSE d.local || '@' || d.domain END AS email_key
        FROM auth_user
        CROSS JOIN LATERAL (SELECT lower(trim(email)) AS e) AS l
        CROSS JOIN LATERAL (SELECT split_part(split_part(l.e, '@', 1), '+', 1) AS local,
                                   split_part(l.e, '@', 2) AS domain) AS d
        WHERE is_active AND NOT is_staff AND email <> ''
    ), o AS (
        SELECT DISTINCT o.user_id AS id,
          -- the digits: translate drops every character of the phone that is not a digit
          -- (regexp_replace with 'g' cost ~1 us a row)
          right(translate(o.phone, translate(o.phone, '0123456789', ''), ''), 9) AS phone_key,
          regexp_replace(lower(o.full_name), '\\s+', ' ', 'g') || '|'
            || regexp_replace(lower(o.line1), '\\s+', ' ', 'g') || '|'
            || regexp_replace(lower(o.postcode), '\\s+', '', 'g') AS address_key
        -- the expressions once per distinct address, the customers' flags once per address
        FROM (SELECT DISTINCT user_id, phone, full_name, line1, postcode FROM shop_order) AS o
        JOIN auth_user au ON au.id = o.user_id
        WHERE au.is_active AND NOT au.is_staff
    ), keyed AS (
        SELECT 1 AS rank, email_key AS k, id FROM u
        UNION ALL
        SELECT 2, phone_key, id FROM o WHERE length(phone_key) >= 6
        UNION ALL
        SELECT 3, address_key, id FROM o
    ), groups AS (
        SELECT rank, array_agg(DISTINCT id ORDER BY id) AS ids
        FROM keyed GROUP BY rank, k
        HAVING count(DISTINCT id) BETWEEN 2 AND %(max_group)s
    ), pairs AS (
        SELECT g.ids[i] AS first, g.ids[j] AS second, g.rank
        FROM groups g
        CROSS JOIN LATERAL generate_subscripts(g.ids, 1) AS i
        CROSS JOIN LATERAL generate_subscripts(g.ids, 1) AS j
        WHERE i < j
    )
    SELECT DISTINCT ON (first, second) first, second,
           (ARRAY['same email', 'same phone', 'same name and address'])[rank]
    FROM pairs ORDER BY first, second, rank LIMIT %(limit)s
    """
    if connection.vendor != "postgresql" or User._meta.db_table != "auth_user":
        return _duplicate_pairs_python(limit)
    with transaction.atomic(), connection.cursor() as cursor:
        # its sorts (~300,000 order keys) spilled to disk at the default 4 MB
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, {"limit": limit, "max_group": DUPLICATE_MAX_GROUP})
        return [DuplicatePair(a, b, reason) for a, b, reason in cursor.fetchall()]


def normalize_email(email: str) -> str:
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _duplicate_pairs_python(limit: int) -> list[DuplicatePair]:
    """The same rules for SQLite (the embedded demo), in Python."""
    import re

    from shop.models import Order

    keys: dict[tuple[str, str], list[int]] = {}
    for pk, email in (
        customers().filter(is_active=True).exclude(email="").values_list("pk", "email")
    ):
        keys.setdefault(("same email", normalize_email(email)), []).append(pk)
    for pk, phone, name, line1, postcode in Order.objects.filter(
        user__is_active=True, user__is_staff=False
    ).values_list("user_id", "phone", "full_name", "line1", "postcode"):
        digits = re.sub(r"\D", "", phone)[-9:]
        if len(digits) >= 6:
            keys.setdefault(("same phone", digits), []).append(pk)
        squeeze = lambda s: re.sub(r"\s+", " ", s.lower())  # noqa: E731
        address = f"{squeeze(name)}|{squeeze(line1)}|{postcode.lower().replace(' ', '')}"
        keys.setdefault(("same name and address", address), []).append(pk)
    rank = {"same email": 1, "same phone": 2, "same name and address": 3}
    found: dict[tuple[int, int], str] = {}
    for (reason, _), ids in sorted(keys.items(), key=lambda kv: rank[kv[0][0]]):
        ids = sorted(set(ids))
        if len(ids) > DUPLICATE_MAX_GROUP:
            continue  # a placeholder or a shared place, not one person (see the constant)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                found.setdefault((a, b), reason)
    return [DuplicatePair(a, b, r) for (a, b), r in sorted(found.items())][:limit]


def currency() -> str:
    return getattr(settings, "AGORA_CURRENCY", "EUR")
