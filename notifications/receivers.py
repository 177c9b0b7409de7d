"""The customer is told what happened: the notifications app's answer to the plan lifecycle's and the ledger's
signals, all sent once the write is committed (``transaction.on_commit``)."""

from installments.models import InstallmentPlan
from notifications.services import payment_failed_notify, payment_receipt_notify, plan_decision_notify
from payments.models import Payment


def on_plan_decided(sender, *, plan: InstallmentPlan, decision: str, reason: str = "", **kwargs) -> None:
    plan_decision_notify(plan=plan, decision=decision, reason=reason)


def on_payment_recorded(sender, *, payment: Payment, **kwargs) -> None:
    payment_receipt_notify(payment=payment)


def on_payment_settled(sender, *, payment: Payment, outcome: str, reason: str = "", **kwargs) -> None:
    if outcome == "completed":
        payment_receipt_notify(payment=payment)
    else:
        payment_failed_notify(payment=payment, reason=reason)
