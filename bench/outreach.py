"""Outreach at scale: planning a campaign for 100,000 opted-in shoppers under the attention
budget, the budget-violation count after it, and sending throughput to a local SMTP sink.

Rows: outreach.plan_campaign (s; target <= 30 s), outreach.plan_second_campaign (s, the
budget binding for everyone), outreach.budget_violations (count; must be 0),
outreach.send_throughput (messages/s through Django's SMTP backend to aiosmtpd on loopback,
one message per transaction with SKIP LOCKED, as in production).
The bench shoppers are shared with bench.profiles; the outreach rows are removed afterwards.
"""

import socket
import subprocess
import sys
import tempfile
import time
from datetime import time as clock
from pathlib import Path

from django.db import connection, transaction

SEND_MESSAGES = 500
ZONES = ["Europe/Oslo", "America/New_York", "Asia/Tokyo", "Europe/London", "", "Australia/Sydney"]


def _scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchone()[0]


def _execute(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def _clean(names="Bench %%"):
    """Remove the bench campaigns (and their outbox and decisions) and bench segments."""
    for sql in [
        "DELETE FROM outreach_outreachdecision WHERE campaign_id IN "
        "(SELECT id FROM outreach_campaign WHERE name LIKE %(n)s)",
        "UPDATE outreach_suppression SET message_id = NULL WHERE message_id IN (SELECT o.id "
        "FROM outreach_outreachmessage o JOIN outreach_campaign c ON c.id = o.campaign_id "
        "WHERE c.name LIKE %(n)s)",
        "UPDATE outreach_marketingconsentrecord SET message_id = NULL WHERE message_id IN "
        "(SELECT o.id FROM outreach_outreachmessage o JOIN outreach_campaign c "
        "ON c.id = o.campaign_id WHERE c.name LIKE %(n)s)",
        "DELETE FROM outreach_outreachmessage WHERE campaign_id IN "
        "(SELECT id FROM outreach_campaign WHERE name LIKE %(n)s)",
        "DELETE FROM outreach_campaign_segments WHERE campaign_id IN "
        "(SELECT id FROM outreach_campaign WHERE name LIKE %(n)s)",
        "DELETE FROM outreach_campaign WHERE name LIKE %(n)s",
    ]:
        _execute(sql, {"n": names})
    if names == "Bench %%":
        _execute(
            "DELETE FROM segments_segmentmembership WHERE segment_id IN "
            "(SELECT id FROM segments_segment WHERE slug LIKE 'bench-outreach%%')"
        )
        _execute("DELETE FROM segments_segment WHERE slug LIKE 'bench-outreach%%'")


def _setup(shoppers: int, log):
    from bench.profiles import SHOPPERS_SQL
    from personalization.outreach.models import BudgetSettings
    from personalization.segments.models import Segment

    have = _scalar("SELECT count(*) FROM auth_user WHERE username LIKE 'bench%%'")
    if have != shoppers:
        with transaction.atomic():
            _execute("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
            _execute(SHOPPERS_SQL, {"shoppers": shoppers})
        log(f"made {shoppers:,} shoppers")
    _clean()
    _execute(
        """
        INSERT INTO outreach_subscriber (user_id, marketing_opt_in, time_zone, frequency,
            paused_until, updated_at)
        SELECT u.id, true, (%(zones)s::text[])[1 + u.id %% 6],
               CASE WHEN u.id %% 10 = 0 THEN 'fewer' ELSE 'normal' END, NULL, now()
        FROM auth_user u WHERE u.username LIKE 'bench%%'
        ON CONFLICT (user_id) DO NOTHING
        """,
        {"zones": ZONES},
    )
    config = BudgetSettings.current()
    config.max_per_window, config.window_days, config.min_gap_hours = 2, 7, 24
    config.quiet_start, config.quiet_end = clock(21, 0), clock(8, 0)
    config.default_time_zone = "Europe/Oslo"
    config.send_rate_per_second, config.send_burst = 100000, 1000
    config.save()
    everyone = Segment.objects.create(name="Bench outreach all", slug="bench-outreach-all")
    fresh = Segment.objects.create(name="Bench outreach fresh", slug="bench-outreach-fresh")
    _execute(
        """
        INSERT INTO segments_segmentmembership (segment_id, user_id, entered_at, rule_version)
        SELECT %(seg)s, u.id, now(), 1 FROM auth_user u WHERE u.username LIKE 'bench%%'
        """,
        {"seg": everyone.pk},
    )
    return everyone, fresh


def _history(segment, log):
    """Half the shoppers got an email 1–6 days ago: the budget has something to hold."""
    from personalization.outreach.models import Campaign

    earlier = Campaign.objects.create(
        name="Bench earlier",
        subject_template="x",
        html_template="x",
        text_template="x",
        status=Campaign.Status.PLANNED,
    )
    _execute(
        """
        INSERT INTO outreach_outreachmessage (campaign_id, user_id, email, message_id, status,
            slot_at, sent_at, next_attempt_at, attempts, rule, reason, last_error, created_at)
        SELECT %(c)s, m.user_id, 'b' || m.user_id || '@bench.test',
               '<bench-earlier.' || m.user_id || '@bench.test>', 'sent',
               now() - (1 + m.user_id %% 6) * interval '1 day' - interval '1 hour',
               now() - (1 + m.user_id %% 6) * interval '1 day' - interval '1 hour',
               NULL, 1, 'sent', 'sent', '', now()
        FROM segments_segmentmembership m WHERE m.segment_id = %(seg)s AND m.user_id %% 2 = 0
        """,
        {"c": earlier.pk, "seg": segment.pk},
    )
    # A week of sending would have been analyzed by autovacuum; without it the first plan
    # sees an outbox of ~0 rows (after _clean) and joins in nested loops for minutes.
    _execute("ANALYZE outreach_outreachmessage")
    log("history: half the shoppers were emailed 1–6 days ago")


def _campaign(name, segments):
    from personalization.outreach.models import Campaign

    c = Campaign.objects.create(
        name=name,
        subject_template="Hi {{ first_name }}",
        html_template="<p>Hi {{ first_name }}</p>",
        text_template="Hi {{ first_name }}",
        picks_count=0,
        status=Campaign.Status.SCHEDULED,
    )
    c.segments.set(segments)
    return c


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the mail sink did not start on port {port}")


def _send_throughput(fresh, log) -> float:
    from django.conf import settings

    from personalization.outreach import planning, sending
    from personalization.outreach.models import BudgetSettings

    _execute(
        """
        INSERT INTO segments_segmentmembership (segment_id, user_id, entered_at, rule_version)
        SELECT %(seg)s, s.user_id, now(), 1 FROM outreach_subscriber s
        JOIN auth_user u ON u.id = s.user_id
        WHERE u.username LIKE 'bench%%' AND s.time_zone = 'America/New_York'
          AND NOT EXISTS (SELECT 1 FROM outreach_outreachmessage o WHERE o.user_id = s.user_id
                          AND o.status IN ('planned', 'sent'))
        ORDER BY s.user_id LIMIT %(n)s
        """,
        {"seg": fresh.pk, "n": SEND_MESSAGES},
    )
    c = _campaign("Bench send", [fresh])
    planning.campaign_plan(campaign_id=c.pk)
    # Due now whatever the hour (quiet hours would move some): measure the sending itself.
    _execute(
        "UPDATE outreach_outreachmessage SET next_attempt_at = now(), slot_at = now() "
        "WHERE campaign_id = %(c)s AND status = 'planned'",
        {"c": c.pk},
    )
    due = _scalar(
        "SELECT count(*) FROM outreach_outreachmessage WHERE campaign_id = %(c)s "
        "AND status = 'planned'",
        {"c": c.pk},
    )
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # Quiet hours would hold some zones whatever the slot says: measure the sending itself.
    config = BudgetSettings.current()
    config.quiet_start = config.quiet_end = clock(0, 0)
    config.save()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        # The sink runs in its own process, as an SMTP server does (in this process it would
        # share the sender's interpreter lock and the figure would measure that).
        sink = subprocess.Popen(
            [sys.executable, "-m", "config.mailsink", "--port", str(port), "--path", f"{tmp}/mail"],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(port)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.OUTREACH_EMAIL_BACKEND = ""
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        # A running worker has its URL resolver built (the first tracked link builds it once).
        from django.urls import reverse

        reverse("outreach:preferences")
        try:
            started = time.perf_counter()
            counts = sending.outbox_send_due(
                max_messages=due + 10, max_seconds=600, campaign_id=c.pk
            )
            seconds = time.perf_counter() - started
        finally:
            sink.terminate()
            sink.wait(10)
    log(f"sent {counts.get('sent', 0):,} of {due:,} due in {seconds:.2f} s ({counts})")
    return counts.get("sent", 0) / seconds


def run(*, shoppers: int, events: int) -> list[dict]:
    from personalization.outreach import planning

    def log(message):
        print(f"[outreach] {message}", flush=True)

    everyone, fresh = _setup(shoppers, log)
    _history(everyone, log)
    size = f"{shoppers:,} opted-in shoppers in 6 zones, half emailed in the last week"

    first = _campaign("Bench campaign", [everyone])
    started = time.perf_counter()
    planned = planning.campaign_plan(campaign_id=first.pk)
    plan_seconds = time.perf_counter() - started
    log(f"planned {planned:,} messages in {plan_seconds:.2f} s")
    second = _campaign("Bench second", [everyone])
    started = time.perf_counter()
    planning.campaign_plan(campaign_id=second.pk)
    second_seconds = time.perf_counter() - started
    log(f"second campaign planned in {second_seconds:.2f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rule, count(*) FROM outreach_outreachmessage WHERE campaign_id IN (%s, %s) "
            "GROUP BY rule ORDER BY 2 DESC",
            [first.pk, second.pk],
        )
        log("rules: " + ", ".join(f"{r} {n:,}" for r, n in cursor.fetchall()))
    started = time.perf_counter()
    violations = planning.budget_violations()
    log(f"budget violations: {violations} ({time.perf_counter() - started:.2f} s)")
    _clean("Bench campaign")
    _clean("Bench second")
    rate = _send_throughput(fresh, log)
    _clean()
    return [
        {
            "name": "outreach.plan_campaign",
            "value": round(plan_seconds, 3),
            "unit": "s",
            "size": size,
            "reference": "target <= 30 s; lock, budget, quiet hours, outbox + decision rows",
        },
        {
            "name": "outreach.plan_second_campaign",
            "value": round(second_seconds, 3),
            "unit": "s",
            "size": size + ", one campaign planned already",
            "reference": "every shopper held by the gap or cap",
        },
        {
            "name": "outreach.budget_violations",
            "value": violations,
            "unit": "count",
            "size": size,
            "reference": "must be 0 (window count > cap, or gap shorter than the minimum)",
        },
        {
            "name": "outreach.send_throughput",
            "value": round(rate, 1),
            "unit": "msg/s",
            "size": f"{SEND_MESSAGES:,} messages, aiosmtpd sink on loopback",
            "reference": "one transaction per message, SKIP LOCKED claim, Django SMTP backend "
            "(sink in its own process)",
        },
    ]
