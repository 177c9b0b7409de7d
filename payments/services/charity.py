"""Charity fees handed over: a disbursement recorded against what was collected for charity."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from payments.models import CharityDisbursement
from payments.selectors import charity_fees_totals_from_ledger
from payments.services.post import _amount_parse
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.models import Merchant, User
from taqsit.permissions import Action, permission_require


@audit.action("charity.disburse")
@transaction.atomic
def charity_disbursement_record(
    *, actor: User, amount: Any, given_on: date | None = None, recipient: str, note: str = ""
) -> CharityDisbursement:
    """Record charity fees given to ``recipient`` (owners and managers): never more than is still to give
    (collected - given), checked under the merchant's row lock so two records cannot both spend the same money."""
    permission_require(actor, Action.PAYMENT_REVERSE)
    merchant = Merchant.objects.select_for_update().get(pk=actor.merchant_id)
    value = _amount_parse(amount, merchant.currency)
    today = merchant_today(merchant)
    given_on = given_on or today
    errors: dict[str, list[str]] = {}
    if given_on > today:
        errors["given_on"] = [_("The date %(date)s is in the future.") % {"date": given_on}]
    else:
        dates_bound_check(errors, today, given_on=given_on)
    recipient = (recipient or "").strip()
    if not recipient:
        errors["recipient"] = [_("Name the charity or person the money went to.")]
    # From the installments themselves, not the statistics' rows: a write checks against the ledger.
    to_give = charity_fees_totals_from_ledger(merchant=merchant).to_give
    if value > to_give:
        errors["amount"] = [
            _("%(amount)s exceeds the charity fees still to give, %(to_give)s.") % {"amount": value, "to_give": to_give}
        ]
    if errors:
        raise ValidationError(errors)
    disbursement = CharityDisbursement.objects.create(
        merchant=merchant, amount=value, given_on=given_on, recipient=recipient, note=note or "", recorded_by=actor
    )
    merchant_stats_invalidate(merchant.pk)
    return disbursement
