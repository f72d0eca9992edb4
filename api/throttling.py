"""Throttles on the cache (Redis in production, so every web process shares the counters).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (environment: API_RATE_ANON,
API_RATE_USER). A token counts against its user's budget, as the session does.
"""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonThrottle(AnonRateThrottle):
    scope = "anon"


class UserThrottle(UserRateThrottle):
    scope = "user"
