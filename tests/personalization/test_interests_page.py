"""The shopper's "Your interests" page, the anonymous merge at sign-in and the beat schedules."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from personalization import events, services
from personalization.models import Event, PreferenceProfile, RemovedInterest
from personalization.schedules import SCHEDULES, ensure_schedules
from personalization.selectors import profile_for
from tests.factories import PASSWORD, UserFactory

from .helpers import activity, catalogue

# transaction=True: choices forget cached profiles and enqueue rebuilds on commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_page_lists_interests_and_the_header_links_to_it(client, shopper):
    shoe, bag, camera = products = catalogue()
    activity(shopper, products)
    services.profile_build_incremental()

    response = client.get(reverse("personalization:interests"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/account/interests/"' in html  # the account nav link
    assert "Your interests" in html and "Personalization is on" in html
    assert shoe.category.name in html and "Blue" in html and "Over €200" in html
    assert "Replacement" in html  # the active intent


def test_intents_show_even_without_other_interests_and_name_their_categories(client, shopper):
    shoe, _, camera = catalogue()
    for product in (shoe, camera):
        events.record_text_signal(
            user=shopper, sentiment=0.1, intent="replacement", category_id=product.category_id
        )
    services.profile_build_incremental()

    html = client.get(reverse("personalization:interests")).content.decode()

    assert f"Replacement: {escape(shoe.category.name)} —" in html
    assert f"Replacement: {escape(camera.category.name)} —" in html


def test_page_query_count_is_constant(client, shopper, django_assert_max_num_queries):
    products = catalogue()
    activity(shopper, products)
    services.profile_build_incremental()
    client.get(reverse("personalization:interests"))  # fill the cache

    with django_assert_max_num_queries(12):
        client.get(reverse("personalization:interests"))


def test_removing_an_interest_from_the_page(client, shopper):
    shoe, *_ = products = catalogue()
    activity(shopper, products)
    services.profile_build_incremental()

    response = client.post(
        reverse("personalization:interest_remove"),
        {"dimension": "brand", "value": str(shoe.brand_id), "label": shoe.brand.name},
        follow=True,
    )

    assert response.status_code == 200
    assert f"Removed “{shoe.brand.name}”" in response.content.decode()
    assert str(shoe.brand_id) not in profile_for(shopper).top("brand", 10)
    assert RemovedInterest.objects.filter(user=shopper, dimension="brand").exists()
    assert "Interests you removed" in response.content.decode()
    assert f"{shoe.brand.name} <span" in response.content.decode()  # a label, not an id


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("personalization:interest_remove", {"dimension": "secret", "value": "x"}),
        ("personalization:interest_remove", {"dimension": "brand", "value": "x" * 500}),
        ("personalization:interest_restore", {"dimension": "brand", "value": "never-removed"}),
        ("personalization:toggle", {"enabled": "maybe"}),
    ],
)
def test_bad_input_is_a_clear_400(client, shopper, url, data):
    response = client.post(reverse(url), data)

    assert response.status_code == 400
    assert "Something needs your attention" in response.content.decode()


def test_turning_personalization_off_and_on_from_the_page(client, shopper):
    products = catalogue()
    activity(shopper, products)
    services.profile_build_incremental()

    response = client.post(reverse("personalization:toggle"), {"enabled": "off"}, follow=True)

    assert "Personalization is off" in response.content.decode()
    assert profile_for(shopper) is None
    client.post(reverse("personalization:toggle"), {"enabled": "on"})
    assert profile_for(shopper).event_count == 9  # rebuilt by the (eager) task


def test_page_needs_sign_in(client):
    response = client.get(reverse("personalization:interests"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    toggle = client.post(reverse("personalization:toggle"), {"on": "0"})
    assert toggle.status_code == 302 and "/accounts/login/" in toggle["Location"]
    assert client.get(reverse("personalization:toggle")).status_code == 302  # sign-in first


def test_anonymous_events_join_the_shopper_at_sign_in(client):
    shoe, *_ = catalogue()
    user = UserFactory(email="merge@example.test")
    # a visitor gets an anonymous id (a session) once they need one: here, a cart add
    added = client.post(reverse("shop:cart_add"), {"variant": shoe.variants.get().pk})
    assert added.status_code == 302
    client.get(shoe.get_absolute_url())  # an anonymous view, recorded by the shop
    anon = Event.objects.get(kind=Event.Kind.VIEW)
    assert anon.user is None and anon.session_key
    services.profile_build_incremental()  # the watermark passes the anonymous event

    response = client.post(
        reverse("account_login"), {"login": "merge@example.test", "password": PASSWORD}
    )

    assert response.status_code == 302
    anon.refresh_from_db()
    assert anon.user == user and anon.session_key == ""
    # the rebuild queued by the merge folded the old event into the profile
    assert PreferenceProfile.objects.get(user=user).event_count == 2  # the cart add and the view
    assert str(shoe.category_id) in profile_for(user).top("category")


def test_merge_without_a_session_does_nothing():
    assert events.merge_anonymous(session_key="", user=UserFactory()) == 0


def test_beat_schedules_are_in_the_database_and_staff_edits_survive():
    from django_celery_beat.models import PeriodicTask

    ensure_schedules()
    task = PeriodicTask.objects.get(task="personalization.tasks.build_profiles")
    assert task.interval.every == 1 and task.enabled
    task.enabled = False
    task.save()

    assert ensure_schedules() == 0

    assert PeriodicTask.objects.filter(name__startswith="personalization:").count() == len(
        SCHEDULES
    )
    assert not PeriodicTask.objects.get(pk=task.pk).enabled


def test_tasks_retry_with_backoff_and_ack_late():
    from personalization import tasks

    for task in (tasks.build_profiles, tasks.rebuild_all_profiles, tasks.rebuild_profile):
        assert task.acks_late
        assert task.retry_backoff and task.max_retries
        assert task.soft_time_limit and task.time_limit > task.soft_time_limit
