"""Staff writes over the API that the admin pages can do: create and change a draft campaign,
issue a coupon by hand, upload a banner creative's image. Each goes through the app's service
with the admin form's rules: success, bad input (a 400 problem naming the field, nothing
saved) and a role that the admin would refuse."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from personalization.banners.models import Banner
from personalization.banners.services import IMAGE_MAX_BYTES, banner_save
from personalization.loyalty.models import Coupon
from personalization.outreach.models import Campaign
from personalization.segments.models import Segment
from tests.api.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/staff/campaigns/"
COUPONS = "/api/v1/staff/coupons/"


def as_role(api, role: str):
    """A staff token for a member of one of the admin's roles (crm.roles groups)."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return bearer(api, user, ["read", "write", "staff"]), user


@pytest.fixture
def marketing(api, high_rates):
    client, user = as_role(api, "Marketing")
    assert user.has_perms(["outreach.add_campaign", "loyalty.add_coupon", "banners.change_banner"])
    return client


def campaign_body(**extra):
    segment = Segment.objects.filter(is_builtin=True).first()
    assert segment is not None  # the built-in segments exist (data migration)
    return {
        "name": "Spring picks",
        "topic": "offers",
        "segments": [segment.pk],
        "subject_template": "{{ first_name }}, spring picks",
        "html_template": "<p>Hello {{ first_name }}</p>",
        "text_template": "Hello {{ first_name }}",
        "send_at": "2030-03-01T09:00:00Z",
        "ends_at": "2030-03-08T09:00:00Z",
        "held_policy": "drop",
        "picks_count": 4,
        **extra,
    }


# --- campaigns -------------------------------------------------------------------------------


