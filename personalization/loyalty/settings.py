"""Loyalty settings, read lazily (so ``override_settings`` works in tests)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULTS = {
    # at most this many earned coupons per shopper in any 30 days (staff-issued ones not counted)
    "LOYALTY_MAX_EARNED_PER_30_DAYS": 3,
    # data sources triggers may use: "store" (orders), "own_text" (own reviews/posts),
    # "granted" (demographics the shopper granted; used only while the grant stands)
    "LOYALTY_ALLOWED_SOURCES": ["store", "own_text", "granted"],
    # the zone in which birthdays and dates on the rewards page are computed
    "LOYALTY_TIME_ZONE": "Europe/Berlin",
    # how far back "net spend" looks for tiers
    "LOYALTY_WINDOW_DAYS": 365,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def zone() -> ZoneInfo:
    return ZoneInfo(get("LOYALTY_TIME_ZONE"))


def local_today(now) -> date:
    return now.astimezone(zone()).date()


def shopper_zones(user_ids) -> dict[int, ZoneInfo]:
    """Each shopper's own time zone (the one they gave in their email preferences), for
    ``user_ids``; shoppers without one, or with a name ``zoneinfo`` does not know, are left
    out (callers fall back to the store's zone, ``zone()``). One query; none when the outreach
    app is not installed. Birthdays and the 12-month window are counted in these zones
    (STYLE.md 20: time is stored in UTC and converted at the edge)."""
    from zoneinfo import ZoneInfoNotFoundError

    from django.apps import apps

    ids = list(user_ids)
    if not ids or not apps.is_installed("personalization.outreach"):
        return {}
    subscriber = apps.get_model("outreach", "Subscriber")
    zones = {}
    rows = subscriber.objects.filter(user_id__in=ids).exclude(time_zone="")
    for user_id, name in rows.values_list("user_id", "time_zone").iterator(5000):
        try:
            zones[user_id] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return zones


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone called ``name``; None for an empty name or one ``zoneinfo`` does not know."""
    from zoneinfo import ZoneInfoNotFoundError

    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def shopper_zone(user_id) -> ZoneInfo:
    """The shopper's own time zone, else the store's."""
    return shopper_zones([user_id]).get(user_id) or zone()


def window_start(now, tz: ZoneInfo, days: int):
    """The first instant of the loyalty window in zone ``tz``: local midnight ``days`` days
    before the local date of ``now`` (so the window is whole days of the shopper's calendar)."""
    from datetime import datetime, time, timedelta

    start = now.astimezone(tz).date() - timedelta(days=days)
    return datetime.combine(start, time.min, tzinfo=tz)
