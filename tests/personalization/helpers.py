"""Helpers for the personalization tests: events made the way the store records them."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from personalization import events
from personalization.models import Event, PreferenceProfile
from shop.models import Variant
from tests.factories import ProductFactory


def catalogue():
    """Three products with distinct attributes and a sized variant each."""
    products = [
        ProductFactory(name="Trail Shoe", colour="Blue", style="Rugged", price=Decimal("80")),
        ProductFactory(name="City Bag", colour="Black", style="Classic", price=Decimal("20")),
        ProductFactory(name="Camera", colour="Silver", style="Compact", price=Decimal("450")),
    ]
    for product, size in zip(products, ["42", "M", ""], strict=True):
        Variant.objects.filter(product=product).update(size=size)
    return products


def activity(user, products, *, days_ago=0, order="A1"):
    """A little history: views, a cart add, a purchase, a like and a text signal."""
    now = timezone.now() - timedelta(days=days_ago)
    shoe, bag, camera = products
    variant = shoe.variants.first()
    for product in (shoe, bag, camera, shoe):
        events.record(Event.Kind.VIEW, user=user, product=product, occurred_at=now)
    events.record(
        Event.Kind.ADD_TO_CART,
        user=user,
        product=shoe,
        value=shoe.price,
        occurred_at=now,
        quantity=1,
        variant=variant.pk,
    )
    for product in (shoe, bag):
        events.record(
            Event.Kind.PURCHASE,
            user=user,
            product=product,
            value=product.price,
            occurred_at=now,
            quantity=1,
            order=order,
        )
    events.record(Event.Kind.LIKE, user=user, product=camera, occurred_at=now)
    events.record_text_signal(
        user=user,
        sentiment=0.5,
        intent="replacement",
        category_id=shoe.category_id,
        expires_at=now + timedelta(days=10),
        occurred_at=now,
    )


FIELDS = [
    "event_count",
    "first_event_at",
    "last_event_at",
    "order_count",
    "monetary",
    "last_purchase_at",
    "first_purchase_at",
    "sentiment_count",
    "intents",
    "demographics",
]


def snapshot() -> dict:
    """Every stored profile, for comparing two ways of building them."""
    return {
        p.user_id: {
            **{name: getattr(p, name) for name in FIELDS},
            "sentiment_sum": p.sentiment_sum,
            "affinities": dict(p.affinities),
        }
        for p in PreferenceProfile.objects.all()
    }


def assert_same_profiles(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for user_id, a in left.items():
        b = right[user_id]
        for name in FIELDS:
            assert a[name] == b[name], (user_id, name)
        assert abs(a["sentiment_sum"] - b["sentiment_sum"]) < 1e-9
        assert a["affinities"].keys() == b["affinities"].keys(), user_id
        for key, raw in a["affinities"].items():
            assert abs(raw - b["affinities"][key]) <= 1e-9 * abs(raw), (user_id, key)
