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
