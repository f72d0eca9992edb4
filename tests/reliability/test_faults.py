"""Faults on a stack of the test's own (issue 16): Redis down, PostgreSQL restarted, a Celery
worker SIGKILLed mid-task, the mail server down. Redis and PostgreSQL here are started by the
test (``servers.py``) on free ports and stopped at will; the machine's shared ones are never
touched. What must hold: pages keep serving or answer a clean 503, nobody is signed out, orders
are placed, and every order confirmation is sent exactly once in the end.
"""

import os
import signal

import pytest
import requests
from django.db import connection

from bench import soak
from config import mailsink
from shop import emails
from shop.models import Order
from shop.tasks import send_order_confirmation, send_pending_confirmations
from taskoutbox.models import ParkedTask
from tests.community_factories import order_for
from tests.factories import ProductFactory, UserFactory

from .servers import OwnPostgres, OwnRedis
from .stack import Workers, database_url, free_port, stack_env, wait_for, web

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sink(tmp_path):
    port = free_port()
    controller = mailsink.start(port=port, path=tmp_path / "mail")
    controller.port, controller.path = port, tmp_path / "mail"
    yield controller
    controller.handler.release()
    controller.stop()


def confirmations(sink) -> list[str]:
    return [str(m["Subject"]) for m in mailsink.messages(sink.path) if "confirmed" in m["Subject"]]


def owed_order():
    """A paid order whose confirmation is still owed, as the checkout leaves it."""
    user = UserFactory(email="owed@example.test")
    order = order_for(user=user, product=ProductFactory(), status=Order.Status.PAID)
    Order.objects.filter(pk=order.pk).update(confirmation_due=True)
    return order


def test_redis_down_pages_serve_sessions_survive_orders_placed_and_nothing_lost(
    settings, tmp_path, sink
):
    own = OwnRedis(tmp_path)
    own.start()
    store = soak.prepare_store(shoppers=1, products=1, stock=10)
    item = store["products"][0]
    env = stack_env(
        database_url=database_url(connection.settings_dict),
        redis_url=own.url,
        mail_port=sink.port,
        web_port=(port := free_port()),
    )
    try:
        with web(env, port, tmp_path / "gunicorn.log") as base:
            shopper = soak.Shopper(base, store["emails"][0], store, seed=1)
            assert shopper.sign_in(), "precondition: the shopper signs in"
            assert shopper.request("x", "GET", "/").status_code == 200
            assert own.keys() > 0, "precondition: the store uses this Redis (cache, sessions)"

            own.stop()  # Redis goes away while the store serves

            for path in ("/", "/products/", f"/p/{item['slug']}/", "/products/?q=soak"):
                assert shopper.request("down", "GET", path).status_code == 200, path
            mine = shopper.request("down", "GET", "/account/orders/")
            assert mine.status_code == 200, "signed out: the session lived only in Redis"
            shopper.buy(item, card=soak.APPROVE, coupon=False)
            assert shopper.codes["pay-approve 3xx"] == 1, shopper.codes
            order = Order.objects.get(email=store["emails"][0])
            assert order.confirmation_due  # the broker was down: the row remembers it
            parked = ParkedTask.objects.filter(task="shop.tasks.send_order_confirmation")
            assert [p.args for p in parked] == [[order.pk]]  # and the call is in the outbox
            assert not [k for k in shopper.codes if k.endswith(" 5xx")], shopper.errors

            own.start()  # Redis is back: no restart of gunicorn
            assert wait_for(
                lambda: shopper.request("up", "GET", "/").status_code == 200 and own.keys() > 0
            ), "the store did not use Redis again"
    finally:
        own.stop()

    # The confirmation that could not be queued is sent by the beat sweep, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # real SMTP
    settings.EMAIL_PORT = sink.port
    assert send_pending_confirmations(older_than_seconds=0) == 1
    assert send_pending_confirmations(older_than_seconds=0) == 0
    assert confirmations(sink) == [f"Your Agora order {order.number} is confirmed"]


