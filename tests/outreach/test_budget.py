"""The attention budget rule itself (``budget.decide``): cap, gap, engagement, quiet hours."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from personalization.outreach import budget as rules

OSLO, NEW_YORK = ZoneInfo("Europe/Oslo"), ZoneInfo("America/New_York")
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def make(**overrides) -> rules.Budget:
    values = {
        "cap": 2,
        "window": timedelta(days=7),
        "gap": timedelta(hours=24),
        "backoff_gap": timedelta(hours=96),
        "backoff_after": 3,
        "pause_after": 2,
        "quiet_start": time(21, 0),
        "quiet_end": time(8, 0),
    }
    values.update(overrides)
    return rules.Budget(**values)


def decide(desired=NOON, counted=(), streak=0, tz=OSLO, policy="defer", **kw):
    return rules.decide(
        budget=make(**kw),
        desired=desired,
        counted=list(counted),
        streak=streak,
        tz=tz,
        policy=policy,
    )


def test_on_time_when_nothing_was_sent():
    verdict = decide()
    assert (verdict.outcome, verdict.at, verdict.rule) == ("scheduled", NOON, rules.ON_TIME)


def test_cap_is_exact_the_third_email_waits_for_the_window_to_free_a_place():
    counted = [NOON - timedelta(days=6), NOON - timedelta(days=2)]
    verdict = decide(counted=counted)
    assert verdict.outcome == "deferred"
    assert verdict.rule == rules.CAP
    assert verdict.at == NOON + timedelta(days=1)  # the older one leaves the window then
    assert verdict.reason == "2 emails in the last 7 days"
    # At that moment exactly two of the three lie in any 7-day window ending then.
    later = verdict.at
    assert sum(1 for t in [*counted, later] if later - timedelta(days=7) < t <= later) == 2


def test_cap_with_drop_policy_drops_and_says_why():
    verdict = decide(counted=[NOON - timedelta(days=1), NOON - timedelta(days=3)], policy="drop")
    assert (verdict.outcome, verdict.at, verdict.rule) == ("dropped", None, rules.CAP)


def test_minimum_gap_defers_to_gap_after_the_last_email():
    verdict = decide(counted=[NOON - timedelta(hours=5)])
    assert (verdict.outcome, verdict.rule) == ("deferred", rules.GAP)
    assert verdict.at == NOON + timedelta(hours=19)
    assert verdict.reason == "minimum gap of 24 h since the last email"


def test_quiet_hours_defer_to_their_end_in_the_shoppers_zone_not_skip():
    late = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Oslo (summer, UTC+2)
    oslo = decide(desired=late, policy="drop")
    assert (oslo.outcome, oslo.rule) == ("deferred", rules.QUIET_HOURS)
    assert oslo.at == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)  # 08:00 Oslo
    assert oslo.reason == "quiet hours until 08:00 Europe/Oslo"
    # The same moment is 17:30 in New York: no quiet hours there.
    assert decide(desired=late, tz=NEW_YORK).outcome == "scheduled"
    early = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 05:00 in New York (UTC-4)
    ny = decide(desired=early, tz=NEW_YORK)
    assert ny.at == datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 New York
    assert ny.reason == "quiet hours until 08:00 America/New_York"


def test_quiet_hours_across_a_dst_change_end_at_local_eight():
    # Night of 28/29 March 2026: Oslo moves from UTC+1 to UTC+2 at 02:00 local.
    before = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET
    verdict = decide(desired=before)
    assert verdict.at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST, not 07:00 UTC
    # New York changed on 8 March 2026 (UTC-5 -> UTC-4).
    ny = decide(desired=datetime(2026, 3, 8, 6, 0, tzinfo=UTC), tz=NEW_YORK)  # 01:00 EST
    assert ny.at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT
    # A week earlier the same local 08:00 was 13:00 UTC.
    ny_winter = decide(desired=datetime(2026, 3, 1, 6, 0, tzinfo=UTC), tz=NEW_YORK)
    assert ny_winter.at == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def test_budget_hold_then_quiet_hours_names_both():
    counted = [NOON - timedelta(hours=14)]  # gap ends at 22:00 UTC = 00:00 Oslo
    verdict = decide(counted=counted)
    assert verdict.rule == rules.GAP
    assert verdict.at == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)
    assert verdict.reason == (
        "minimum gap of 24 h since the last email; then quiet hours until 08:00 Europe/Oslo"
    )


def test_engagement_backoff_then_pause():
    counted = [NOON - timedelta(hours=30)]
    assert decide(counted=counted, streak=2).outcome == "scheduled"
    backoff = decide(counted=counted, streak=3)
    assert (backoff.outcome, backoff.rule) == ("deferred", rules.BACKOFF_GAP)
    assert backoff.at == counted[0] + timedelta(hours=96)
    assert backoff.reason == "longer gap of 96 h: no opens or clicks in the last 3 emails"
    paused = decide(counted=counted, streak=5)
    assert (paused.outcome, paused.rule) == ("dropped", rules.ENGAGEMENT_PAUSE)
    assert paused.reason == "paused: no opens or clicks in the last 5 emails"


def test_shopper_pause_drops_until_it_ends():
    verdict = rules.decide(
        budget=make(),
        desired=NOON,
        counted=[],
        streak=0,
        tz=OSLO,
        policy="defer",
        paused_until=NOON + timedelta(weeks=2),
    )
    assert (verdict.outcome, verdict.rule) == ("dropped", rules.SHOPPER_PAUSE)
    assert verdict.reason == "paused by the shopper until 24 Jun 2026"


def test_fewer_halves_the_cap_and_doubles_the_gap():
    class S:
        max_per_window, window_days, min_gap_hours = 4, 7, 12
        backoff_gap_hours, backoff_after, pause_after = 48, 3, 2
        quiet_start, quiet_end = time(22, 0), time(7, 0)

    fewer = rules.Budget.for_shopper(S, "fewer")
    assert (fewer.cap, fewer.gap, fewer.backoff_gap) == (
        2,
        timedelta(hours=24),
        timedelta(hours=96),
    )
    assert rules.Budget.for_shopper(S, "normal").cap == 4


def test_no_quiet_hours_when_start_equals_end():
    late = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)
    assert decide(desired=late, quiet_start=time(0, 0), quiet_end=time(0, 0)).at == late
