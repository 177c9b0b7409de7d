"""Dates in the merchant's time zone: "today" is the merchant's today, not the server's."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from taqsit.models import Merchant


def merchant_today(merchant: Merchant, *, now: datetime | None = None) -> date:
    """The calendar date at ``now`` (default: this instant) in the merchant's time zone."""
    return timezone.localtime(now or timezone.now(), merchant.tzinfo).date()


class MerchantTimeZoneMiddleware:
    """Staff pages show times (the dashboard's "figures as of", the history panels) in the signed-in user's
    merchant's time zone, as its dates already are; the API keeps answering in UTC, and platform admins (no
    merchant) see UTC. After AuthenticationMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        merchant = getattr(user, "merchant", None) if user is not None and user.is_authenticated else None
        if merchant is None:
            return self.get_response(request)
        with timezone.override(merchant.tzinfo):
            return self.get_response(request)