def test_postgres_restart_answers_503_then_recovers_without_restarting_gunicorn(settings, tmp_path):
    store = soak.prepare_store(shoppers=1, products=1, stock=10)
    path = f"/p/{store['products'][0]['slug']}/"
    pg = OwnPostgres(tmp_path)
    pg.start()
    try:
        pg.copy_database(source_url=database_url(connection.settings_dict), name="agora")
        env = stack_env(
            database_url=pg.url("agora"),
            redis_url=settings.REDIS_URL,
            mail_port=free_port(),
            web_port=(port := free_port()),
        )
        with web(env, port, tmp_path / "gunicorn.log") as base:
            assert requests.get(base + path, timeout=60).status_code == 200  # precondition

            pg.stop()
            # A page already in the whole-page cache (shop.pagecache) is still served to
            # visitors without cookies; whatever needs the database answers 503.
            kept = requests.get(base + path, timeout=60, allow_redirects=False)
            assert kept.status_code == 200 and kept.headers["X-Agora-Page-Cache"] == "hit"
            cookie = {"Cookie": "sessionid=none"}
            for url, headers in (
                (base + path, cookie),
                (base + "/", {}),
                (base + "/products/?q=soak", {}),
            ):
                down = requests.get(url, timeout=60, allow_redirects=False, headers=headers)
                assert down.status_code == 503, (url, down.status_code)
                assert down.headers["Retry-After"] == "30"
                assert "back in a moment" in down.text

            pg.start()  # the same gunicorn reconnects (CONN_HEALTH_CHECKS)
            assert wait_for(lambda: requests.get(base + path, timeout=60).status_code == 200)
    finally:
        pg.remove()


def test_worker_killed_while_sending_a_confirmation_loses_nothing_and_sends_it_once(
    settings, tmp_path, sink
):
    from config.celery import app

    order = owed_order()
    env = stack_env(
        database_url=database_url(connection.settings_dict),
        redis_url=settings.REDIS_URL,
        mail_port=sink.port,
        web_port=free_port(),
    )
    env["CELERY_VISIBILITY_TIMEOUT"] = "5"
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    workers = Workers(env, tmp_path)
    sink.handler.stall.add(order.email)  # the SMTP server holds the message at RCPT
    app.conf.task_always_eager = False
    try:
        first = workers.start()
        send_order_confirmation.apply_async(args=[order.pk], queue=queue)
        assert wait_for(lambda: order.email in sink.handler.stalled), "the worker never sent"
        os.kill(first.pid, signal.SIGKILL)  # mid-task, holding the order's row lock
        first.wait(30)
        sink.handler.release()
        order.refresh_from_db()
        assert order.confirmation_due and order.confirmation_sent_at is None

        # A new worker: Redis gives the unacknowledged task back once its visibility timeout
        # (5 s here, an hour in production, where the beat sweep comes first) has passed.
        workers.start()
        assert wait_for(lambda: not Order.objects.get(pk=order.pk).confirmation_due, timeout=180)
    finally:
        app.conf.task_always_eager = True
        workers.stop()
    assert confirmations(sink) == [f"Your Agora order {order.number} is confirmed"]


def test_mail_server_down_confirmation_is_sent_later_and_the_order_is_untouched(settings, sink):
    order = owed_order()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # real SMTP
    settings.EMAIL_PORT = free_port()  # nothing listens there: the mail server is down

    with pytest.raises(OSError):
        emails.send_order_confirmation(order_id=order.pk)
    assert send_pending_confirmations(older_than_seconds=0) == 0  # still down: kept owed
    order.refresh_from_db()
    assert order.confirmation_due and order.status == Order.Status.PAID

    settings.EMAIL_PORT = sink.port  # the mail server is back
    assert send_pending_confirmations(older_than_seconds=0) == 1
    assert send_pending_confirmations(older_than_seconds=0) == 0  # sent once, not again
    assert confirmations(sink) == [f"Your Agora order {order.number} is confirmed"]
    order.refresh_from_db()
    assert not order.confirmation_due and order.confirmation_sent_at is not None
