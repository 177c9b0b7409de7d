"""API rate limits that never stop the counter: when the cache holding the counts (Redis in production) is
down, a request goes through and the outage is logged.

A module of its own, importing nothing of DRF's views: DRF imports DEFAULT_THROTTLE_CLASSES while
``rest_framework.views`` is being imported.
"""

from __future__ import annotations

import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class FailOpenThrottleMixin:
    """The limits guard against abuse and are no business rule: a cache outage lets the request through
    (tests/resilience/test_redis_outage.py) instead of answering 500."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # whatever the cache backend raises: redis.ConnectionError, TimeoutError...
            logger.warning(
                "Rate limit %s not applied, the cache is unavailable: %s: %s", self.scope, type(exc).__name__, exc
            )
            return True


class UserRateThrottle(FailOpenThrottleMixin, throttling.UserRateThrottle):
    """DRF's per-user limit, the default of every API view (REST_FRAMEWORK in settings.py)."""

    @property
    def THROTTLE_RATES(self) -> dict:  # noqa: N802 (DRF's attribute name)
        """Read when a request comes: DRF binds the rates when the class is first imported, which may be under
        whatever settings a test had changed at that moment."""
        return api_settings.DEFAULT_THROTTLE_RATES
