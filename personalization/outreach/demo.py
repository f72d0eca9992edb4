"""Demo data of outreach: opted-in shoppers in several time zones, the budget, the schedules
and two campaigns planned under the budget. ``make run``'s worker sends the first to the mail
sink (``var/mail/new``); the second shows deferrals (gap, quiet hours) in the decision log."""

HTML = """<html><body style="font:16px/1.5 Arial,sans-serif;color:#1f2937">
<h1 style="font-size:22px">Hi {{ first_name }}, picked for you</h1>
<p>New this week, chosen from what you like at Agora:</p>
{% for p in picks %}<p><a href="{{ p.url }}" style="color:#1d4ed8;font-weight:bold">{{ p.name }}</a>
 &middot; &euro;{{ p.price }}</p>{% endfor %}
{% if coupon %}<p>Your code: <strong>{{ coupon.code }}</strong>
 {{ coupon.description }}</p>{% endif %}
<p><a href="{{ shop_url }}">Visit the store</a></p>
</body></html>"""
TEXT = """Hi {{ first_name }}, picked for you

{% for p in picks %}- {{ p.name }} (EUR {{ p.price }}): {{ p.url }}
{% endfor %}
Visit the store: {{ shop_url }}"""
ZONES = [
    "Europe/Oslo",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
]
CAMPAIGNS = [
    ("Picked for you this week", "picks", "{{ first_name }}, picked for you this week"),
    ("Weekend offers", "offers", "This weekend at Agora, {{ first_name }}"),
]


def seed(*, stdout) -> None:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from personalization.segments import builtin
    from personalization.segments.models import Segment
    from personalization.segments.services import segments_refresh

    from . import planning, services
    from .models import BudgetSettings, Campaign, MarketingConsentRecord, Subscriber
    from .schedules import ensure_schedules

    BudgetSettings.current()
    schedules = ensure_schedules()
    shoppers = list(
        get_user_model()
        .objects.filter(email__regex=r"^shopper[0-9]+@agora\.test$")
        .order_by("email")[:24]
    )
    opted = 0
    for n, user in enumerate(shoppers):
        if Subscriber.objects.filter(user=user).exists():
            continue
        services.preferences_update(
            user=user,
            opted_in=True,
            muted_topics={"news"} if n % 7 == 6 else set(),
            frequency="fewer" if n % 5 == 4 else "normal",
            pause_weeks=2 if n == 5 else 0,
            time_zone=ZONES[n % len(ZONES)],
            source=MarketingConsentRecord.Source.DEMO,
        )
        opted += 1
    builtin.ensure_builtin_segments()
    segment = Segment.objects.get(slug="new-shoppers")
    segments_refresh(segment_ids=[segment.pk])
    planned = 0
    for name, topic, subject in CAMPAIGNS:
        campaign, created = Campaign.objects.get_or_create(
            name=name,
            defaults={
                "topic": topic,
                "subject_template": subject,
                "html_template": HTML,
                "text_template": TEXT,
                "picks_count": 3,
                "status": Campaign.Status.SCHEDULED,
                # The weekly picks take shoppers who join the segment for a week.
                "ends_at": timezone.now() + timedelta(days=7) if topic == "picks" else None,
            },
        )
        if created:
            campaign.segments.set([segment])
            planned += planning.campaign_plan(campaign_id=campaign.pk)
    stdout.write(
        f"outreach: {opted} shoppers opted in, {schedules} schedules added, "
        f"{planned} messages planned (the worker of `make run` sends them to var/mail)"
    )
