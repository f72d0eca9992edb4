"""Planning and sending through a real SMTP sink on loopback: headers, exactly once, bounces,
suppression, held-back policies, quiet hours, engagement backoff."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from personalization import events
from personalization.outreach import planning, receivers, sending, services
from personalization.outreach.models import (
    Campaign,
    MarketingConsentRecord,
    OutreachDecision,
    OutreachMessage,
    Subscriber,
    Suppression,
)
from tests.factories import ProductFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def schedule(c):
    """Schedule as staff do; the eager tasks after commit plan it, then send what is due."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.campaign_schedule(campaign=c)
    c.refresh_from_db()
    return c


def test_campaign_reaches_opted_in_members_once_with_unsubscribe_headers(sink, budget):
    ProductFactory(name="Trail Shoe")
    members = opted_in(2)
    outsider = opted_in(1)[0]
    not_opted = opted_in(1)[0]
    services.marketing_consent_set(
        user=not_opted, opted_in=False, source=MarketingConsentRecord.Source.ACCOUNT
    )
    c = campaign([segment_of([*members, not_opted])])
    assert outsider not in members

    schedule(c)

    got = sink.messages()
    assert sorted(m["To"] for m in got) == sorted(u.email for u in members)
    stored = {m.email: m for m in OutreachMessage.objects.filter(campaign=c)}
    assert set(stored) == {u.email for u in members}
    for mail in got:
        row = stored[mail["To"]]
        assert row.status == "sent" and row.sent_at is not None
        assert mail["Message-ID"] == row.message_id  # stored before sending
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsub = mail["List-Unsubscribe"]
        assert "/email/unsubscribe/" in unsub and "<mailto:unsubscribe@agora.test?" in unsub
        assert mail["Subject"].endswith(", picked for you")
        html = mail.get_body(("html",)).get_content()
        assert "Trail Shoe" in html and "/email/o/" in html and "/email/c/?t=" in html
    # Running the sender again (a duplicated task) sends nothing more.
    assert sending.outbox_send_due() == {}
    assert len(sink.messages()) == 2


def test_planning_twice_adds_nothing(sink, budget):
    users = opted_in(3)
    c = campaign([segment_of(users)])
    schedule(c)
    assert planning.campaign_plan(campaign_id=c.pk) == 0
    assert OutreachMessage.objects.filter(campaign=c).count() == 3
    assert OutreachDecision.objects.filter(campaign=c, outcome="scheduled").count() == 3


def test_second_campaign_defers_or_drops_by_policy(sink, budget):
    users = opted_in(2)
    seg = segment_of(users)
    schedule(campaign([seg], name="First"))
    assert len(sink.messages()) == 2
    deferred = schedule(campaign([seg], name="Deferred", policy="defer"))
    dropped = schedule(campaign([seg], name="Dropped", policy="drop"))

    assert len(sink.messages()) == 2  # nothing more went out
    d_rows = OutreachMessage.objects.filter(campaign=deferred)
    assert {m.status for m in d_rows} == {"planned"}
    for m in d_rows:
        assert m.rule == "gap" and m.slot_at >= timezone.now() + timedelta(hours=23)
        decision = m.decisions.get()
        assert decision.outcome == "deferred" and decision.until == m.slot_at
        assert decision.reason == "minimum gap of 24 h since the last email"
    # The deferred one holds its reservation: two emails in the window, so the cap drops this.
    x_rows = OutreachMessage.objects.filter(campaign=dropped)
    assert {(m.status, m.rule, m.reason) for m in x_rows} == {
        ("dropped", "cap", "2 emails in the last 7 days")
    }


