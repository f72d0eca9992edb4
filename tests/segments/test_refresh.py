"""Segments: materialized membership, history, consent and the personalization switch."""

import json

import pytest
from django.test import TestCase
from django.urls import reverse

from personalization import services as pz_services
from personalization.segments import services
from personalization.segments.exceptions import SegmentError
from personalization.segments.models import (
    Segment,
    SegmentMembership,
    SegmentMembershipHistory,
)
from personalization.segments.selectors import segment_ids_for_user, segment_members
from social import services as social_services
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

AGE = {"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["25-34"]}}]}


def share(user, *, categories=("age", "interests"), age="25-34", interests=("Hiking",)):
    """The shopper signs in with Friendbook and shares some categories; the profile is built."""
    social_services.consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=set(categories),
        profile={"age_band": age, "interests": list(interests)},
    )
    pz_services.profile_rebuild_for_user(user_id=user.pk)


def refresh(**kwargs):
    """A refresh as the task runs it: its after-commit steps (cache forgetting) happen."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.segments_refresh(**kwargs)


def make_segment(slug, rules, **kwargs):
    return services.segment_save_rules(segment=Segment(slug=slug, name=slug, **kwargs), rules=rules)


def test_refresh_adds_and_removes_members_with_history_and_rule_version():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    share(ann)
    share(bob, age="45-54")
    segment = make_segment("young", AGE)
    result = refresh(segment_ids=[segment.pk])
    assert (result.entered, result.left) == (1, 0)
    assert list(segment_members(segment)) == [ann]
    segment.refresh_from_db()
    assert segment.member_count == 1 and segment.refreshed_at is not None

    services.segment_save_rules(
        segment=segment,
        rules={"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["45-54"]}}]},
    )
    assert segment.version == 2
    refresh(segment_ids=[segment.pk])
    assert list(segment_members(segment)) == [bob]
    history = list(
        SegmentMembershipHistory.objects.filter(segment=segment)
        .order_by("pk")
        .values_list("user__username", "action", "rule_version")
    )
    assert history == [("ann", "entered", 1), ("ann", "left", 2), ("bob", "entered", 2)]
    again = refresh(segment_ids=[segment.pk])
    assert (again.entered, again.left) == (0, 0), "a second refresh changes nothing"
    assert SegmentMembershipHistory.objects.filter(segment=segment).count() == 3


def test_revoked_consent_takes_the_shopper_out_at_the_next_refresh():
    ann = UserFactory(username="ann")
    share(ann)
    segment = make_segment("young", AGE)
    refresh(segment_ids=[segment.pk])
    assert segment.pk in segment_ids_for_user(ann)

    social_services.consent_revoke(user=ann, category="age")
    # The profile is not rebuilt yet (that runs after commit): the rule checks consent now.
    assert ann.preference_profile.demographics.get("age_band") == "25-34"
    refresh(segment_ids=[segment.pk])
    assert not SegmentMembership.objects.filter(segment=segment, user=ann).exists()
    assert segment.pk not in segment_ids_for_user(ann), "the refresh forgot the cached ids"
    assert SegmentMembershipHistory.objects.filter(user=ann, action="left").count() == 1


def test_personalization_off_leaves_only_segments_that_need_no_profile():
    ann = UserFactory(username="ann")
    share(ann)
    young = make_segment("young", AGE)
    new = make_segment(
        "new", {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": 30}}]}
    )
    refresh()
    assert {young.pk, new.pk} <= segment_ids_for_user(ann)

    pz_services.personalization_set_enabled(user=ann, enabled=False)
    refresh()
    assert segment_ids_for_user(ann) >= {new.pk}
    assert young.pk not in segment_ids_for_user(ann)
    # Even a segment whose rules would match without data of the profile stays empty when it
    # mixes in a profile rule.
    mixed = make_segment(
        "mixed",
        {
            "op": "or",
            "rules": [
                {"type": "new_shopper", "params": {"days": 30}},
                {"type": "frequency", "params": {"min": 1}},
            ],
        },
    )
    refresh(segment_ids=[mixed.pk])
    assert not SegmentMembership.objects.filter(segment=mixed, user=ann).exists()


def test_segment_of_segment_works_and_a_cycle_is_refused():
    ann = UserFactory(username="ann")
    share(ann)
    make_segment("young", AGE)
    hikers = make_segment(
        "young-hikers",
        {
            "op": "and",
            "rules": [
                {"type": "segment", "params": {"segment": "young"}},
                {"type": "interest", "params": {"interests": ["hiking"]}},
            ],
        },
    )
    refresh(segment_ids=[hikers.pk])
    assert list(segment_members(hikers)) == [ann]

    young = Segment.objects.get(slug="young")
    with pytest.raises(SegmentError, match="refers back to itself"):
        services.segment_save_rules(
            segment=young,
            rules={
                "op": "or",
                "rules": [{"type": "segment", "params": {"segment": "young-hikers"}}],
            },
        )
    young.refresh_from_db()
    assert young.rules["rules"][0]["type"] == "age_band", "the refused rules were not saved"


def test_profile_build_refreshes_the_segments_of_changed_shoppers(
    django_capture_on_commit_callbacks,
):
    from personalization.tasks import rebuild_profile

    ann = UserFactory(username="ann")
    segment = make_segment("young", AGE)
    with django_capture_on_commit_callbacks(execute=True):
        social_services.consent_apply_sign_in(
            user=ann, provider="friendbook", granted={"age"}, profile={"age_band": "25-34"}
        )
    # The sign-in enqueued the profile rebuild (eager in tests), which refreshed the segments.
    assert SegmentMembership.objects.filter(segment=segment, user=ann).exists()
    rebuild_profile(ann.pk)  # idempotent
    assert SegmentMembershipHistory.objects.filter(user=ann, segment=segment).count() == 1


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_preview_counts_and_samples_before_saving(staff_client):
    ann = UserFactory(username="ann", email="ann@example.test")
    share(ann)
    url = reverse("admin:segments_segment_preview")
    response = staff_client.post(url, {"rules": json.dumps(AGE), "slug": "new-one"})
    assert response.status_code == 200
    assert b"<strong>1</strong> shopper match" in response.content
    assert b"ann@example.test" in response.content
    assert not Segment.objects.filter(slug="new-one").exists()

    bad = {"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["7"]}}]}
    response = staff_client.post(url, {"rules": json.dumps(bad)})
    assert response.status_code == 422
    assert b"Rule 1 (Age band)" in response.content
    response = staff_client.post(url, {"rules": "{not json"})
    assert response.status_code == 422 and b"not valid JSON" in response.content


def test_admin_refuses_a_bad_rule_with_a_form_error(staff_client):
    add = reverse("admin:segments_segment_add")
    assert staff_client.get(add).status_code == 200
    data = {
        "name": "Odd",
        "slug": "odd",
        "description": "",
        "is_active": "on",
        "rules": json.dumps({"op": "and", "rules": [{"type": "shoe_size", "params": {}}]}),
    }
    response = staff_client.post(add, data)
    assert response.status_code == 200
    assert "Rule 1: unknown rule type &#x27;shoe_size&#x27;" in response.content.decode()
    assert not Segment.objects.filter(slug="odd").exists()
    data["rules"] = json.dumps(AGE)
    response = staff_client.post(add, data)
    assert response.status_code == 302
    segment = Segment.objects.get(slug="odd")
    change = staff_client.get(reverse("admin:segments_segment_change", args=[segment.pk]))
    assert b"You are 25\xe2\x80\x9334 and shared your age with us" in change.content
    assert b"Last refreshed: never" in change.content


def test_refresh_emits_segment_entered_and_left_webhooks_per_shopper():
    """Each entry and exit of a refresh becomes one webhook message once the refresh commits."""
    from webhooks.models import WebhookEndpoint, WebhookMessage
    from webhooks.services import subscribed_events

    WebhookEndpoint.objects.create(
        url="https://hooks.invalid/segments", events=["segment.entered", "segment.left"]
    )
    assert {"segment.entered", "segment.left"} <= subscribed_events()
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    share(ann)
    share(bob, age="45-54")
    segment = make_segment("young", AGE)
    refresh(segment_ids=[segment.pk])
    entered = WebhookMessage.objects.filter(event="segment.entered")
    assert [m.payload["customer_id"] for m in entered] == [ann.pk]
    payload = entered.get().payload
    assert (payload["segment_id"], payload["segment_slug"]) == (segment.pk, "young")
    assert payload["at"]

    services.segment_save_rules(
        segment=segment,
        rules={"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["45-54"]}}]},
    )
    refresh(segment_ids=[segment.pk])
    left = WebhookMessage.objects.filter(event="segment.left")
    assert [m.payload["customer_id"] for m in left] == [ann.pk]
    assert sorted(m.payload["customer_id"] for m in entered.all()) == sorted([ann.pk, bob.pk])
    refresh(segment_ids=[segment.pk])
    assert WebhookMessage.objects.filter(event__startswith="segment.").count() == 3, (
        "a refresh that changes nothing emits nothing"
    )


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_write_each_entry_once():
    """Real threads on PostgreSQL: the second run waits for the first's segment locks and then
    finds nothing to change, so every shopper has one membership and one history row."""
    import threading

    from django.db import connection

    shoppers = [UserFactory(username=f"s{n}") for n in range(6)]
    for user in shoppers:
        share(user)
    segment = make_segment("young", AGE)
    barrier, errors, results = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait(timeout=60)
            results.append(services.segments_refresh(segment_ids=[segment.pk]))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [] and len(results) == 2
    assert sorted(r.entered for r in results) == [0, 6]
    assert SegmentMembership.objects.filter(segment=segment).count() == 6
    history = SegmentMembershipHistory.objects.filter(segment=segment, action="entered")
    assert history.count() == 6


def test_a_partial_refresh_scores_rfm_against_every_shopper():
    """After a profile build only the changed shoppers are re-evaluated, but their RFM scores
    still use the quintile cut points of all buyers: the top spender stays a big spender when
    a refresh looks at them alone (cut points among one shopper would score them 1)."""
    from decimal import Decimal

    from django.utils import timezone

    from personalization.models import PreferenceProfile

    buyers = [UserFactory(username=f"buyer{n}") for n in range(10)]
    for n, user in enumerate(buyers, start=1):
        PreferenceProfile.objects.create(
            user=user,
            order_count=n,
            monetary=Decimal(100 * n),
            last_purchase_at=timezone.now(),
            event_count=n,
        )
    big = make_segment(
        "big",
        {"op": "and", "rules": [{"type": "rfm_score", "params": {"dimension": "m", "min": 5}}]},
    )
    refresh(segment_ids=[big.pk])
    top = buyers[-1]
    assert top.pk in set(segment_members(big).values_list("pk", flat=True)), "precondition"
    again = refresh(segment_ids=[big.pk], user_ids=[top.pk])
    assert (again.entered, again.left) == (0, 0)
    assert segment_members(big).filter(pk=top.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_saving_a_segment_does_not_wait_for_a_running_refresh(monkeypatch):
    """Real threads on PostgreSQL: while a refresh of the segment is in the middle of its
    transaction, saving new rules commits at once; the running refresh keeps the version it
    read, and the next refresh applies the new one."""
    import threading

    from django.db import connection

    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    share(ann)
    share(bob, age="45-54")
    segment = make_segment("young", AGE)
    paused, release, errors = threading.Event(), threading.Event(), []
    count_changes = services._count_changes

    def slow_count_changes(*args, **kwargs):  # runs inside the refresh's transaction
        paused.set()
        release.wait(timeout=60)
        return count_changes(*args, **kwargs)

    monkeypatch.setattr(services, "_count_changes", slow_count_changes)

    def run(target):
        try:
            target()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    refreshing = threading.Thread(
        target=run, args=(lambda: services.segments_refresh(segment_ids=[segment.pk]),)
    )
    refreshing.start()
    assert paused.wait(timeout=60), "the refresh reached the middle of its transaction"
    older = {"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["45-54"]}}]}
    saving = threading.Thread(
        target=run, args=(lambda: services.segment_update(segment_id=segment.pk, rules=older),)
    )
    saving.start()
    saving.join(timeout=10)
    saved_while_refreshing = not saving.is_alive()
    release.set()
    saving.join(timeout=60)
    refreshing.join(timeout=60)
    assert errors == []
    assert saved_while_refreshing, "saving waited for the running refresh"
    segment.refresh_from_db()
    assert segment.version == 2 and segment.member_count == 1
    assert list(segment_members(segment)) == [ann], "the running refresh used the rules it read"
    monkeypatch.setattr(services, "_count_changes", count_changes)
    services.segments_refresh(segment_ids=[segment.pk])
    assert list(segment_members(segment)) == [bob]
    history = SegmentMembershipHistory.objects.filter(segment=segment).order_by("pk")
    assert list(history.values_list("user__username", "action", "rule_version")) == [
        ("ann", "entered", 1),
        ("ann", "left", 2),
        ("bob", "entered", 2),
    ]


@pytest.mark.django_db(transaction=True)
def test_deleting_a_segment_waits_for_its_running_refresh(monkeypatch):
    """Real threads: a delete during a refresh waits for it, then removes the segment with the
    members the refresh wrote (never a refresh that fails on a vanished segment)."""
    import threading

    from django.db import connection

    ann = UserFactory(username="ann")
    share(ann)
    segment = make_segment("young", AGE)
    paused, release, errors = threading.Event(), threading.Event(), []
    count_changes = services._count_changes

    def slow_count_changes(*args, **kwargs):
        paused.set()
        release.wait(timeout=60)
        return count_changes(*args, **kwargs)

    monkeypatch.setattr(services, "_count_changes", slow_count_changes)

    def run(target):
        try:
            target()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    refreshing = threading.Thread(
        target=run, args=(lambda: services.segments_refresh(segment_ids=[segment.pk]),)
    )
    refreshing.start()
    assert paused.wait(timeout=60)
    deleting = threading.Thread(
        target=run, args=(lambda: services.segment_delete(segment_id=segment.pk),)
    )
    deleting.start()
    deleting.join(timeout=3)
    assert deleting.is_alive(), "the delete waits for the running refresh"
    release.set()
    refreshing.join(timeout=60)
    deleting.join(timeout=60)
    assert errors == []
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert not SegmentMembership.objects.filter(user=ann).exists()
