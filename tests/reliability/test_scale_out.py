"""Scaling out (issue 15): two web servers and two Celery workers on one database and one Redis.

Two gunicorn servers (each with its own worker processes, as two machines would run them) and two
Celery workers serve the test database and Redis. Shoppers signed in on either server race for
the last units of one variant (add to cart, check out with an approving card), like the same
products and write reviews whose analysis runs as a task on whichever worker takes it. Nothing
may conflict: no 5xx, stock never negative and equal to the initial stock minus what the orders
sold, one order per approved payment, and every task's work done exactly once (one confirmation
email per order, one text signal per review).
"""

import threading

import pytest
from django.db import connection

from bench import soak
from config import mailsink
from shop.consistency import Baseline, check_all
from shop.models import Order, OrderLine, Variant
from social.reviews.models import Review

from .stack import Workers, database_url, free_port, stack_env, wait_for, web

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]

SHOPPERS = 6
LAST_UNITS = 3  # fewer units than shoppers: some must be refused


def _shop(shopper: soak.Shopper, store: dict, item: dict, barrier: threading.Barrier) -> None:
    """Sign in, like, review, then (all at once) buy one of the last units."""
    if not shopper.sign_in():
        return
    for product in store["products"]:
        shopper.request("like", "POST", f"/likes/product/{product['id']}/", data={"liked": "1"})
    shopper.act("review")
    barrier.wait(timeout=120)
    added = shopper.request(
        "cart", "POST", "/cart/add/", data={"variant": item["variant"], "quantity": "1"}
    )
    if added is None or added.status_code >= 400:
        return
    page = shopper.request("checkout", "GET", "/checkout/")
    if page is None or page.status_code != 200:
        return
    quote = shopper.QUOTE.search(page.text)
    shipping = shopper.SHIPPING.search(page.text)
    form = {
        "email": shopper.email,
        "full_name": "Scale Shopper",
        "line1": "1 Load Street",
        "city": "Berlin",
        "postcode": "10115",
        "country": "DE",
        "shipping_method": shipping.group(1) if shipping else "",
        "card_number": soak.APPROVE,
        "card_expiry": "12/35",
        "card_cvc": "123",
        "quote": quote.group(1) if quote else "",
    }
    shopper.request("pay-approve", "POST", "/checkout/", data=form)


def test_two_web_servers_and_two_workers_share_one_database_and_broker(settings, tmp_path):
    store = soak.prepare_store(shoppers=SHOPPERS, products=2, stock=LAST_UNITS)
    item = store["products"][0]
    Variant.objects.filter(pk=item["variant"]).update(stock=LAST_UNITS)
    baseline = Baseline.take()
    assert baseline.stock[str(item["variant"])] == LAST_UNITS
    mail_port, ports = free_port(), [free_port(), free_port()]
    sink = mailsink.start(port=mail_port, path=tmp_path / "mail")
    env = stack_env(
        database_url=database_url(connection.settings_dict),
        redis_url=settings.REDIS_URL,
        mail_port=mail_port,
        web_port=ports[0],
    )
    workers = Workers(env, tmp_path)
    shoppers: list[soak.Shopper] = []
    try:
        workers.start()
        workers.start()
        with (
            web(env, ports[0], tmp_path / "web-0.log") as first,
            web(env, ports[1], tmp_path / "web-1.log") as second,
        ):
            bases = [first, second]
            shoppers = [
                soak.Shopper(bases[n % 2], email, store, seed=n)
                for n, email in enumerate(store["emails"])
            ]
            barrier = threading.Barrier(SHOPPERS)
            threads = [
                threading.Thread(target=_shop, args=(s, store, item, barrier)) for s in shoppers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(180)
        owed = soak.wait_for_confirmations(timeout=120)
        reviews = Review.objects.filter(author__username__startswith="soak")
        analysed = wait_for(
            lambda: reviews.exists() and all(r.analysed_version >= r.text_version for r in reviews),
            timeout=120,
        )
    finally:
        workers.stop()
        sink.stop()

    codes: dict[str, int] = {}
    for shopper in shoppers:
        for key, n in shopper.codes.items():
            codes[key] = codes.get(key, 0) + n
    errors = [e for s in shoppers for e in s.errors]
    # Given: every shopper signed in on its server, and both servers took part
    assert codes.get("sign-in 3xx", 0) == SHOPPERS, codes
    assert {s.base for s in shoppers} == {f"http://127.0.0.1:{p}" for p in ports}
    # Then: no server error, no dropped connection
    assert [k for k in codes if k.endswith((" 5xx", " error"))] == [], errors[:10]
    # ... the last units went to exactly as many shoppers as there were units
    orders = Order.objects.filter(pk__gt=baseline.max_order_id)
    assert orders.count() == codes.get("pay-approve 3xx", 0)  # one order per approved payment
    sold = sum(
        OrderLine.objects.filter(order__in=orders, variant_id=item["variant"]).values_list(
            "quantity", flat=True
        )
    )
    stock = Variant.objects.get(pk=item["variant"]).stock
    assert stock >= 0 and stock == LAST_UNITS - sold, (stock, sold)
    assert sold == LAST_UNITS, codes  # six shoppers wanted one each: all three units sold
    results = check_all(baseline)
    assert [r.name for r in results if not r.ok] == [], [r for r in results if not r.ok]
    # ... and each task ran once: one confirmation per order, one text signal per review
    assert owed == 0
    mails = soak.confirmation_counts(tmp_path / "mail", orders.values_list("number", flat=True))
    assert set(mails.values()) == {1}, mails
    assert analysed, "a review was never analysed"
    assert reviews.count() == SHOPPERS
    from personalization.models import Event

    # one event with the sentiment per analysed version (further intents add events without)
    signals = Event.objects.filter(
        kind="text_signal", attributes__source="review", attributes__has_key="sentiment"
    )
    per_review = {r.pk: 0 for r in reviews}
    for object_id in signals.values_list("attributes__object_id", flat=True):
        if object_id in per_review:
            per_review[object_id] += 1
    assert set(per_review.values()) == {1}, per_review