def test_hard_bounce_suppresses_and_soft_bounce_retries_with_backoff(sink, budget):
    hard, soft, fine = opted_in(3)
    sink.refuse(hard.email, "550 5.1.1 No such user here")
    sink.refuse(soft.email, "451 4.2.0 Mailbox busy, try later")
    c = schedule(campaign([segment_of([hard, soft, fine])]))

    assert [m["To"] for m in sink.messages()] == [fine.email]
    bounced = OutreachMessage.objects.get(campaign=c, user=hard)
    assert bounced.status == "bounced" and bounced.last_error.startswith("550")
    suppression = Suppression.objects.get(email=hard.email.lower())
    assert (suppression.reason, suppression.source) == ("hard_bounce", "smtp")
    retry = OutreachMessage.objects.get(campaign=c, user=soft)
    assert (retry.status, retry.attempts) == ("planned", 1)
    assert retry.next_attempt_at >= timezone.now() + timedelta(minutes=14)
    assert retry.decisions.first().outcome == "retry"

    # The mailbox recovers; at the retry time the message goes out (once).
    del sink.handler.refuse[soft.email.lower()]
    OutreachMessage.objects.filter(pk=retry.pk).update(next_attempt_at=timezone.now())
    assert sending.outbox_send_due() == {"sent": 1}
    assert sorted(m["To"] for m in sink.messages()) == sorted([fine.email, soft.email])

    # The bounced address gets no further marketing: the next campaign skips it at planning.
    later = campaign([segment_of([hard, soft, fine])], name="Later")
    schedule(later)
    assert not OutreachMessage.objects.filter(campaign=later, user=hard).exists()


def test_soft_bounces_give_up_after_the_last_attempt(sink, budget):
    budget.soft_bounce_max_attempts = 2
    budget.save()
    (user,) = opted_in(1)
    sink.refuse(user.email, "452 4.2.2 Over quota")
    c = schedule(campaign([segment_of([user])]))
    OutreachMessage.objects.filter(campaign=c).update(next_attempt_at=timezone.now())
    assert sending.outbox_send_due() == {"failed": 1}
    message = OutreachMessage.objects.get(campaign=c)
    assert (message.status, message.attempts) == ("failed", 2)
    assert not Suppression.objects.exists()  # temporary refusals never suppress


def test_complaint_and_reported_bounce_are_kept_apart_and_stop_mail(sink, budget):
    complainer, bouncer, fine = opted_in(3)
    assert receivers.tracking_event(event_type="complained", recipient=complainer.email.upper())
    assert receivers.tracking_event(event_type="bounced", recipient=bouncer.email)
    assert receivers.tracking_event(event_type="delivered", recipient=fine.email) is None

    assert Suppression.objects.get(email=complainer.email).reason == "complaint"
    assert Suppression.objects.get(email=bouncer.email).reason == "hard_bounce"
    # A complaint is also an opt-out in the shopper's consent history.
    record = MarketingConsentRecord.objects.filter(user=complainer).first()
    assert (record.action, record.source) == ("revoked", "complaint")
    assert Subscriber.objects.get(user=bouncer).marketing_opt_in  # a bounce is not consent

    c = schedule(campaign([segment_of([complainer, bouncer, fine])]))
    assert [m["To"] for m in sink.messages()] == [fine.email]
    assert OutreachMessage.objects.filter(campaign=c).count() == 1


def test_sender_rechecks_consent_at_send_time(sink, budget):
    (user,) = opted_in(1)
    c = campaign([segment_of([user])], send_at=timezone.now() + timedelta(hours=1))
    schedule(c)
    message = OutreachMessage.objects.get(campaign=c)
    assert message.status == "planned"
    services.marketing_consent_set(
        user=user, opted_in=False, source=MarketingConsentRecord.Source.ACCOUNT
    )
    OutreachMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert sending.outbox_send_due() == {"dropped": 1}
    message.refresh_from_db()
    assert (message.status, message.rule) == ("dropped", "not_opted_in")
    assert sink.messages() == []


def test_quiet_hours_in_two_zones_defer_to_each_ones_morning(sink, budget):
    budget.quiet_start, budget.quiet_end = time(21, 0), time(8, 0)
    budget.save()
    (oslo,) = opted_in(1, time_zone="Europe/Oslo")
    (ny,) = opted_in(1, time_zone="America/New_York")
    # 21:30 UTC on a winter day: 22:30 in Oslo (quiet), 16:30 in New York (fine).
    start = datetime(2030, 1, 15, 21, 30, tzinfo=UTC)
    c = campaign([segment_of([oslo, ny])], send_at=start, policy="drop")
    c.status = Campaign.Status.SCHEDULED
    c.save()
    planning.campaign_plan(campaign_id=c.pk, now=start - timedelta(minutes=1))

    m_oslo = OutreachMessage.objects.get(campaign=c, user=oslo)
    m_ny = OutreachMessage.objects.get(campaign=c, user=ny)
    assert (m_ny.status, m_ny.slot_at, m_ny.rule) == ("planned", start, "on_time")
    # Deferred, not dropped, even with the drop policy: to 08:00 Oslo (07:00 UTC in winter).
    assert m_oslo.status == "planned"
    assert m_oslo.slot_at == datetime(2030, 1, 16, 7, 0, tzinfo=UTC)
    assert m_oslo.reason == "quiet hours until 08:00 Europe/Oslo"
    assert m_oslo.decisions.get().outcome == "deferred"


