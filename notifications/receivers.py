"""The customer is told what happened: the notifications app's answer to the plan lifecycle's and the ledger's
signals, all sent once the write is committed (``transaction.on_commit``)."""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from installments.models import InstallmentPlan
from notifications.services import payment_failed_notify, payment_receipt_notify, plan_decision_notify
from payments.models import Payment
from taqsit.tenancy import merchant_scope

_muted: ContextVar[bool] = ContextVar("customer_messages_muted", default=False)


@contextlib.contextmanager
def customer_messages_muted() -> Iterator[None]:
    """Tell the customers nothing of what is committed inside the block: a history being loaded (the demo's
    back-dated plans and payments) is not news. The signals fire at commit, so the block must enclose the
    transaction, not only the writes."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def on_plan_decided(sender, *, plan: InstallmentPlan, decision: str, reason: str = "", **kwargs) -> None:
    if _muted.get():
        return
    # After the commit, maybe outside the request or task that wrote it: told for the plan's merchant.
    with merchant_scope(plan.merchant_id):
        plan_decision_notify(plan=plan, decision=decision, reason=reason)


def on_payment_recorded(sender, *, payment: Payment, **kwargs) -> None:
    if _muted.get():
        return
    with merchant_scope(payment.merchant_id):
        payment_receipt_notify(payment=payment)


def on_payment_settled(sender, *, payment: Payment, outcome: str, reason: str = "", **kwargs) -> None:
    if _muted.get():
        return
    with merchant_scope(payment.merchant_id):
        if outcome == "completed":
            payment_receipt_notify(payment=payment)
        else:
            payment_failed_notify(payment=payment, reason=reason)
