"""CSV exports of plans and installments (the collections list), for the pages and the API alike.

The caller passes the queryset its list shows (same merchant scoping, same filters); rows are written in that
order, with the related customer read in the same query.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from installments.disclosure import plan_apr
from installments.models import Installment, InstallmentPlan
from installments.selectors import days_overdue, installments_with_display_status, plan_serials
from taqsit.exports import csv_stream, csv_text
from taqsit.models import Merchant
from taqsit.money_format import money_figure

PLAN_HEADER = (
    "plan",
    "customer",
    "phone",
    "status",
    "created_on",
    "start_date",
    "last_due_date",
    "frequency",
    "installments",
    "total_amount",
    "down_payment",
    "finance_charge",
    "total_payable",
    "apr",
    "late_fees",
    "amount_paid",
    "remaining_balance",
    "currency",
    # Issue 15: the shop's sale number and the items' serial numbers (space-separated), at the end so the
    # columns before keep their places.
    "sale_reference",
    "serial_numbers",
)

INSTALLMENT_HEADER = (
    "plan",
    "customer",
    "phone",
    "installment",
    "due_date",
    "status",
    "days_overdue",
    "amount_due",
    "amount_paid",
    "remaining",
    "late_fee_due",
    "currency",
)


def plans_csv(plans: QuerySet[InstallmentPlan], *, merchant: Merchant, today: date) -> StreamingHttpResponse:
    """The plans of ``plans`` (already scoped and filtered), one line each, money in the currency's unit."""
    currency = merchant.currency

    def row(plan: InstallmentPlan) -> list:
        return [
            plan.reference,
            csv_text(plan.customer.name),
            plan.customer.phone,
            plan.status,
            timezone.localtime(plan.created_at, merchant.tzinfo).date().isoformat(),
            plan.start_date.isoformat(),
            plan.due_date.isoformat(),
            plan.installment_frequency,
            plan.number_of_installments,
            money_figure(plan.total_amount, currency),
            money_figure(plan.down_payment, currency),
            money_figure(plan.finance_charge, currency),
            money_figure(plan.total_payable, currency),
            f"{plan_apr(plan):.2f}",
            money_figure(plan.late_fees, currency),
            money_figure(plan.amount_paid, currency),
            money_figure(plan.remaining_balance, currency),
            currency,
            csv_text(plan.sale_reference),
            csv_text(plan.serial_numbers or ""),
        ]

    queryset = plans.select_related("customer").prefetch_related(None).annotate(serial_numbers=plan_serials())
    return csv_stream(queryset, header=PLAN_HEADER, row=row, filename=f"plans-{today.isoformat()}.csv")


def installments_csv(
    rows: QuerySet[Installment], *, merchant: Merchant, today: date, name: str = "installments"
) -> StreamingHttpResponse:
    """The installments of ``rows`` (already scoped and filtered), one line each. ``status`` is the displayed
    status (as in the API and the pages) and ``days_overdue`` counts from the due date for overdue rows, else 0."""
    currency = merchant.currency

    def row(installment: Installment) -> list:
        plan = installment.plan
        remaining = installment.amount_due - installment.amount_paid
        overdue = installment.display_status == Installment.Status.OVERDUE
        return [
            plan.reference,
            csv_text(plan.customer.name),
            plan.customer.phone,
            installment.number,
            installment.due_date.isoformat(),
            installment.display_status,
            days_overdue(due_date=installment.due_date, today=today) if overdue else 0,
            money_figure(installment.amount_due, currency),
            money_figure(installment.amount_paid, currency),
            money_figure(remaining, currency),
            money_figure(installment.late_fee - installment.late_fee_paid, currency),
            currency,
        ]

    queryset = installments_with_display_status(
        rows.select_related("plan", "plan__customer").prefetch_related(None), merchant=merchant, today=today
    )
    return csv_stream(queryset, header=INSTALLMENT_HEADER, row=row, filename=f"{name}-{today.isoformat()}.csv")
