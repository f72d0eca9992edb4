"""Demo data of outreach: opted-in shoppers in several time zones, the budget, the schedules
and two campaigns planned under the budget. The seed delivers the first campaign's due messages
to the mail sink's Maildir (``var/mail/new``, what ``make run``'s sink serves) through a real SMTP
sink of its own, so the demo opens with a sent campaign; ``make run``'s worker sends the rest as
they fall due. The second shows deferrals (gap, quiet hours) in the decision log."""

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
    campaigns = []
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
        campaigns.append(campaign)
    sent = send_to_mail_sink(campaign_id=campaigns[0].pk)
    stdout.write(
        f"outreach: {opted} shoppers opted in, {schedules} schedules added, "
        f"{planned} messages planned, {sent.get('sent', 0)} of '{campaigns[0].name}' sent to "
        "var/mail (the worker of `make run` sends the rest as they fall due)"
    )


def send_to_mail_sink(*, campaign_id: int) -> dict[str, int]:
    """Send the campaign's due outbox messages through a real SMTP sink (aiosmtpd, on a free
    loopback port for the length of the call) into ``VAR_DIR/mail``, the Maildir that the sink of
    ``make run`` keeps. Returns ``outbox_send_due``'s counts by outcome ("sent", "deferred" ...).

    The budget, quiet hours and suppressions apply as for any send; nothing is sent twice (the
    outbox claims each message once)."""
    import logging
    import socket

    from django.conf import settings
    from django.test import override_settings

    from config.mailsink import start

    from .sending import outbox_send_due

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    sink = start(host="127.0.0.1", port=port, path=settings.VAR_DIR / "mail")
    smtp = override_settings(
        OUTREACH_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    )
    try:
        with smtp:
            return outbox_send_due(campaign_id=campaign_id, max_seconds=120)
    finally:
        sink.stop()
