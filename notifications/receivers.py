"""The customer is told what happened: the notifications app's answer to the plan lifecycle's and the ledger's
signals, all sent once the write is committed (``transaction.on_commit``)."""

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from installments.models import InstallmentPlan
from notifications.services import payment_failed_notify, payment_receipt_notify, plan_decision_notify
from payments.models import Payment
from taqsit.tenancy import merchant_scope

logger = logging.getLogger(__name__)
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


def _receipt_queue(payment: Payment) -> None:
    """The receipt is written by a worker (``payment_receipt_task``), not by the request that recorded the payment:
    rendering it in the customer's language and queuing it per channel cost a third of a payment's CPU at the
    counter. When the broker takes no task (Redis down), it is written here, as before, so no receipt is lost."""
    from notifications.tasks import payment_receipt_task  # tasks import services, not the reverse

    try:
        payment_receipt_task.delay(str(payment.pk), str(payment.merchant_id))
        return
    except Exception as exc:  # kombu's OperationalError, or whatever else the transport raises
        logger.warning(
            "The broker took no receipt task (%s: %s): the receipt of payment %s is written now.",
            type(exc).__name__,
            exc,
            payment.pk,
        )
    with merchant_scope(payment.merchant_id):
        payment_receipt_notify(payment=payment)


def on_payment_recorded(sender, *, payment: Payment, **kwargs) -> None:
    if _muted.get():
        return
    _receipt_queue(payment)


def on_payment_settled(sender, *, payment: Payment, outcome: str, reason: str = "", **kwargs) -> None:
    if _muted.get():
        return
    if outcome == "completed":
        _receipt_queue(payment)
        return
    with merchant_scope(payment.merchant_id):
        payment_failed_notify(payment=payment, reason=reason)
