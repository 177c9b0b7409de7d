"""Late fees charged one at a time (the daily job charges them set-based under the same rule)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan, LateFee
from installments.selectors import installment_is_unpaid, late_fee_amount
from installments.summaries import plan_totals_tracked
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.error_codes import ErrorCode
from taqsit.events import event_emit
from taqsit.models import Merchant, User


@audit.action("late_fee.charge")
@transaction.atomic
def late_fee_charge(*, installment: Installment, period: date, actor: User | None = None) -> LateFee:
    """Charge the merchant's late fee (``late_fee_amount``, the daily job's rule) once on an overdue installment
    for ``period``; the same period twice is refused by the database's unique key (the daily job does this
    set-based for many rows)."""
    plan = plan_lock(plan_id=installment.plan_id, no_key=True)
    installment = Installment.objects.select_for_update(of=("self",)).get(pk=installment.pk)
    if not plan.is_open:
        raise ValidationError(
            {
                "status": _("Plan %(plan)s is %(status)s: no late fee is charged.")
                % {"plan": plan.reference, "status": plan.get_status_display().lower()}
            }
        )
    if not installment_is_unpaid(installment):
        raise ValidationError(
            {"installment": _("Installment %(number)s is not overdue.") % {"number": installment.number}}
        )
    amount = late_fee_amount(installment=installment, merchant=plan.merchant)
    if amount <= 0:
        raise ValidationError(
            {
                "installment": _("No late fee is due on installment %(number)s under %(merchant)s's late fee settings.")
                % {"merchant": plan.merchant.name, "number": installment.number}
            }
        )
    is_charity = plan.merchant.late_fee_booking == Merchant.LateFeeBooking.CHARITY
    with plan_totals_tracked(plan=plan):
        try:
            with transaction.atomic():
                fee = LateFee.objects.create(
                    merchant_id=plan.merchant_id,
                    plan=plan,
                    installment=installment,
                    period=period,
                    amount=amount,
                    is_charity=is_charity,
                    charged_by=actor,
                )
        except IntegrityError as exc:
            raise ValidationError(
                {
                    "period": ValidationError(
                        _("A late fee for %(period)s is already charged on installment %(number)s.")
                        % {"period": period, "number": installment.number},
                        code=ErrorCode.DUPLICATE,
                    )
                }
            ) from exc
        Installment.objects.filter(pk=installment.pk).update(
            late_fee=F("late_fee") + amount, charity_fee=F("charity_fee") + (amount if is_charity else 0)
        )
        InstallmentPlan.objects.filter(pk=plan.pk).update(late_fees=F("late_fees") + amount)
    merchant_stats_invalidate(plan.merchant_id)
    event_emit(event_type="late_fee.charged", obj=fee)
    return fee
