"""The statistics' summary rows rebuilt from the ledger: what the services and the daily job keep in step with
every movement (installments/summaries.py, ``collections_add``), recomputed from the plans, their rows and the
payments' allocation lines.

For repair and for data loaded around the services (the bench's COPY, a restore): ``manage.py stats_rebuild``.
A merchant is rebuilt in one transaction holding its row's lock (plan creation waits) and its plans' locks (the
ledger services and the daily job wait), so no movement is lost or counted twice while it runs.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from installments.models import DueDayTotal, Installment, InstallmentPlan, PlanStatusTotal
from installments.overdue import overdue_totals_rebuild
from installments.summaries import BOOK, OPEN
from payments.models import CollectionDayTotal, Payment, PaymentAllocation
from taqsit.models import Merchant

SUMMARY_MODELS = (PlanStatusTotal, DueDayTotal, CollectionDayTotal)

REBUILD_SQL = (
    # Per status: the plans and their totals, and of their rows ever charged a fee (a charity fee is a late fee)
    # the late fees unpaid and the charity fees charged and paid.
    """
INSERT INTO {status_total} (merchant_id, status, plans, total_payable, late_fees, amount_paid, late_fees_unpaid,
                            rebates, charity_fees, charity_fees_paid)
SELECT p.merchant_id, p.status, COUNT(*), SUM(p.total_payable), SUM(p.late_fees), SUM(p.amount_paid),
       COALESCE(SUM(fees.unpaid), 0), SUM(p.rebates), COALESCE(SUM(fees.charity), 0),
       COALESCE(SUM(fees.charity_paid), 0)
  FROM {plan} p
  LEFT JOIN (SELECT plan_id, SUM(late_fee - late_fee_paid) AS unpaid, SUM(charity_fee) AS charity,
                    SUM(charity_fee_paid) AS charity_paid
               FROM {installment}
              WHERE merchant_id = %(merchant)s AND late_fee > 0
              GROUP BY plan_id) fees ON fees.plan_id = p.id
 WHERE p.merchant_id = %(merchant)s
 GROUP BY p.merchant_id, p.status
""",
    # Per due date, of current rows: the book's due and paid, open plans' rows unpaid and what is left on them.
    """
INSERT INTO {due_day_total} (merchant_id, due_date, book_due, book_paid, unpaid_count, unpaid_amount)
SELECT i.merchant_id, i.due_date, SUM(i.amount_due), SUM(i.amount_paid),
       COUNT(*) FILTER (WHERE p.status = ANY(%(open)s) AND i.amount_paid < i.amount_due),
       COALESCE(SUM(i.amount_due - i.amount_paid)
                FILTER (WHERE p.status = ANY(%(open)s) AND i.amount_paid < i.amount_due), 0)
  FROM {installment} i
  JOIN {plan} p ON p.id = i.plan_id
 WHERE i.merchant_id = %(merchant)s AND i.superseded_at IS NULL AND p.status = ANY(%(book)s)
 GROUP BY i.merchant_id, i.due_date
""",
    # Per payment date, method and kind: the allocation lines, reversals included (a refund nets to nothing);
    # a settlement's rebate lines too, under their own kind (no money moved: the cash flow leaves them out).
    """
INSERT INTO {collection_day_total} (merchant_id, payment_date, payment_method, kind, amount)
SELECT a.merchant_id, pay.payment_date, pay.payment_method, a.kind, SUM(a.amount)
  FROM {allocation} a
  JOIN {payment} pay ON pay.id = a.payment_id
 WHERE a.merchant_id = %(merchant)s
 GROUP BY a.merchant_id, pay.payment_date, pay.payment_method, a.kind
""",
)


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {
        "status_total": PlanStatusTotal,
        "due_day_total": DueDayTotal,
        "collection_day_total": CollectionDayTotal,
        "plan": InstallmentPlan,
        "installment": Installment,
        "payment": Payment,
        "allocation": PaymentAllocation,
    }
    return {name: quote(model._meta.db_table) for name, model in models.items()}


def summaries_rebuild_statements(merchant_id: Any) -> list[tuple[str, dict[str, Any]]]:
    """The statements that replace one merchant's summary rows by what its ledger says now."""
    tables = _tables()
    params = {"merchant": merchant_id, "open": [str(s) for s in OPEN], "book": [str(s) for s in BOOK]}
    deletes = [
        (f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE merchant_id = %(merchant)s", params)  # noqa: S608
        for model in SUMMARY_MODELS
    ]
    return deletes + [(sql.format(**tables), params) for sql in REBUILD_SQL]


@transaction.atomic
def summaries_rebuild(*, merchant: Merchant) -> None:
    """Recompute the merchant's summary rows from its ledger (run for the merchant: ``merchant_scope``), under
    its row's and its plans' locks so that movements wait and none is lost."""
    list(Merchant.objects.select_for_update().filter(pk=merchant.pk).values_list("pk", flat=True))
    plans = InstallmentPlan.objects.filter(merchant=merchant).order_by("pk")  # the daily job's lock order
    list(plans.select_for_update(no_key=True).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        for sql, params in summaries_rebuild_statements(merchant.pk):
            cursor.execute(sql, params)
    overdue_totals_rebuild(merchant=merchant)
