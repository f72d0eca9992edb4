"""The soak smoke (issue 16): 30 s of mixed shopper load on the real stack, then the invariants.

gunicorn + a Celery worker + an SMTP sink on the test database and Redis; four shopper
processes loop without pause over browse, search, product, like, review, forum post, cart,
coupon and checkout with approving and declining cards (``bench.soak``, the code ``make soak``
runs for 5 minutes). The assertions do not depend on how many requests the machine managed:
whatever happened must leave no 5xx, no dropped connection, every invariant of
``check_consistency`` intact and exactly one confirmation email per order.
"""

import json

import pytest
from django.db import connection

from bench import soak
from config import mailsink
from shop.consistency import Baseline, check_all
from shop.models import Order, Variant

from .stack import Workers, database_url, free_port, stack_env, web

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]

SECONDS = 30
CLIENTS = 4


def test_thirty_seconds_of_mixed_load_leave_no_5xx_and_every_invariant(settings, tmp_path):
    store = soak.prepare_store(shoppers=CLIENTS, products=4, stock=12)
    assert len(store["emails"]) == CLIENTS and store["topic"], "the soak store was not built"
    baseline = Baseline.take()
    assert sum(baseline.stock.values()) == 4 * 12 + 2 * CLIENTS  # + the reserved product
    mail_port, web_port = free_port(), free_port()
    sink = mailsink.start(port=mail_port, path=tmp_path / "mail")
    env = stack_env(
        database_url=database_url(connection.settings_dict),
        redis_url=settings.REDIS_URL,
        mail_port=mail_port,
        web_port=web_port,
    )
    workers = Workers(env, tmp_path)
    try:
        workers.start()
        with web(env, web_port, tmp_path / "gunicorn.log") as base:
            load = soak.drive(base, store, seconds=SECONDS, clients=CLIENTS)
        owed = soak.wait_for_confirmations(timeout=240)
    finally:
        workers.stop()
        sink.stop()

    # Given: the load really ran (every shopper signed in, orders were placed and refused)
    assert load["signed_in"] == CLIENTS, load
    codes = load["codes"]
    # every shopper went through the whole mix once: an approved and a declined payment
    assert codes.get("pay-approve 3xx", 0) >= CLIENTS, json.dumps(codes)
    assert codes.get("pay-decline 4xx", 0) >= CLIENTS, json.dumps(codes)
    assert sum(n for key, n in codes.items() if key.startswith("product ")) >= 1, codes
    # Then: no server error, no dropped connection
    assert [key for key in codes if key.endswith(" 5xx") or key.endswith(" error")] == [], load[
        "errors"
    ][:10]
    # ... every invariant holds, with stock counted from the baseline
    results = check_all(baseline)
    assert [r.name for r in results if not r.ok] == [], [r for r in results if not r.ok]
    assert any(r.name.startswith("stock =") and r.checked == 5 for r in results)
    orders = list(Order.objects.filter(pk__gt=baseline.max_order_id).values_list("number", "pk"))
    assert len(orders) == codes["pay-approve 3xx"]  # one order per approved payment
    sold = sum(baseline.stock.values()) - sum(Variant.objects.values_list("stock", flat=True))
    assert sold > 0
    # ... and exactly one confirmation per order went through SMTP, none owed
    assert owed == 0
    mails = soak.confirmation_counts(tmp_path / "mail", [number for number, _ in orders])
    assert set(mails.values()) == {1}, mails
