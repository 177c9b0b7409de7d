"""What a customer may see on the portal and the borrower API: their own plans, schedule, payments, receipts
and messages, at their own merchant.

Every read here is scoped by the customer AND the customer's merchant (both stated in the query, never taken
from the row): anything outside is ``Http404``, exactly like an id that does not exist, so a customer learns
nothing about another customer's or another merchant's rows, not even that they exist. An id that is no UUID is
a 404 too, never a 500.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from customers.models import Customer
from installments.models import Installment, InstallmentPlan
from installments.selectors import PlanSummary, overdue_cutoff, plan_summary
from notifications.models import Notification
from payments.models import Payment, PaymentAllocation
from payments.selectors import payment_standing_after
from taqsit.dates import merchant_today
from taqsit.money import percent_of, to_money


def _get_or_404(queryset: QuerySet, pk):
    """The row ``pk`` of ``queryset`` (already scoped to the customer), or Http404: also for an id that is not a
    UUID at all."""
    try:
        found = queryset.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError):
        found = None
    if found is None:
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.")
    return found


# Plans ---------------------------------------------------------------------------------------------------------


def customer_plans(*, customer: Customer, status: str | None = None) -> QuerySet[InstallmentPlan]:
    """The customer's plans at their merchant, newest first (applications waiting for approval and rejected
    ones included: the customer follows them too), with their merchant and customer loaded."""
    queryset = InstallmentPlan.objects.filter(merchant_id=customer.merchant_id, customer_id=customer.pk)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("merchant", "customer").order_by("-created_at", "-number")


def customer_plan(*, customer: Customer, plan_id) -> InstallmentPlan:
    """One of the customer's plans; another customer's, another merchant's or an unknown id: Http404."""
    return _get_or_404(customer_plans(customer=customer), plan_id)


@dataclass(frozen=True)
class PlanCard:
    """A plan as the portal's home lists it: where it stands (``summary``), how far along (percent of what is
    owed, late fees included, already paid) and whether anything is overdue."""

    plan: InstallmentPlan
    summary: PlanSummary
    progress: Decimal | None  # percent paid of total payable + late fees; None when nothing is owed

    @property
    def is_overdue(self) -> bool:
        return self.plan.is_open and self.summary.overdue_amount > 0

    @property
    def financed(self) -> Decimal:
        """The price less the down payment: what the plan lends."""
        return self.summary.total_amount - self.summary.down_payment

    @property
    def owed(self) -> Decimal:
        """Everything the plan asks for: the total payable and the late fees charged."""
        return self.summary.total_payable + self.summary.late_fees


def customer_plan_cards(*, customer: Customer, today: date | None = None) -> list[PlanCard]:
    """The customer's plans, newest first, each with its summary and progress: two queries whatever the number
    of plans (the plans, then every plan's installments)."""
    plans = list(customer_plans(customer=customer))
    rows_of: dict = defaultdict(list)
    for row in Installment.objects.filter(merchant_id=customer.merchant_id, plan__in=[plan.pk for plan in plans]):
        rows_of[row.plan_id].append(row)
    today = today or merchant_today(customer.merchant)
    cards = []
    for plan in plans:
        summary = plan_summary(plan=plan, today=today, rows=rows_of[plan.pk])
        owed = summary.total_payable + summary.late_fees
        cards.append(PlanCard(plan=plan, summary=summary, progress=percent_of(summary.amount_paid, owed, places=0)))
    return cards


def plan_card(*, plan: InstallmentPlan, rows: list[Installment], today: date | None = None) -> PlanCard:
    """One plan's card from all its installments (``rows``, superseded ones included), for the plan's page."""
    summary = plan_summary(plan=plan, today=today, rows=rows)
    owed = summary.total_payable + summary.late_fees
    return PlanCard(plan=plan, summary=summary, progress=percent_of(summary.amount_paid, owed, places=0))


def plan_installments(*, plan: InstallmentPlan) -> list[Installment]:
    """All the plan's installments, superseded ones included, in schedule order (what ``plan_schedule_rows``,
    ``plan_card`` and the payoff quote take as ``rows``): one query."""
    return list(Installment.objects.filter(plan=plan, merchant_id=plan.merchant_id).order_by("number", "created_at"))


