"""Dates in the merchant's time zone: "today" is the merchant's today, not the server's."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from taqsit.models import Merchant


def merchant_today(merchant: Merchant, *, now: datetime | None = None) -> date:
    """The calendar date at ``now`` (default: this instant) in the merchant's time zone."""
    return timezone.localtime(now or timezone.now(), merchant.tzinfo).date()


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def date_bounds(today: date) -> tuple[date, date]:
    """The first and last date a plan or a payment may carry: ``DATE_BOUND_YEARS`` years either side of today."""
    years = max(0, int(settings.DATE_BOUND_YEARS))
    return _years_from(today, -years), _years_from(today, years)


def dates_bound_check(errors: dict, today: date, **dates: date | None) -> None:
    """Add to ``errors``, under each field name, a date given out of ``date_bounds`` (None and non-dates are left
    to the caller's own checks)."""
    earliest, latest = date_bounds(today)
    for field, value in dates.items():
        if isinstance(value, date) and not isinstance(value, datetime) and not earliest <= value <= latest:
            errors.setdefault(field, []).append(
                _("The date %(date)s is out of range: give a date from %(earliest)s to %(latest)s.")
                % {"date": value, "earliest": earliest, "latest": latest}
            )
