"""A promise is counted again whenever a payment of its plan moves: recorded, confirmed (payments' after-commit
signals), refunded or voided (the payment saved with that status; counted once the change is committed)."""

from __future__ import annotations

import logging

from django.db import transaction

from collectors.models import Promise
from collectors.services import promises_evaluate
from payments.models import Payment
from taqsit.compiled import CompiledQuery
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope

logger = logging.getLogger(__name__)

REVERSED = (Payment.Status.REFUNDED, Payment.Status.VOIDED)


# Asked after every payment, of plans that mostly have none: compiled once (taqsit/compiled.py).
_PROMISE_OF_PLAN = CompiledQuery(
    lambda plan_id: (
        Promise.objects.filter(plan_id=plan_id).exclude(status=Promise.Status.REPLACED).values_list("pk")[:1]
    )
)


def promises_recount(*, merchant_id, plan_id) -> None:
    """Count the promises of one plan again, in its merchant's scope; nothing to do for a plan with none."""
    with merchant_scope(merchant_id):
        if not _PROMISE_OF_PLAN.rows(plan_id):
            return
        promises_evaluate(merchant=Merchant.objects.get(pk=merchant_id), plan_ids=[plan_id])


def on_payment_recorded(sender, *, payment: Payment, **kwargs) -> None:
    promises_recount(merchant_id=payment.merchant_id, plan_id=payment.plan_id)


def on_payment_settled(sender, *, payment: Payment, outcome: str, **kwargs) -> None:
    if outcome == Payment.Status.COMPLETED:
        promises_recount(merchant_id=payment.merchant_id, plan_id=payment.plan_id)


def on_payment_changed(sender, *, instance: Payment, created: bool, update_fields=None, **kwargs) -> None:
    if created or instance.status not in REVERSED or "status" not in (update_fields or ()):
        return
    merchant_id, plan_id = instance.merchant_id, instance.plan_id
    transaction.on_commit(lambda: promises_recount(merchant_id=merchant_id, plan_id=plan_id), robust=True)