def plan_schedule_rows(
    *, plan: InstallmentPlan, rows: list[Installment] | None = None, today: date | None = None
) -> list[Installment]:
    """The schedule in force, row by row in order, each with what was paid on it (``principal_paid``,
    ``interest_paid``, ``late_fee`` charged and ``late_fee_paid``, ``amount_paid``, ``paid_on``) and the status
    the staff pages show (``display_status``: paid, overdue past the grace days, partially paid, pending).
    Rows a reschedule replaced are left out (what was paid on them is in the plan's payments)."""
    if rows is None:
        rows = plan_installments(plan=plan)
    cutoff = overdue_cutoff(plan.merchant, today=today)
    current = sorted((row for row in rows if row.superseded_at is None), key=lambda row: row.number)
    for row in current:
        row.display_status = row.display_status_for(cutoff=cutoff, plan_status=plan.status)
        row.fees_remaining = row.late_fee - row.late_fee_paid
    return current


# Payments ------------------------------------------------------------------------------------------------------


def customer_payments(
    *, customer: Customer, plan: InstallmentPlan | None = None, status: str | None = None
) -> QuerySet[Payment]:
    """The customer's payments on their plans at their merchant, newest first, with their plan (pending ones
    waiting for the shop, failed ones with ``reversal_reason``, refunded and voided ones too: the customer's
    whole history)."""
    queryset = Payment.objects.filter(
        merchant_id=customer.merchant_id, plan__customer_id=customer.pk, plan__merchant_id=customer.merchant_id
    )
    if plan is not None:
        queryset = queryset.filter(plan=plan)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("plan").order_by("-payment_date", "-created_at", "-id")


def customer_payment(*, customer: Customer, payment_id) -> Payment:
    """One of the customer's payments; anyone else's or an unknown id: Http404."""
    return _get_or_404(customer_payments(customer=customer), payment_id)


@dataclass(frozen=True)
class Receipt:
    """What a receipt shows: the payment, how it was allocated, and where the plan stood right after it."""

    payment: Payment
    plan: InstallmentPlan
    allocations: list[PaymentAllocation]
    paid_after: Decimal
    remaining_after: Decimal


def customer_receipt(*, customer: Customer, payment_id) -> Receipt:
    """The receipt of one of the customer's completed payments (the figures the payment kept when recorded or
    confirmed, as the staff receipt shows them); a pending, failed, refunded or voided payment has none: Http404."""
    payment = _get_or_404(
        customer_payments(customer=customer, status=Payment.Status.COMPLETED)
        .select_related("plan__merchant", "plan__customer", "received_by")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.filter(reversal_of__isnull=True)
                .select_related("installment")
                .order_by("id"),
            )
        ),
        payment_id,
    )
    plan = payment.plan
    currency = plan.merchant.currency
    if payment.balance_after is None:  # a payment older than the stored figures: the ledger still knows
        paid_after, remaining_after = payment_standing_after(payment=payment)
    else:
        paid_after, remaining_after = payment.paid_after, payment.balance_after
    return Receipt(
        payment=payment,
        plan=plan,
        allocations=list(payment.allocations.all()),
        paid_after=to_money(paid_after, currency),
        remaining_after=to_money(remaining_after, currency),
    )


# Messages ------------------------------------------------------------------------------------------------------


def customer_notifications(*, customer: Customer, unread: bool | None = None) -> QuerySet[Notification]:
    """Every message the shop sent the customer (reminders, alerts, receipts, decisions: SMS, WhatsApp and e-mail
    that actually left; not a WhatsApp message the provider could not deliver, which went by SMS), newest first;
    ``unread`` True or False narrows to those not yet read, or read."""
    queryset = Notification.objects.filter(
        merchant_id=customer.merchant_id, customer_id=customer.pk, status=Notification.Status.SENT
    ).exclude(delivery_status=Notification.DeliveryStatus.FAILED)
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    return queryset.order_by("-sent_at", "-created_at", "-pk")


def customer_notification(*, customer: Customer, notification_id) -> Notification:
    """One of the messages sent to the customer; anyone else's, one never sent or an unknown id: Http404."""
    return _get_or_404(customer_notifications(customer=customer), notification_id)


def customer_unread_count(*, customer: Customer) -> int:
    """How many of the messages sent to the customer they have not opened yet."""
    return customer_notifications(customer=customer, unread=True).count()