@pytest.mark.postgres
def test_quiet_hours_over_the_dst_change_in_the_planning_sql(sink, budget):
    budget.quiet_start, budget.quiet_end = time(21, 0), time(8, 0)
    budget.save()
    (oslo,) = opted_in(1, time_zone="Europe/Oslo")
    (ny,) = opted_in(1, time_zone="America/New_York")
    start = datetime(2030, 3, 31, 1, 30, tzinfo=UTC)  # 03:30 CEST (changed at 01:00 UTC), 21:30 EDT
    c = campaign([segment_of([oslo, ny])], send_at=start)
    c.status = Campaign.Status.SCHEDULED
    c.save()
    planning.campaign_plan(campaign_id=c.pk, now=start - timedelta(minutes=1))
    slots = dict(OutreachMessage.objects.filter(campaign=c).values_list("user_id", "slot_at"))
    assert slots[oslo.pk] == datetime(2030, 3, 31, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert slots[ny.pk] == datetime(2030, 3, 31, 12, 0, tzinfo=UTC)  # 08:00 EDT (since 10 Mar)


def test_engagement_backoff_longer_gap_then_pause_and_a_visit_resets(sink, budget):
    budget.backoff_after, budget.pause_after = 2, 1
    budget.min_gap_hours, budget.max_per_window = 0, 50
    budget.save()
    (user,) = opted_in(1)
    seg = segment_of([user])
    for n in range(2):
        schedule(campaign([seg], name=f"C{n}"))
    assert len(sink.messages()) == 2  # two unopened emails
    backoff = schedule(campaign([seg], name="Backoff"))
    m = OutreachMessage.objects.get(campaign=backoff)
    assert (m.status, m.rule) == ("planned", "backoff_gap")
    assert m.reason == "longer gap of 96 h: no opens or clicks in the last 2 emails"

    # Sent anyway at its slot (pretend the time came): now three unopened, so paused.
    OutreachMessage.objects.filter(pk=m.pk).update(
        status="sent", sent_at=timezone.now() - timedelta(hours=1), slot_at=timezone.now()
    )
    paused = schedule(campaign([seg], name="Paused"))
    p = OutreachMessage.objects.get(campaign=paused)
    assert (p.status, p.rule) == ("dropped", "engagement_pause")
    assert p.reason == "paused: no opens or clicks in the last 3 emails"

    # The shopper visits the store: engaged again, back to the normal rhythm.
    events.record("view", user=user, product=ProductFactory())
    again = schedule(campaign([seg], name="Again"))
    assert OutreachMessage.objects.get(campaign=again).decisions.last().rule == "on_time"
    assert len(sink.messages()) == 3


@pytest.mark.postgres
def test_sql_plan_equals_the_python_rule(budget):
    """The set-based planner and ``budget.decide`` agree shopper by shopper."""
    import random

    from django.db import transaction

    budget.quiet_start, budget.quiet_end = time(22, 0), time(7, 0)
    budget.save()
    rnd = random.Random(7)
    zones = ["Europe/Oslo", "America/New_York", "Asia/Tokyo", "", "Australia/Sydney"]
    users = []
    for _ in range(40):
        (u,) = opted_in(1, time_zone=rnd.choice(zones))
        users.append(u)
        if rnd.random() < 0.3:
            Subscriber.objects.filter(user=u).update(frequency="fewer")
    seg = segment_of(users)
    now = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    # Random history: earlier campaigns sent or planned at random moments.
    for k in range(3):
        old = campaign([seg], name=f"Old {k}")
        for u in users:
            if rnd.random() < 0.6:
                at = now + timedelta(hours=rnd.randint(-200, 100))
                sent = at < now
                OutreachMessage.objects.create(
                    campaign=old,
                    user=u,
                    email=u.email,
                    message_id=f"<o{k}.{u.pk}@t>",
                    status="sent" if sent else "planned",
                    slot_at=at,
                    sent_at=at if sent else None,
                    next_attempt_at=None if sent else at,
                )
    results = {}
    for vendor_sql in (True, False):
        c = campaign([seg], name=f"New {vendor_sql}", policy=rnd.choice(["defer", "drop"]))
        c.held_policy = "defer"
        c.status = Campaign.Status.SCHEDULED
        c.save()
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            params = {"campaign": c.pk, "topic": c.topic}
            if vendor_sql:
                planning._plan_sql(cursor, c, planning._eligible_sql(), params, now)
            else:
                planning._plan_python(cursor, c, planning._eligible_sql(), params, now)
        results[vendor_sql] = {
            m.user_id: (m.status, m.slot_at, m.rule, m.reason)
            for m in OutreachMessage.objects.filter(campaign=c)
        }
        transaction.savepoint_rollback(sid)
    assert len(results[True]) == 40
    assert results[True] == results[False]
    assert {v[2] for v in results[True].values()} >= {"on_time", "gap", "quiet_hours"}


def test_a_pause_from_the_preference_centre_is_kept_by_planning_and_sending(sink, budget):
    paused, active, pauses_later = opted_in(3)
    services.preferences_update(
        user=paused, opted_in=True, muted_topics=set(), frequency="normal", pause_weeks=3
    )
    until = Subscriber.objects.get(user=paused).paused_until
    assert until > timezone.now() + timedelta(weeks=3) - timedelta(minutes=5)
    c = schedule(campaign([segment_of([paused, active])]))
    row = OutreachMessage.objects.get(campaign=c, user=paused)
    assert (row.status, row.rule, row.slot_at) == ("dropped", "shopper_pause", None)
    assert row.reason == f"paused by the shopper until {until.astimezone(UTC):%d %b %Y}"
    (decision,) = row.decisions.all()
    assert (decision.outcome, decision.reason) == ("dropped", row.reason)
    assert [m["To"] for m in sink.messages()] == [active.email]

    # A campaign that starts after the pause ends is planned for them as usual.
    after = campaign([segment_of([paused], slug="after")], name="After", send_at=until + DAY)
    Campaign.objects.filter(pk=after.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=after.pk) == 1
    row = OutreachMessage.objects.get(campaign=after)
    assert (row.status, row.rule, row.slot_at) == ("planned", "on_time", until + DAY)

    # A pause taken after planning: the sender drops what was planned before it.
    before = campaign([segment_of([pauses_later], slug="before")], name="Before")
    Campaign.objects.filter(pk=before.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=before.pk) == 1
    services.preferences_update(
        user=pauses_later, opted_in=True, muted_topics=set(), frequency="normal", pause_weeks=1
    )
    assert sending.outbox_send_due() == {"dropped": 1}
    row = OutreachMessage.objects.get(campaign=before)
    assert (row.status, row.rule) == ("dropped", "shopper_pause")
    assert row.reason.startswith("paused by the shopper until ")
    assert [m["To"] for m in sink.messages()] == [active.email]


@pytest.mark.redis
def test_the_global_send_rate_is_kept_across_a_batch(sink, budget, settings):
    import redis

    from personalization.outreach import ratelimit

    assert settings.REDIS_URL, "the rate lives in Redis here"
    redis.Redis.from_url(settings.REDIS_URL).delete(ratelimit.KEY)
    budget.send_rate_per_second, budget.send_burst = 1, 1
    budget.save()
    users = opted_in(6)
    c = campaign([segment_of(users)], picks=0)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=c.pk) == 6
    # One of them opted out since: dropped at send time.
    services.marketing_consent_set(
        user=users[0], opted_in=False, source=MarketingConsentRecord.Source.ACCOUNT
    )
    started = timezone.now()
    assert sending.outbox_send_due() == {"sent": 5, "dropped": 1}
    sent_at = sorted(
        OutreachMessage.objects.filter(campaign=c, status="sent").values_list("sent_at", flat=True)
    )
    # 1 per second with a burst of 1: five sends span at least 4 s (unthrottled, the five
    # took under 1 s here even on a loaded machine).
    assert sent_at[-1] - sent_at[0] >= timedelta(seconds=3.95)
    assert timezone.now() - started < timedelta(seconds=30)
