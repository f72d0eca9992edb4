"""Demo data of the API: a personal access token for the staff account and an example webhook
endpoint (inactive until staff point it at a receiver they run)."""

from django.conf import settings
from django.contrib.auth import get_user_model

from .models import PersonalAccessToken
from .services import token_create

DEMO_TOKEN_NAME = "demo: make run"
DEMO_WEBHOOK_URL = "https://webhooks.example.com/agora"


def seed(*, stdout) -> None:
    from webhooks.models import WebhookEndpoint
    from webhooks.schedules import ensure_schedule

    ensure_schedule()
    staff = get_user_model().objects.filter(is_staff=True).order_by("pk").first()
    if (
        staff is not None
        and not PersonalAccessToken.objects.filter(user=staff, name=DEMO_TOKEN_NAME).exists()
    ):
        created = token_create(user=staff, name=DEMO_TOKEN_NAME, scopes=["read", "write", "staff"])
        stdout.write(
            f"api: token for {staff.email} (shown once): {created.raw}\n"
            f"     try: curl -H 'Authorization: Bearer {created.raw}' "
            f"{settings.SITE_URL}/api/v1/staff/customers/\n"
            "     and: /api/v1/staff/segments/, /api/v1/staff/banners/, /api/v1/staff/campaigns/, "
            "/api/v1/me/rewards/ (see /api/docs/)"
        )
    if not WebhookEndpoint.objects.filter(url=DEMO_WEBHOOK_URL).exists():
        WebhookEndpoint.objects.create(
            url=DEMO_WEBHOOK_URL,
            description="Example: point it at your receiver, then tick Active.",
            events=[
                "order.placed",
                "order.status_changed",
                "review.published",
                "segment.entered",
                "segment.left",
                "coupon.issued",
                "coupon.redeemed",
                "customer.erased",
            ],
            is_active=False,
            disabled_reason="Demo endpoint: set the URL of a receiver you run.",
        )
        stdout.write("api: example webhook endpoint added (inactive) in Admin → Webhooks")
