"""Throttles on the cache (Redis in production, so every web process shares the counters).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (environment: API_RATE_ANON,
API_RATE_USER). A token counts against its user's budget, as the session does.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LazyRates:
    def get_rate(self):
        # Read the rates at request time (DRF binds them at import), so settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_LazyRates, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_LazyRates, UserRateThrottle):
    scope = "user"
