"""The sections, timeline sources and dashboard panels of the apps that exist today.

Features that land later (segments, loyalty, outreach) register theirs the same way; the
``optional`` block at the end registers them only when the feature's app is installed.
"""

from django.apps import apps
from django.db.models import F, Value
from django.db.models.functions import Concat

from . import dashboard, sections, selectors
from .timeline import annotate, kind


def _identity(*, customer, request):
    states, history = selectors.consent_state(customer)
    request._crm_consents = states  # the social section reuses them (no second query)
    return {
        "fields": selectors.first_party_fields(customer),
        "tags": selectors.tags_of(customer),
    }


def _consents(*, customer, request):
    states = getattr(request, "_crm_consents", None)
    if states is None:
        states, history = selectors.consent_state(customer)
    else:
        from social.selectors import consent_history

        history = list(consent_history(customer)[:20])
    return {"states": states, "history": history[:20]}


def _social(*, customer, request):
    states = getattr(request, "_crm_consents", None) or selectors.consent_state(customer)[0]
    return {"fields": selectors.social_fields(customer, states)}


def _profile(*, customer, request):
    from personalization.selectors import load_profile, personalization_enabled

    profile = load_profile(user_id=customer.pk)
    request._crm_profile = profile
    dims = []
    if profile:
        from personalization.selectors import DIMENSION_LABELS

        for dimension, items in profile.interests.items():
            dims.append({"label": DIMENSION_LABELS.get(dimension, dimension), "items": items[:5]})
    return {
        "profile": profile,
        "enabled": profile is not None or personalization_enabled(user=customer),
        "dimensions": dims,
    }


def _score(*, customer, request):
    if not hasattr(request, "_crm_profile"):
        from personalization.selectors import load_profile

        request._crm_profile = load_profile(user_id=customer.pk)
    influence = selectors.influence_of(customer)
    request._crm_influence = influence
    score = selectors.engagement_score(
        profile=request._crm_profile,
        activity=selectors.activity_counts(customer),
        influence=influence,
    )
    return {"score": score, "profile": request._crm_profile}


def _orders(*, customer, request):
    from shop.models import Order

    orders = list(Order.objects.filter(user=customer).order_by("-created_at")[:10])
    return {"orders": orders}


def _content(*, customer, request):
    from social.forums.models import Post
    from social.reviews.models import Review

    reviews = list(
        Review.objects.filter(author=customer)
        .select_related("product")
        .order_by("-created_at")[:10]
    )
    posts = list(
        Post.objects.filter(author=customer, is_deleted=False)
        .select_related("topic")
        .order_by("-created_at")[:10]
    )
    return {"reviews": reviews, "posts": posts}


def _engagement(*, customer, request):
    from social.engagement.models import ReferralAttribution
    from social.engagement.selectors import hydrate, likes_of

    likes = hydrate(likes_of(customer)[:10])
    links = list(_share_links(customer))
    influence = getattr(request, "_crm_influence", None) or selectors.influence_of(customer)
    brought = list(
        ReferralAttribution.objects.filter(sharer=customer)
        .select_related("order")
        .order_by("-created_at")[:10]
    )
    return {"likes": likes, "links": links, "influence": influence, "brought": brought}


def _share_links(customer):
    from django.db.models import Count

    from social.engagement.models import ShareLink

    return (
        ShareLink.objects.filter(sharer=customer)
        .annotate(visit_count=Count("visits", distinct=True))
        .annotate(order_count=Count("attributions", distinct=True))
        .order_by("-created_at")[:10]
    )


def _graph(*, customer, request):
    return selectors.graph_of(customer)


def _work(*, customer, request):
    return {
        "notes": selectors.notes_of(customer),
        "tasks": selectors.tasks_of(customer),
        "can_note": request.user.has_perm("crm.add_note"),
        "can_task": request.user.has_perm("crm.add_task"),
        "can_tag": request.user.has_perm("crm.add_customertag"),
    }


#: The customer 360's own sections: (key, title, context, order, column, permission). Each
#: renders ``crm/sections/<key>.html``; other apps add theirs with ``crm.sections.register``.
CORE_SECTIONS = [
    ("identity", "Identity and contact", _identity, 10, "side", ""),
    ("score", "Engagement score", _score, 15, "side", ""),
    ("consents", "Consent", _consents, 20, "side", ""),
    ("social", "Social profile (shared by the shopper)", _social, 25, "side", ""),
    ("graph", "Social graph", _graph, 30, "side", ""),
    ("profile", "Preference profile", _profile, 10, "main", ""),
    ("orders", "Orders", _orders, 20, "main", "shop.view_order"),
    ("content", "Reviews and posts", _content, 30, "main", ""),
    ("engagement", "Likes, shares and what they brought", _engagement, 40, "main", ""),
    ("work", "Notes and tasks", _work, 5, "main", "crm.view_note"),
]


def register_core() -> None:
    for key, title, context, order, column, permission in CORE_SECTIONS:
        sections.register(
            key=key,
            title=title,
            template=f"crm/sections/{key}.html",
            context=context,
            order=order,
            column=column,
            permission=permission,
        )

    from personalization.models import Event
    from shop.models import OrderEvent
    from social.models import ConsentRecord

    from .models import Note, Task

    sections.register_timeline(
        key="events",
        queryset=lambda uid: annotate(
            Event.objects.filter(user_id=uid),
            at="occurred_at",
            kind=kind("event", "kind"),
            summary=F("product__name"),
        ),
        labels={f"event:{v}": label for v, label in Event.Kind.choices},
    )
    sections.register_timeline(
        key="orders",
        queryset=lambda uid: annotate(
            OrderEvent.objects.filter(order__user_id=uid),
            at="created_at",
            kind=kind("order", "kind"),
            summary=Concat(F("order__number"), Value(" "), F("message")),
        ),
        labels={
            "order:placed": "Order placed",
            "order:status": "Order status changed",
            "order:referral": "Order came through a share",
        },
    )
    sections.register_timeline(
        key="consents",
        queryset=lambda uid: annotate(
            ConsentRecord.objects.filter(user_id=uid),
            at="created_at",
            kind=kind("consent", "action"),
            summary=Concat(F("category"), Value(" ("), F("source"), Value(")")),
        ),
        labels={"consent:granted": "Consent granted", "consent:revoked": "Consent revoked"},
    )
    sections.register_timeline(
        key="notes",
        queryset=lambda uid: annotate(
            Note.objects.filter(customer_id=uid),
            at="created_at",
            kind=kind("crm", fixed="note"),
            summary=F("body"),
        ),
        labels={"crm:note": "Staff note"},
    )
    sections.register_timeline(
        key="tasks",
        queryset=lambda uid: annotate(
            Task.objects.filter(customer_id=uid),
            at="created_at",
            kind=kind("crm", fixed="task"),
            summary=F("title"),
        ),
        labels={"crm:task": "Follow-up task created"},
    )
    dashboard.register_core_panels()
    _optional()


def _optional() -> None:
    """Sections of features that may not be installed yet (see docs/crm.md)."""
    if apps.is_installed("personalization.segments"):
        from . import optional_segments

        optional_segments.register()
    if apps.is_installed("personalization.loyalty"):
        from . import optional_features

        optional_features.register_loyalty()
    if apps.is_installed("personalization.outreach"):
        from . import optional_features

        optional_features.register_outreach()
