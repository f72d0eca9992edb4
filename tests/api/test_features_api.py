"""The API of the features that landed (segments, banners, picks, loyalty, outreach, privacy,
CRM): each endpoint does what its page or admin does, through the same services, and refuses
bad input with a problem that says what is wrong, leaving saved data as it was."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone

from personalization.banners.models import BannerDecision
from personalization.loyalty.services import coupon_issue
from personalization.outreach.models import Campaign, MarketingConsentRecord, TopicOptOut
from personalization.segments.models import Segment
from privacy.models import DataExport, ErasureRequest, PrivacySettings
from tests.api.conftest import bearer, place_order
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_SHOPPERS = {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": 30}}]}


@pytest.fixture
def boss(high_rates):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_api(api, boss):
    return bearer(api, boss, ["read", "write", "staff"])


def in_role(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


# --- segments --------------------------------------------------------------------------------


def test_a_bad_rule_is_refused_naming_it_and_nothing_is_saved(staff_api):
    before = Segment.objects.count()
    bad = {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": -3}}]}
    response = staff_api.post(
        "/api/v1/staff/segments/", {"name": "Bad", "slug": "bad", "rules": bad}, format="json"
    )
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["code"] == "invalid"
    assert problem["errors"][0]["pointer"] == "#/rules"
    assert "days" in problem["errors"][0]["detail"]
    unknown = {"op": "and", "rules": [{"type": "moon_phase", "params": {}}]}
    response = staff_api.post(
        "/api/v1/staff/segments/", {"name": "Bad", "slug": "bad", "rules": unknown}, format="json"
    )
    assert response.status_code == 400 and "moon_phase" in response.json()["detail"]
    assert Segment.objects.count() == before


def test_segment_create_preview_update_and_delete(staff_api):
    ana = UserFactory(username="ana-new")
    UserFactory(date_joined=timezone.now() - timedelta(days=400))
    preview = staff_api.post(
        "/api/v1/staff/segments/preview/", {"rules": NEW_SHOPPERS, "sample": 5}, format="json"
    )
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert ana.pk in [m["id"] for m in body["sample"]]
    assert body["count"] >= 1 and len(body["sample"]) <= 5

    created = staff_api.post(
        "/api/v1/staff/segments/",
        {"name": "New joiners", "slug": "api-new-joiners", "rules": NEW_SHOPPERS},
        format="json",
    )
    assert created.status_code == 201, created.content
    segment = created.json()
    assert segment["version"] == 1 and segment["member_count"] == 0
    taken = staff_api.post(
        "/api/v1/staff/segments/",
        {"name": "Again", "slug": "api-new-joiners", "rules": NEW_SHOPPERS},
        format="json",
    )
    assert taken.status_code == 400 and "already exists" in taken.json()["detail"]

    url = f"/api/v1/staff/segments/{segment['id']}/"
    week = {"op": "and", "rules": [{"type": "new_shopper", "params": {"days": 7}}]}
    changed = staff_api.patch(url, {"rules": week, "description": "A week"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["rules"] == week
    bad = staff_api.patch(url, {"rules": {"op": "xor", "rules": []}}, format="json")
    assert bad.status_code == 400
    assert staff_api.get(url).json()["rules"] == week  # the saved tree is untouched

    assert staff_api.delete(url).status_code == 204
    assert staff_api.get(url).status_code == 404
    builtin = Segment.objects.filter(is_builtin=True).first()
    assert builtin is not None
    refused = staff_api.delete(f"/api/v1/staff/segments/{builtin.pk}/")
    assert refused.status_code == 400 and Segment.objects.filter(pk=builtin.pk).exists()


# --- banners ---------------------------------------------------------------------------------


def test_staff_create_a_banner_and_a_shopper_gets_it_with_why(api, staff_api):
    created = staff_api.post(
        "/api/v1/staff/banners/",
        {
            "name": "Winter sale",
            "placement": "home_hero",
            "priority": 5,
            "variants": [{"headline": "Winter sale", "cta_url": "/products/"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    banner = created.json()
    assert [v["headline"] for v in banner["variants"]] == ["Winter sale"]
    no_variant = staff_api.post(
        "/api/v1/staff/banners/", {"name": "Empty", "placement": "cart"}, format="json"
    )
    assert no_variant.status_code == 400 and "creative" in no_variant.json()["detail"]

    shopper = UserFactory()
    api.credentials()
    api.force_login(shopper)
    mine = api.get("/api/v1/me/banners/home_hero/")
    assert mine.status_code == 200, mine.content
    chosen = mine.json()["banner"]
    assert chosen["banner_id"] == banner["id"] and chosen["reason"] == "everyone"
    assert chosen["why"] and "everyone" in chosen["why"][0]
    decision = BannerDecision.objects.get(uuid=chosen["decision"])
    assert decision.user == shopper and decision.explanation == chosen["why"]
    assert api.get("/api/v1/me/banners/nowhere/").status_code == 404
    assert api.get("/api/v1/me/banners/cart/").json() == {"banner": None}

    api.logout()
    url = f"/api/v1/staff/banners/{banner['id']}/"
    bearer(api, UserFactory(is_staff=True, is_superuser=True), ["read", "write", "staff"])
    changed = api.patch(url, {"is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert api.delete(url).status_code == 204


# --- recommendations and loyalty -------------------------------------------------------------


def test_my_picks_carry_their_reasons(api, high_rates):
    from personalization.recommendations.services import recommendation_data_refresh

    buyer = UserFactory()
    for price in ("10.00", "20.00", "30.00"):
        place_order(buyer, ProductFactory(price=Decimal(price)))
    recommendation_data_refresh()
    api.force_login(UserFactory())
    response = api.get("/api/v1/me/recommendations/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] in {"popular", "personal"}
    assert body["picks"], body
    assert all(pick["text"] and pick["reason"] for pick in body["picks"])


def test_my_rewards_and_coupons_and_the_staff_coupon_list(api, staff_api):
    from personalization.loyalty.services import tiers_ensure_defaults

    tiers_ensure_defaults()
    shopper = UserFactory()
    coupon = coupon_issue(
        reason="Sorry about the late parcel",
        benefit_type="percentage",
        benefit_value=Decimal("10"),
        owner=shopper,
    )
    other = UserFactory()
    coupon_issue(reason="Not yours", benefit_type="percentage", benefit_value=5, owner=other)
    listed = staff_api.get(f"/api/v1/staff/coupons/?owner={shopper.pk}")
    assert listed.status_code == 200
    assert [c["code"] for c in listed.json()["results"]] == [coupon.code]

    api.credentials()
    api.force_login(shopper)
    mine = api.get("/api/v1/me/coupons/").json()
    assert [(c["code"], c["state"], c["reason"]) for c in mine] == [
        (coupon.code, "usable", "Sorry about the late parcel")
    ]
    rewards = api.get("/api/v1/me/rewards/").json()
    assert rewards["progress"] == {"spend_12m": "0.00", "orders_12m": 0}
    assert [c["code"] for c in rewards["coupons"]] == [coupon.code]
    assert rewards["tiers"], "the default tiers exist"


# --- outreach --------------------------------------------------------------------------------


def test_email_preferences_patch_keeps_the_rest_and_refuses_unknown_topics(api, high_rates):
    shopper = UserFactory()
    api.force_login(shopper)
    start = api.get("/api/v1/me/email-preferences/").json()
    assert start["opted_in"] is False and start["muted_topics"] == []
    response = api.patch(
        "/api/v1/me/email-preferences/",
        {"opted_in": True, "frequency": "fewer", "muted_topics": ["news"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["opted_in"], body["frequency"], body["muted_topics"]) == (True, "fewer", ["news"])
    assert {t["code"]: t["subscribed"] for t in body["topics"]}["news"] is False
    bad = api.patch(
        "/api/v1/me/email-preferences/", {"muted_topics": ["horoscopes"]}, format="json"
    )
    assert bad.status_code == 400 and "horoscopes" in bad.json()["detail"]
    assert list(TopicOptOut.objects.filter(user=shopper).values_list("topic", flat=True)) == [
        "news"
    ]
    out = api.patch("/api/v1/me/email-preferences/", {"opted_in": False}, format="json").json()
    assert out["opted_in"] is False and out["frequency"] == "fewer"
    actions = MarketingConsentRecord.objects.filter(user=shopper).order_by("pk")
    assert [r.action for r in actions] == ["granted", "revoked"]


def test_staff_schedule_and_cancel_a_campaign(staff_api):
    segment = Segment.objects.filter(is_builtin=True).first()
    campaign = Campaign.objects.create(
        name="Winter picks",
        subject_template="Hello {{ first_name }}",
        html_template="<p>Hi</p>",
        text_template="Hi",
    )
    url = f"/api/v1/staff/campaigns/{campaign.pk}/"
    no_target = staff_api.post(url + "schedule/")
    assert no_target.status_code == 400 and "segment" in no_target.json()["detail"]
    campaign.segments.add(segment)
    scheduled = staff_api.post(url + "schedule/")
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["status"] in {"scheduled", "planned"}
    again = staff_api.post(url + "schedule/")
    assert again.status_code == 400 and "draft" in again.json()["detail"]
    cancelled = staff_api.post(url + "cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["campaign"]["status"] == "cancelled"
    listed = staff_api.get("/api/v1/staff/campaigns/?status=cancelled").json()["results"]
    assert [c["id"] for c in listed] == [campaign.pk]


# --- privacy ---------------------------------------------------------------------------------


def test_data_export_is_requested_and_followed(api, high_rates, django_capture_on_commit_callbacks):
    shopper = UserFactory()
    api.force_login(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/me/data-exports/")
    assert response.status_code == 202, response.content
    assert DataExport.objects.filter(user=shopper).count() == 1
    exports = api.get("/api/v1/me/data-exports/").json()
    assert exports[0]["status"] == "ready", exports
    download = api.get(exports[0]["download_url"].removeprefix("http://testserver"))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"


def test_erasure_needs_the_session_and_the_password_and_can_be_cancelled(api, high_rates):
    PrivacySettings.objects.update_or_create(pk=1, defaults={"erasure_grace_days": 7})
    shopper = UserFactory()
    shopper.set_password("correct horse battery")
    shopper.save()
    bearer(api, shopper, ["read", "write"])
    by_token = api.post(
        "/api/v1/me/erasure/", {"password": "correct horse battery", "confirm": True}, format="json"
    )
    assert by_token.status_code == 403 and by_token.json()["code"] == "token_not_allowed"
    api.credentials()
    api.force_login(shopper)
    wrong = api.post("/api/v1/me/erasure/", {"password": "nope", "confirm": True}, format="json")
    assert wrong.status_code == 403 and wrong.json()["code"] == "confirmation_failed"
    unticked = api.post(
        "/api/v1/me/erasure/", {"password": "correct horse battery", "confirm": False}
    )
    assert unticked.status_code == 400
    assert not ErasureRequest.objects.filter(user=shopper).exists()

    done = api.post(
        "/api/v1/me/erasure/", {"password": "correct horse battery", "confirm": True}, format="json"
    )
    assert done.status_code == 202, done.content
    assert done.json()["status"] == "scheduled"
    assert api.get("/api/v1/me/erasure/").json()["erasure"]["id"] == done.json()["id"]
    twice = api.post(
        "/api/v1/me/erasure/", {"password": "correct horse battery", "confirm": True}, format="json"
    )
    assert twice.status_code == 409
    cancelled = api.delete("/api/v1/me/erasure/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.delete("/api/v1/me/erasure/").status_code == 409
    assert api.get("/api/v1/me/erasure/").json()["erasure"] is None


def test_a_social_only_account_must_confirm_with_its_provider_first(api, high_rates):
    shopper = UserFactory()
    shopper.set_unusable_password()
    shopper.save()
    api.force_login(shopper)
    cache.delete(f"privacy:reauth-started:{shopper.pk}")
    response = api.post("/api/v1/me/erasure/", {"confirm": True}, format="json")
    assert response.status_code == 403 and "social account" in response.json()["detail"]
    assert not ErasureRequest.objects.filter(user=shopper).exists()


# --- CRM -------------------------------------------------------------------------------------


def test_notes_and_tasks_on_a_customer(api, staff_api, boss):
    customer = UserFactory()
    base = f"/api/v1/staff/customers/{customer.pk}/"
    empty = staff_api.post(base + "notes/", {"body": "   "}, format="json")
    assert empty.status_code == 400
    note = staff_api.post(base + "notes/", {"body": "Called about a parcel."}, format="json")
    assert note.status_code == 201, note.content
    assert note.json()["author"] == boss.pk and note.json()["customer"] == customer.pk
    url = f"/api/v1/staff/notes/{note.json()['id']}/"
    assert staff_api.patch(url, {"body": "Parcel found."}, format="json").json()["body"] == (
        "Parcel found."
    )
    assert [n["body"] for n in staff_api.get(base + "notes/").json()["results"]] == [
        "Parcel found."
    ]
    assert staff_api.delete(url).status_code == 204
    assert staff_api.get(url).status_code == 404

    task = staff_api.post(
        base + "tasks/", {"title": "Call back", "due_on": "2026-12-05"}, format="json"
    )
    assert task.status_code == 201, task.content
    assert task.json()["done"] is False
    url = f"/api/v1/staff/tasks/{task.json()['id']}/"
    shopper_as_assignee = staff_api.patch(url, {"assignee": customer.pk}, format="json")
    assert shopper_as_assignee.status_code == 400
    closed = staff_api.patch(url, {"done": True, "due_on": "2026-12-06"}, format="json").json()
    assert closed["done"] is True and closed["done_at"] and closed["due_on"] == "2026-12-06"
    reopened = staff_api.patch(url, {"done": False}, format="json").json()
    assert reopened["done"] is False and reopened["done_at"] is None
    assert staff_api.delete(url).status_code == 204
    staff = UserFactory(is_staff=True)
    assert staff_api.get(f"/api/v1/staff/customers/{staff.pk}/notes/").status_code == 404


def test_support_may_add_notes_but_not_rewrite_them(api, high_rates):
    support = in_role("Support")
    customer = UserFactory()
    bearer(api, support, ["read", "write", "staff"])
    note = api.post(
        f"/api/v1/staff/customers/{customer.pk}/notes/", {"body": "Asked for a refund."}
    )
    assert note.status_code == 201, note.content
    refused = api.patch(f"/api/v1/staff/notes/{note.json()['id']}/", {"body": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    marketing = in_role("Marketing")
    bearer(api, marketing, ["read", "write", "staff"])
    assert api.get(f"/api/v1/staff/customers/{customer.pk}/notes/").status_code == 403
    assert api.get("/api/v1/staff/segments/").status_code == 200


# --- constant queries per page ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/staff/segments/",
        "/api/v1/staff/banners/",
        "/api/v1/staff/coupons/",
        "/api/v1/staff/campaigns/",
        "/api/v1/staff/customers/{customer}/notes/",
        "/api/v1/staff/customers/{customer}/tasks/",
    ],
)
def test_new_staff_lists_run_the_same_queries_for_3_or_12_rows(url, boss):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from crm.services import note_add, task_add
    from personalization.banners.services import banner_save
    from personalization.segments.services import segment_create

    customer = UserFactory()
    client = APIClient()
    client.force_login(boss)
    url = url.format(customer=customer.pk)
    made = {"n": 0}

    def grow(n):
        for _ in range(n):
            made["n"] += 1
            i = made["n"]
            segment = segment_create(name=f"S{i}", slug=f"api-s{i}", rules=NEW_SHOPPERS)
            banner_save(
                fields={"name": f"B{i}", "placement": "home_hero"},
                segment_ids=[segment.pk],
                variants=[{"headline": "A"}, {"name": "B", "headline": "B"}],
            )
            coupon_issue(
                reason="Thanks", benefit_type="percentage", benefit_value=5, owner=customer
            )
            campaign = Campaign.objects.create(
                name=f"C{i}", subject_template="Hi", html_template="Hi", text_template="Hi"
            )
            campaign.segments.add(segment)
            note_add(customer=customer, author=boss, body=f"Note {i}")
            task_add(customer=customer, created_by=boss, title=f"Task {i}", due_on="2026-12-05")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return len(ctx.captured_queries)

    grow(3)
    client.get(url)  # warm the caches first
    small = count()
    grow(9)
    assert count() == small, f"{url}: {small} queries for 3 rows, more for 12"
