"""The ledger's answer to plan lifecycle signals."""

from installments.models import InstallmentPlan
from payments.services import down_payment_record
from taqsit.models import User


def on_plan_activated(
    sender, *, plan: InstallmentPlan, actor: User | None, down_payment_received: bool = True, **kwargs
) -> None:
    down_payment_record(plan=plan, actor=actor, received=down_payment_received)
