"""Privacy export and erasure of one shopper with 10,000 events (issue 13: each <= 5 s).

Rows: privacy.export (building the whole "Download my data" zip through the registry, as the
Celery task does) and privacy.erasure (the registry-driven erasure in one transaction, as the
task does). The shopper also has orders, a cart, likes, a review, consents and a social
profile. Each run makes a fresh shopper and removes what it left behind afterwards.
"""

import time
from decimal import Decimal

from django.db import connection

EVENTS = 10_000
RUNS = 3

EVENTS_SQL = """
INSERT INTO personalization_event (kind, user_id, session_key, product_id, attributes, value,
    occurred_at)
SELECT (ARRAY['view','view','view','add_to_cart','like','search','purchase'])[1 + g %% 7],
    %(user)s, '', %(product)s,
    jsonb_build_object('bench', 'privacy', 'colour', 'Blue', 'query', 'telescope ' || g),
    NULL, now() - (g || ' minutes')::interval
FROM generate_series(1, %(events)s) g;
"""


def _product():
    from shop.models import Brand, Category, Product, ShippingMethod, Variant

    category, _ = Category.objects.get_or_create(slug="bench-privacy", defaults={"name": "Bench"})
    brand, _ = Brand.objects.get_or_create(slug="bench-privacy", defaults={"name": "Bench P"})
    product, _ = Product.objects.get_or_create(
        slug="bench-privacy-product",
        defaults={
            "name": "Bench privacy product",
            "category": category,
            "brand": brand,
            "price": Decimal("20.00"),
        },
    )
    Variant.objects.get_or_create(
        sku="BENCH-PRIVACY", defaults={"product": product, "stock": 1_000_000}
    )
    shipping, _ = ShippingMethod.objects.get_or_create(
        code="bench-privacy", defaults={"name": "Bench", "price": Decimal("1.00")}
    )
    return product, shipping


def make_shopper(n: int, product, shipping):
    """A shopper with 10,000 events, 5 orders, a cart, a like, a review, consents, a profile."""
    from django.contrib.auth import get_user_model

    from shop.models import Cart, CartItem, Order, OrderLine
    from social import services as social_services
    from social.engagement.models import Like
    from social.reviews.models import Review

    user = get_user_model().objects.create_user(
        f"privacy-bench-{n}-{time.time_ns()}", f"privacy-bench-{n}@bench.test", None
    )
    user.first_name = "Bench"
    user.save()
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, {"user": user.pk, "product": product.pk, "events": EVENTS})
    for i in range(5):
        order = Order.objects.create(
            number=f"PB{user.pk}-{i}",
            user=user,
            email=user.email,
            full_name="Bench Shopper",
            line1="1 Bench Street",
            city="Benchtown",
            postcode="12345",
            shipping_method=shipping,
            subtotal=product.price,
            shipping_cost=Decimal("0"),
            total=product.price,
            payment_gateway="test",
            payment_reference="bench",
        )
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            sku="BENCH-PRIVACY",
            unit_price=product.price,
            quantity=1,
            line_total=product.price,
        )
    cart = Cart.objects.create(user=user)
    CartItem.objects.create(cart=cart, variant=product.variants.first(), quantity=1)
    from django.contrib.contenttypes.models import ContentType

    Like.objects.create(
        user=user, content_type=ContentType.objects.get_for_model(product), object_id=product.pk
    )
    Review.objects.create(product=product, author=user, rating=5, title="Good", body="Fine.")
    social_services.consent_apply_sign_in(
        user=user, provider="friendbook", granted=["basic", "interests"], profile={}
    )
    return user


def run(*, shoppers: int, events: int) -> list[dict]:
    from django.test.utils import override_settings

    from config.celery import eager_tasks

    # The "your data is ready" email goes to memory: there is no SMTP server in the bench.
    # Tasks queued while making data run here, and only here: left eager, the next module in
    # `make bench` (outreach) sent its outbox in-process to no SMTP server and failed.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        eager_tasks(),
    ):
        return _run()


def _run() -> list[dict]:
    from privacy import services
    from privacy.exporting import export_file_delete
    from privacy.models import DataExport, ErasureRequest

    def log(message):
        print(f"[privacy] {message}", flush=True)

    product, shipping = _product()
    export_times, erase_times = [], []
    for n in range(RUNS):
        user = make_shopper(n, product, shipping)
        export = DataExport.objects.create(user=user)
        started = time.perf_counter()
        export = services.export_build(export_id=export.pk)
        export_times.append(time.perf_counter() - started)
        log(
            f"export of {EVENTS:,} events: {export_times[-1]:.3f} s, "
            f"{export.size_bytes / 1e6:.1f} MB, {len(export.files)} files"
        )
        export_file_delete(export)

        erasure = ErasureRequest.objects.create(user=user)  # due at once, as after the grace
        started = time.perf_counter()
        erasure = services.erasure_run(erasure_id=erasure.pk)
        erase_times.append(time.perf_counter() - started)
        assert erasure.status == "done", erasure.status
        log(f"erasure: {erase_times[-1]:.3f} s, {sum(erasure.summary.values()):,} rows")
        with connection.cursor() as cursor:  # what the run left behind (detached events)
            cursor.execute(
                "DELETE FROM personalization_event WHERE user_id IS NULL "
                "AND attributes->>'bench' = 'privacy'"
            )
    size = f"1 shopper, {EVENTS:,} events, 5 orders, likes, a review, consents"
    return [
        {
            "name": "privacy.export",
            "value": round(min(export_times), 3),
            "unit": "s",
            "size": size,
            "reference": f"target <= 5 s; best of {RUNS}; whole zip through the registry",
        },
        {
            "name": "privacy.erasure",
            "value": round(min(erase_times), 3),
            "unit": "s",
            "size": size,
            "reference": f"target <= 5 s; best of {RUNS}; one transaction through the registry",
        },
    ]
