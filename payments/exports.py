"""CSV export of payments, for the API (and any page that lists payments): one line per payment."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from payments.models import Payment
from taqsit.exports import csv_stream, csv_text
from taqsit.models import Merchant
from taqsit.money import sum_of
from taqsit.money_format import money_figure

PAYMENT_HEADER = (
    "plan",
    "payment_number",
    "customer",
    "payment_date",
    "amount",
    "method",
    "status",
    "is_down_payment",
    "reference",
    "received_by",
    "reversed_at",
    "reversal_reason",
    "currency",
    # Apart from income: what the payment paid of charity fees, and the rebate an early settlement granted.
    "charity_fee",
    "rebate",
)


def payments_csv(payments: QuerySet[Payment], *, merchant: Merchant, today: date) -> StreamingHttpResponse:
    """The payments of ``payments`` (already scoped and filtered), in its order; a refunded or voided payment
    keeps its line, with when and why it was reversed."""
    currency = merchant.currency

    def row(payment: Payment) -> list:
        reversed_at = payment.reversed_at
        return [
            payment.plan.reference,
            payment.payment_number,
            csv_text(payment.plan.customer.name),
            payment.payment_date.isoformat(),
            money_figure(payment.amount, currency),
            payment.payment_method,
            payment.status,
            "yes" if payment.is_down_payment else "no",
            csv_text(payment.reference),
            csv_text(payment.received_by.username if payment.received_by else ""),
            timezone.localtime(reversed_at, merchant.tzinfo).isoformat(timespec="seconds") if reversed_at else "",
            csv_text(payment.reversal_reason),
            currency,
            money_figure(payment.charity_fee_paid, currency),
            money_figure(payment.rebate_granted, currency),
        ]

    queryset = (
        payments.select_related("plan", "plan__customer", "received_by")
        .prefetch_related(None)
        .annotate(
            # The lines the payment made (a reversal's lines are its negatives, shown by its status instead).
            charity_fee_paid=sum_of("allocations__amount", allocations__kind="charity_fee", allocations__amount__gt=0),
            rebate_granted=sum_of("allocations__amount", allocations__kind="rebate", allocations__amount__gt=0),
        )
    )
    return csv_stream(queryset, header=PAYMENT_HEADER, row=row, filename=f"payments-{today.isoformat()}.csv")
