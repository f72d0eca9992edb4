"""Outreach test set-up: a real SMTP sink on loopback, segments, opted-in shoppers."""

import socket
from datetime import time

import pytest

from config import mailsink
from personalization.outreach import services
from personalization.outreach.models import BudgetSettings, Campaign, MarketingConsentRecord
from tests.factories import UserFactory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """A running aiosmtpd sink: ``messages()`` reads what arrived; ``handler`` refuses/stalls."""

    def __init__(self, path, port):
        self.path, self.port = path, port
        self.controller = mailsink.start(port=port, path=path)
        self.handler = self.controller.handler

    def messages(self):
        return mailsink.messages(self.path)

    def refuse(self, address: str, reply: str):
        self.handler.refuse[address.lower()] = reply

    def stop(self):
        self.controller.stop()


@pytest.fixture
def sink(tmp_path, settings):
    port = free_port()
    server = Sink(tmp_path / "mail", port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.OUTREACH_EMAIL_BACKEND = ""
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield server
    server.handler.release()
    server.stop()


@pytest.fixture
def budget(db):
    """The default budget with quiet hours switched off (tests that need them set them)."""
    config = BudgetSettings.current()
    config.quiet_start = config.quiet_end = time(0, 0)
    config.send_rate_per_second, config.send_burst = 1000, 1000
    config.default_time_zone = "UTC"
    config.save()
    return config


def opted_in(n=1, *, time_zone="", **kwargs):
    """Shoppers who opted in on the sign-up form (through the service)."""
    users = [UserFactory(**kwargs) for _ in range(n)]
    for user in users:
        services.preferences_update(
            user=user,
            opted_in=True,
            muted_topics=set(),
            frequency="normal",
            time_zone=time_zone,
            source=MarketingConsentRecord.Source.SIGNUP,
        )
    return users


def segment_of(users, slug="target"):
    """A segment whose members are exactly ``users`` (a staff-made CRM-style list)."""
    from personalization.segments.models import Segment, SegmentMembership

    segment, _ = Segment.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, user=u) for u in users], ignore_conflicts=True
    )
    return segment


HTML = (
    "<html><body><h1>Hi {{ first_name }}</h1>{% for p in picks %}"
    '<p><a href="{{ p.url }}">{{ p.name }}</a> {{ p.price }}</p>{% endfor %}'
    "{% if coupon %}<p>Code {{ coupon.code }}</p>{% endif %}</body></html>"
)
TEXT = "Hi {{ first_name }}\n{% for p in picks %}{{ p.name }}: {{ p.url }}\n{% endfor %}"


def campaign(
    segments, *, name="Spring picks", policy="defer", send_at=None, topic="offers", picks=2
):
    c = Campaign.objects.create(
        name=name,
        topic=topic,
        subject_template="{{ first_name }}, picked for you",
        html_template=HTML,
        text_template=TEXT,
        picks_count=picks,
        held_policy=policy,
        send_at=send_at,
    )
    c.segments.set(segments)
    return c
