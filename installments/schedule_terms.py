"""The words of a plan's terms: its frequencies and finance charge methods, and the limits the schedule engine
keeps (no arithmetic here)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Biweekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class FinanceChargeMethod(models.TextChoices):
    NONE = "none", _("None")
    FLAT = "flat", _("Flat")
    DECLINING_BALANCE = "declining_balance", _("Declining balance")


PERIODS_PER_YEAR = {
    Frequency.WEEKLY: 52,
    Frequency.BIWEEKLY: 26,
    Frequency.MONTHLY: 12,
    Frequency.QUARTERLY: 4,
}


MAX_INSTALLMENTS = 600


MAX_INTEREST_RATE = Decimal("999.9999")  # annual percent


RATE_DECIMAL_PLACES = 4


# Errors about the frequency are reported on the plan's field name (the model and the API call it so), so a
# form or serializer can attach them to the right input.
FREQUENCY_FIELD = "installment_frequency"
