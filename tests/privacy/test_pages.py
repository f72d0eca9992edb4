"""Retention purge, "How we use your data" and "Recent decisions" (issue 13)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from personalization import events
from personalization.models import Event
from privacy import registry, services
from privacy.models import DataExport
from privacy.registry import Decision
from shop.models import Cart
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_retention_purge_applies_each_kind_period(settings):
    settings.PRIVACY_RETENTION_DAYS = {"events": 30, "search_history": 7, "abandoned_carts": 10}
    user = UserFactory()
    now = timezone.now()
    old_view = events.record("view", user=user, occurred_at=now - timedelta(days=31))
    new_view = events.record("view", user=user, occurred_at=now - timedelta(days=20))
    old_search = events.record("search", user=user, query="x", occurred_at=now - timedelta(days=8))
    new_search = events.record("search", user=user, query="y", occurred_at=now - timedelta(days=2))
    stale = Cart.objects.create(session_key="stale")
    fresh = Cart.objects.create(session_key="fresh")
    Cart.objects.filter(pk=stale.pk).update(updated_at=now - timedelta(days=11))
    export = DataExport.objects.create(
        user=user, status="ready", file_name="gone.zip", expires_at=now - timedelta(minutes=1)
    )

    done = services.retention_purge()

    assert done == {"events": 1, "search_history": 1, "abandoned_carts": 1, "expired_exports": 1}
    remaining = set(Event.objects.values_list("pk", flat=True))
    assert remaining == {new_view.pk, new_search.pk}
    assert old_view.pk not in remaining and old_search.pk not in remaining
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh.pk}
    export.refresh_from_db()
    assert export.status == "expired"
    assert services.retention_purge()["events"] == 0  # idempotent


def test_retention_none_keeps_the_data(settings):
    settings.PRIVACY_RETENTION_DAYS = {"events": None, "search_history": None}
    user = UserFactory()
    events.record("view", user=user, occurred_at=timezone.now() - timedelta(days=4000))
    assert services.retention_purge()["abandoned_carts"] == 0
    assert "events" not in services.retention_purge()
    assert Event.objects.count() == 1


def test_purge_is_scheduled_with_beat():
    from django_celery_beat.models import PeriodicTask

    from privacy.schedules import ensure_schedules

    ensure_schedules()  # the migration made them; a flush by a transactional test may not
    assert ensure_schedules() == 0  # idempotent: staff edits are kept
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"privacy.tasks.purge_expired_data", "privacy.tasks.run_due_erasures"} <= tasks


def test_how_we_use_is_generated_from_settings_and_purposes(client, settings):
    settings.PRIVACY_RETENTION_DAYS = {"events": 123, "search_history": 45}
    response = client.get(reverse("privacy:how_we_use"))  # public: no sign-in
    assert response.status_code == 200
    html = response.content.decode()
    assert "123 days" in html and "45 days" in html
    assert "To suggest products for your age group." in html  # a consent purpose
    assert registry.get("shop.Order").description[:40] in html
    assert "kept without your identity" in html  # what erasure does to orders


def test_decisions_page_says_so_when_no_feature_registers(client):
    client.force_login(UserFactory())
    saved = registry.decision_sources()
    registry._decision_sources.clear()
    try:
        response = client.get(reverse("privacy:decisions"))
    finally:
        registry._decision_sources.update(saved)
    assert response.status_code == 200
    assert b"does not make any automated decisions about you yet" in response.content


def test_decisions_page_lists_registered_decisions_newest_first(
    client, django_assert_max_num_queries
):
    user = UserFactory()
    other = UserFactory()
    now = timezone.now()

    def banners(shopper, *, limit):
        if shopper.pk != user.pk:
            return []
        return [
            Decision("Banners", "Showed the banner “Night sky”", "You like Telescopes", now),
            Decision(
                "Banners", "Showed the banner “Owls”", "In segment Birders", now - timedelta(1)
            ),
        ][:limit]

    registry.register_decisions("Banners (test)", banners)
    try:
        client.force_login(user)
        # a constant per registered decision source (each reads its own stored rows)
        sources = len(registry._decision_sources)
        with django_assert_max_num_queries(6 + sources):
            html = client.get(reverse("privacy:decisions")).content.decode()
        assert html.index("Night sky") < html.index("Owls")
        assert "You like Telescopes" in html and "In segment Birders" in html
        client.force_login(other)
        html = client.get(reverse("privacy:decisions")).content.decode()
        assert "Night sky" not in html
        assert "Nothing has been decided about you yet." in html
    finally:
        registry.unregister_decisions("Banners (test)")


def test_account_pages_need_sign_in(client):
    for name in ("privacy:overview", "privacy:delete", "privacy:decisions"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
