"""Staff in the admin: profiles and build rows are read-only, beat schedules are editable."""

import pytest
from django.urls import reverse

from personalization import services
from personalization.models import (
    Event,
    PreferenceProfile,
    ProfileBuildState,
    RemovedInterest,
    ShopperChoice,
)
from personalization.schedules import ensure_schedules
from tests.factories import UserFactory

from .helpers import activity, catalogue, snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _url(model, view, *args):
    return reverse(f"admin:personalization_{model._meta.model_name}_{view}", args=args)


def test_staff_read_a_profile_and_queue_its_rebuild(staff_client):
    user = UserFactory()
    activity(user, catalogue())
    services.profile_build_incremental()

    listing = staff_client.get(_url(PreferenceProfile, "changelist"))
    detail = staff_client.get(_url(PreferenceProfile, "change", user.pk))

    assert listing.status_code == 200 and str(user) in listing.content.decode()
    assert detail.status_code == 200 and b"category:" in detail.content
    PreferenceProfile.objects.filter(user=user).update(event_count=0)
    response = staff_client.post(
        _url(PreferenceProfile, "changelist"),
        {"action": "rebuild", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert PreferenceProfile.objects.get(user=user).event_count == 9  # eager in tests


def test_staff_cannot_delete_the_watermark_and_double_count_every_event(staff_client):
    user = UserFactory()
    activity(user, catalogue())
    services.profile_build_incremental()
    before = snapshot()

    response = staff_client.post(_url(ProfileBuildState, "delete", 1), {"post": "yes"})

    assert response.status_code == 403
    services.profile_build_incremental()
    assert snapshot() == before


@pytest.mark.parametrize("model", [Event, ShopperChoice, RemovedInterest, ProfileBuildState])
def test_staff_cannot_add_rows_that_only_services_write(staff_client, model):
    assert staff_client.get(_url(model, "add")).status_code == 403


def test_staff_cannot_undo_a_shoppers_opt_out_or_removal(staff_client):
    user = UserFactory()
    services.personalization_set_enabled(user=user, enabled=False)
    services.interest_remove(user=user, dimension="brand", value="7")
    choice = ShopperChoice.objects.get(user=user)
    removal = RemovedInterest.objects.get(user=user)

    for model, pk in ((ShopperChoice, choice.pk), (RemovedInterest, removal.pk)):
        assert staff_client.post(_url(model, "delete", pk), {"post": "yes"}).status_code == 403
        listing = staff_client.get(_url(model, "changelist"))
        assert listing.status_code == 200  # the page opens, without the bulk delete action
        assert 'value="delete_selected"' not in listing.content.decode()
        # A forged bulk delete is ignored: these admins have no actions, so Django shows the
        # change list again (200) and deletes nothing (checked below).
        response = staff_client.post(
            _url(model, "changelist"),
            {"action": "delete_selected", "index": "0", "_selected_action": [pk]},
        )
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1

    assert not ShopperChoice.objects.get(user=user).personalization_enabled
    assert RemovedInterest.objects.filter(user=user).exists()


def test_event_log_cannot_be_deleted_from_the_admin(staff_client):
    user = UserFactory()
    activity(user, catalogue())
    event = Event.objects.first()

    assert staff_client.post(_url(Event, "delete", event.pk), {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


def test_beat_schedules_are_listed_and_editable_in_the_admin(staff_client):
    from django_celery_beat.models import PeriodicTask

    ensure_schedules()
    task = PeriodicTask.objects.get(task="personalization.tasks.build_profiles")

    listing = staff_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert listing.status_code == 200
    assert b"personalization: build profiles (incremental)" in listing.content
    form = staff_client.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    assert form.status_code == 200 and b'name="enabled"' in form.content