def test_staff_create_then_change_a_draft_campaign(marketing):
    created = marketing.post(CAMPAIGNS, campaign_body(), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["held_policy"] == "drop"
    campaign = Campaign.objects.get(pk=body["id"])
    assert (
        campaign.created_by is not None
        and campaign.created_by.groups.filter(name="Marketing").exists()
    )
    assert list(campaign.segments.values_list("pk", flat=True)) == body["segments"] != []
    assert campaign.picks_count == 4 and campaign.ends_at.year == 2030

    changed = marketing.patch(
        f"{CAMPAIGNS}{campaign.pk}/", {"name": "Spring picks (v2)", "segments": []}, format="json"
    )
    assert changed.status_code == 200, changed.content
    campaign.refresh_from_db()
    assert campaign.name == "Spring picks (v2)"
    assert campaign.segments.count() == 0
    assert campaign.subject_template == "{{ first_name }}, spring picks"  # left out: kept


def test_a_bad_campaign_is_refused_naming_the_field_and_nothing_is_saved(marketing):
    before = Campaign.objects.count()
    cases = [
        ({"ends_at": "2030-02-01T09:00:00Z"}, "ends_at"),  # ends before it starts
        ({"held_policy": "shred"}, "held_policy"),
        ({"picks_count": 9}, "picks_count"),
        ({"segments": [987654]}, "segments"),
        ({"name": ""}, "name"),
        ({"send_at": "next tuesday"}, "send_at"),
        ({"colour": "red"}, "colour"),
        ({"send_at": ["2030-03-01"]}, "send_at"),  # a JSON list where a date goes
    ]
    for extra, field in cases:
        response = marketing.post(CAMPAIGNS, campaign_body(**extra), format="json")
        assert response.status_code == 400, (extra, response.content)
        problem = response.json()
        assert problem["code"] == "invalid"
        assert f"#/{field}" in [e["pointer"] for e in problem["errors"]], (extra, problem)
    assert Campaign.objects.count() == before

    draft = marketing.post(CAMPAIGNS, campaign_body(), format="json").json()
    bad = marketing.patch(f"{CAMPAIGNS}{draft['id']}/", {"picks_count": -1}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "#/picks_count"
    assert Campaign.objects.get(pk=draft["id"]).picks_count == 4


def test_only_a_draft_campaign_can_be_changed(marketing):
    draft = marketing.post(CAMPAIGNS, campaign_body(), format="json").json()
    Campaign.objects.filter(pk=draft["id"]).update(status=Campaign.Status.SCHEDULED)
    response = marketing.patch(f"{CAMPAIGNS}{draft['id']}/", {"name": "Late"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "campaign_not_draft"
    assert Campaign.objects.get(pk=draft["id"]).name == "Spring picks"
    missing = marketing.patch(f"{CAMPAIGNS}987654/", {"name": "x"}, format="json")
    assert missing.status_code == 404


def test_a_role_without_campaign_rights_is_refused(api, high_rates):
    client, user = as_role(api, "Moderator")
    assert not user.has_perm("outreach.add_campaign")
    before = Campaign.objects.count()
    response = client.post(CAMPAIGNS, campaign_body(), format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    shopper = APIClient()
    shopper.force_login(UserFactory())
    refused = shopper.post(CAMPAIGNS, campaign_body(), format="json")
    assert refused.status_code == 403 and "staff" in refused.json()["detail"]
    assert Campaign.objects.count() == before


# --- coupons ---------------------------------------------------------------------------------


def test_staff_issue_a_coupon_to_a_shopper_and_a_public_code(marketing):
    shopper = UserFactory()
    now = timezone.now()
    personal = marketing.post(
        COUPONS,
        {
            "reason": "Sorry your parcel was late",
            "kind": "single",
            "owner": shopper.pk,
            "benefit_type": "percentage",
            "benefit_value": "10.00",
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(days=30)).isoformat(),
            "max_uses_per_shopper": 1,
            "min_subtotal": "20.00",
        },
        format="json",
    )
    assert personal.status_code == 201, personal.content
    coupon = Coupon.objects.get(pk=personal.json()["id"])
    assert coupon.owner == shopper and coupon.max_uses == 1 and coupon.trigger == "staff"
    assert coupon.issued_by is not None and coupon.conditions[0]["type"] == "min_subtotal"
    mine = bearer(APIClient(), shopper, ["read"]).get("/api/v1/me/coupons/").json()
    assert [c["code"] for c in mine] == [coupon.code]

    public = marketing.post(
        COUPONS,
        {
            "reason": "Spring fair",
            "kind": "shared",
            "code": "spring fair 26",
            "benefit_type": "free_shipping",
            "benefit_value": "0",
            "valid_from": now.isoformat(),
        },
        format="json",
    )
    assert public.status_code == 201, public.content
    assert public.json()["code"] == "SPRINGFAIR26" and public.json()["owner"] is None


def test_a_bad_coupon_is_refused_naming_the_field_and_nothing_is_saved(marketing):
    now = timezone.now().isoformat()
    base = {"reason": "Why", "kind": "shared", "benefit_type": "fixed", "benefit_value": "5"}
    Coupon.objects.create(
        code="TAKEN", kind="shared", reason="x", benefit_type="fixed", valid_from=now
    )
    before = Coupon.objects.count()
    cases = [
        ({"kind": "single"}, "owner"),  # a single code needs its shopper
        ({"benefit_type": "percentage", "benefit_value": "150"}, "benefit_value"),
        ({"benefit_value": "0"}, "benefit_value"),  # a zero-value coupon takes €0.00 off
        ({"benefit_type": "gift"}, "benefit_type"),
        ({"reason": ""}, "reason"),
        ({"code": "TAKEN"}, "code"),
        ({"code": "no/slash"}, "code"),
        ({"owner": 987654, "kind": "single"}, "owner"),
        ({"valid_until": [now]}, "valid_until"),  # a JSON list where a date goes
    ]
    for extra, field in cases:
        response = COUPON_POST(marketing, {**base, "valid_from": now, **extra})
        assert response.status_code == 400, (extra, response.content)
        pointers = [e["pointer"] for e in response.json()["errors"]]
        wanted = "#" if field == "__all__" else f"#/{field}"
        assert wanted in pointers, (extra, response.json())
    assert Coupon.objects.count() == before


def COUPON_POST(client, body):
    return client.post(COUPONS, body, format="json")


def test_a_role_without_coupon_rights_is_refused(api, high_rates):
    client, user = as_role(api, "Moderator")
    assert not user.has_perm("loyalty.add_coupon")
    body = {"reason": "x", "kind": "shared", "benefit_type": "free_shipping"}
    response = client.post(COUPONS, body, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    read_only = bearer(api, UserFactory(is_staff=True, is_superuser=True), ["read", "staff"])
    assert read_only.post(COUPONS, body, format="json").json()["code"] == "insufficient_scope"
    assert not Coupon.objects.exists()


# --- banner creatives ------------------------------------------------------------------------


def image_file(fmt="PNG", size=(40, 20), name="hero.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    buffer.name = name
    buffer.seek(0)
    return buffer


@pytest.fixture
def banner(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    made = banner_save(
        fields={"name": "Winter", "placement": "home_hero"},
        variants=[{"name": "A", "headline": "Winter sale"}],
    )
    return Banner.objects.get(pk=made.pk)


def image_url(banner):
    return f"/api/v1/staff/banners/{banner.pk}/variants/{banner.variants.get().pk}/image/"


def test_staff_upload_a_creative_image(
    marketing, banner, tmp_path, django_capture_on_commit_callbacks
):
    response = marketing.post(image_url(banner), {"image": image_file()}, format="multipart")
    assert response.status_code == 200, response.content
    variant = banner.variants.get()
    assert variant.image.name.startswith("banners/hero")
    assert (tmp_path / variant.image.name).is_file()
    assert response.json()["image"].endswith(variant.image.name)
    first = tmp_path / variant.image.name
    with django_capture_on_commit_callbacks(execute=True):
        again = marketing.post(
            image_url(banner), {"image": image_file("JPEG", name="hero2.jpg")}, format="multipart"
        )
    assert again.status_code == 200, again.content
    variant.refresh_from_db()
    assert variant.image.name.endswith(".jpg") and not first.exists()  # the old file is gone


def test_a_bad_file_is_refused_and_the_creative_keeps_its_image(marketing, banner):
    first = marketing.post(image_url(banner), {"image": image_file()}, format="multipart")
    assert first.status_code == 200, first.content
    kept = banner.variants.get().image.name
    assert kept
    text = io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    text.name = "evil.svg"
    big = io.BytesIO(b"\0" * (IMAGE_MAX_BYTES + 1))
    big.name = "huge.png"
    for upload, words in [
        (text, "image"),
        (image_file("BMP", name="old.bmp"), "BMP"),
        (big, "MB"),
    ]:
        response = marketing.post(image_url(banner), {"image": upload}, format="multipart")
        assert response.status_code == 400, response.content
        problem = response.json()
        assert problem["errors"][0]["pointer"] == "#/image" and words in problem["detail"]
    nothing = marketing.post(image_url(banner), {}, format="multipart")
    assert nothing.status_code == 400 and nothing.json()["errors"][0]["pointer"] == "#/image"
    as_json = marketing.post(image_url(banner), {"image": "x"}, format="json")
    assert as_json.status_code == 415
    assert banner.variants.get().image.name == kept
    other = marketing.post(
        f"/api/v1/staff/banners/{banner.pk}/variants/987654/image/",
        {"image": image_file()},
        format="multipart",
    )
    assert other.status_code == 404


def test_a_role_without_banner_rights_cannot_upload(api, high_rates, banner):
    client, user = as_role(api, "Moderator")
    assert not user.has_perm("banners.change_banner")
    response = client.post(image_url(banner), {"image": image_file()}, format="multipart")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not banner.variants.get().image


def test_the_admin_creative_form_checks_images_the_same_way(banner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from personalization.banners.admin import VariantForm

    variant = banner.variants.get()
    base = {f: getattr(variant, f) for f in ("name", "weight", "headline", "cta_label", "cta_url")}
    base.update(banner=banner.pk, impressions=0, clicks=0)
    bmp = SimpleUploadedFile("old.bmp", image_file("BMP").read(), content_type="image/bmp")
    refused = VariantForm(data=base, files={"image": bmp}, instance=variant)
    assert not refused.is_valid() and "BMP" in refused.errors["image"][0]
    png = SimpleUploadedFile("ok.png", image_file().read(), content_type="image/png")
    accepted = VariantForm(data=base, files={"image": png}, instance=variant)
    assert accepted.is_valid(), accepted.errors
