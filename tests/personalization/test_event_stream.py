"""Views and searches through the Redis stream, drained into PostgreSQL in bulk (issue 15).

Real Redis and PostgreSQL: the stream is the test run's own key (under its cache prefix).
"""

import threading

import pytest
import redis
from django.db import connection
from django.urls import reverse

from personalization import events
from personalization.models import Event, EventStreamCursor
from personalization.tasks import drain_event_stream
from shop.models import Product
from tests.factories import ProductFactory, UserFactory
from tests.redisdown import refused_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def stream_on(settings):
    settings.AGORA_EVENT_STREAM = True
    client = events.stream_client()
    assert client is not None, "the stream needs the Redis cache"
    return client


def stream_length(client) -> int:
    return client.xlen(events.stream_key())


@pytest.mark.django_db
def test_a_product_view_goes_to_the_stream_and_the_drain_copies_it_once(client, stream_on):
    shopper = UserFactory()
    shoe = ProductFactory(name="Trail shoe")
    client.get(shoe.get_absolute_url())  # anonymous, no id
    client.force_login(shopper)
    client.get(reverse("shop:product_list") + "?q=trail")
    client.get(shoe.get_absolute_url())

    assert not Event.objects.filter(kind__in=["view", "search"]).exists()
    assert stream_length(stream_on) == 3

    assert drain_event_stream.delay().get() == 3  # the task, run eagerly: a real drain

    anon, search, view = Event.objects.order_by("pk")
    assert (anon.kind, anon.user_id, anon.session_key, anon.product) == ("view", None, "", shoe)
    assert (search.kind, search.user, search.attributes["query"]) == ("search", shopper, "trail")
    assert (view.kind, view.user, view.product) == ("view", shopper, shoe)
    assert view.occurred_at >= anon.occurred_at
    assert stream_length(stream_on) == 0
    assert events.stream_drain() == 0  # nothing twice
    assert Event.objects.count() == 3
    assert EventStreamCursor.objects.get(stream=events.stream_key()).copied == 3


@pytest.mark.django_db
def test_the_drain_goes_in_batches_and_keeps_erased_shoppers_out(stream_on):
    shopper, gone = UserFactory(), UserFactory()
    product, removed = ProductFactory(), ProductFactory()
    for _ in range(5):
        events.record_streamed("view", user=shopper, product=product)
    events.record_streamed("view", user=gone, product=product)
    events.record_streamed("view", user=shopper, product=removed)
    gone.delete()
    Product.objects.filter(pk=removed.pk).delete()
    assert stream_length(stream_on) == 7

    assert events.stream_drain(batch=2) == 6

    assert Event.objects.filter(user=shopper).count() == 6
    assert not Event.objects.filter(user_id=gone.pk).exists()
    assert Event.objects.filter(user=shopper, product__isnull=True).count() == 1
    assert stream_length(stream_on) == 0


@pytest.mark.django_db
def test_other_kinds_and_visitors_with_an_id_are_inserted_at_once(client, stream_on):
    product = ProductFactory()
    added = client.post(reverse("shop:cart_add"), {"variant": product.variants.get().pk})
    assert added.status_code == 302  # the visitor now has an anonymous id
    client.get(product.get_absolute_url())
    assert Event.objects.filter(kind="view", session_key__gt="").count() == 1
    assert Event.objects.filter(kind="add_to_cart").count() == 1
    assert stream_length(stream_on) == 0


@pytest.mark.django_db
def test_redis_down_falls_back_to_the_direct_insert(client, monkeypatch, settings):
    settings.AGORA_EVENT_STREAM = True
    dead = redis.Redis(host="127.0.0.1", port=refused_port(), socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):
        dead.ping()
    monkeypatch.setattr(events, "stream_client", lambda: dead)
    product = ProductFactory()

    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    view = Event.objects.get(kind="view")
    assert view.product == product


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_copy_each_event_exactly_once(stream_on):
    product = ProductFactory()
    for n in range(300):
        events.record_streamed("search", query=f"q{n}", results=1)
    assert stream_length(stream_on) == 300
    copied, errors = [], []
    start = threading.Barrier(2)

    def drain():
        try:
            start.wait(timeout=30)
            copied.append(events.stream_drain(batch=50))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(copied) == 2
    assert sum(copied) == 300
    queries = list(Event.objects.values_list("attributes__query", flat=True))
    assert len(queries) == 300 and len(set(queries)) == 300
    assert stream_length(stream_on) == 0
    assert product.pk  # the product is untouched by the drain
