"""What is overdue by customer, kept as summary rows for a stored cutoff (``MerchantOverdueTotal``,
``CustomerOverdueTotal``), so the statistics' top customers and plans overdue cost a few rows, not the rows late.

Which rows are overdue depends on the day (a row falls overdue when the cutoff passes its due date, with no
movement), so the rows are kept as of a cutoff stored with them:

- every change to a plan adds its difference, as the other summary rows do (``overdue_totals_add``, called by
  ``plan_totals_apply`` with the plan's part before and after): what is left to pay on its rows due before the
  stored cutoff, how many, and whether the plan has one;
- the daily run moves the cutoff on (``overdue_totals_advance``), adding the rows due between the old cutoff and
  the new one, set-based: its cost is the rows it passes, not the book;
- the statistics read them only when the stored cutoff is today's (payments/stats.py), and read the rows late
  otherwise (before the day's run, after a change of grace days or time zone);
- ``overdue_totals_rebuild`` recomputes them from the ledger (``stats_rebuild``, the import, a cutoff moved back).

Order of locks: a movement updates the merchant's row first, in the statement that adds to the customers' rows,
and reads the cutoff from it there; the daily run locks that row, then reads the rows it passes in a later
statement. So a movement either comes before the run (the run reads what it committed) or after it (it reads
the new cutoff), and none is counted twice or lost.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from installments.models import CustomerOverdueTotal, Installment, InstallmentPlan, MerchantOverdueTotal
from installments.selectors import overdue_cutoff
from taqsit.dates import merchant_today
from taqsit.models import Merchant

if TYPE_CHECKING:
    from installments.summaries import PlanTotals

OPEN = InstallmentPlan.OPEN_STATUSES


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {
        "state": MerchantOverdueTotal,
        "customer_total": CustomerOverdueTotal,
        "plan": InstallmentPlan,
        "installment": Installment,
    }
    return {name: quote(model._meta.db_table) for name, model in models.items()}


def _params(merchant_id: Any, **more: Any) -> dict[str, Any]:
    return {"merchant": merchant_id, "open": [str(status) for status in OPEN], **more}


# The unpaid current rows (the collections list's and the daily job's predicate), so the covering
# ``installment_unpaid_by_due`` index serves them.
_UNPAID = "superseded_at IS NULL AND status <> 'paid' AND amount_paid < amount_due"

_ADD_SQL = """
WITH d (customer_id, due_date, amount, installments, plans) AS (VALUES {rows}),
s AS (  -- the merchant's row first: its lock orders the movements with the daily run, and it gives the cutoff
    UPDATE {state} s
       SET plans = s.plans + COALESCE((SELECT SUM(d.plans) FROM d WHERE d.due_date < s.cutoff), 0)
     WHERE s.merchant_id = %(merchant)s
 RETURNING s.cutoff
)
INSERT INTO {customer_total} (merchant_id, customer_id, amount, installments, plans)
SELECT %(merchant)s, d.customer_id, SUM(d.amount), SUM(d.installments), SUM(d.plans)
  FROM d, s
 WHERE d.due_date < s.cutoff
 GROUP BY d.customer_id
HAVING SUM(d.amount) <> 0 OR SUM(d.installments) <> 0 OR SUM(d.plans) <> 0
 ORDER BY d.customer_id
    ON CONFLICT (merchant_id, customer_id) DO UPDATE
   SET amount = {customer_total}.amount + EXCLUDED.amount,
       installments = {customer_total}.installments + EXCLUDED.installments,
       plans = {customer_total}.plans + EXCLUDED.plans
"""


def _overdue_rows(totals: PlanTotals, sign: int, into: dict[tuple, list]) -> None:
    """A plan's part, by customer and due date: what is left on its unpaid rows (those of open plans, in
    ``totals.days``), and on its oldest such day the plan itself (overdue when that day is before the cutoff)."""
    if totals.status is None or totals.customer is None:
        return
    oldest = None
    for day, values in totals.days.items():
        if values["unpaid_count"]:
            row = into[(totals.customer, day)]
            row[0] += sign * values["unpaid_amount"]
            row[1] += sign * values["unpaid_count"]
            oldest = day if oldest is None or day < oldest else oldest
    if oldest is not None:
        into[(totals.customer, oldest)][2] += sign


def overdue_totals_add(*, merchant_id: Any, before: PlanTotals, after: PlanTotals) -> None:
    """Add a plan's change (its part ``after`` - ``before``) to the overdue rows as of the stored cutoff: one
    statement, none when nothing unpaid changed, nothing added when the merchant has no rows yet."""
    changes: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
    _overdue_rows(before, -1, changes)
    _overdue_rows(after, 1, changes)
    items = sorted((key, values) for key, values in changes.items() if any(values))
    if not items:
        return
    tables = _tables()
    customer_type = CustomerOverdueTotal._meta.get_field("customer").target_field.db_type(connection)
    amount_type = CustomerOverdueTotal._meta.get_field("amount").db_type(connection)
    rows, params = [], _params(merchant_id)
    for index, ((customer, day), (amount, installments, plans)) in enumerate(items):
        rows.append(
            f"(%(c{index})s::{customer_type}, %(d{index})s::date, %(a{index})s::{amount_type}, "
            f"%(i{index})s::bigint, %(p{index})s::bigint)"
        )
        params.update({f"c{index}": customer, f"d{index}": day, f"a{index}": amount})
        params.update({f"i{index}": installments, f"p{index}": plans})
    # Only identifiers from the models' meta and placeholders go into the text; the values are parameters.
    sql = _ADD_SQL.format(rows=", ".join(rows), **tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The unpaid rows of open plans due in [since, before), by customer: what is left, how many, and the plans of which
# they are the first overdue (none of their rows due before ``since`` is unpaid): the plans newly overdue.
_PASSED_SQL = """
WITH by_plan AS (
    SELECT plan_id, SUM(amount_due - amount_paid) AS amount, COUNT(*) AS installments
      FROM {installment}
     WHERE merchant_id = %(merchant)s AND {unpaid} AND due_date >= %(since)s AND due_date < %(before)s
     GROUP BY plan_id
),
by_customer AS (
    SELECT p.customer_id, SUM(o.amount) AS amount, SUM(o.installments) AS installments,
           COUNT(*) FILTER (WHERE NOT EXISTS (
               SELECT FROM {installment} j
                WHERE j.plan_id = o.plan_id AND j.merchant_id = %(merchant)s AND j.due_date < %(since)s
                  AND j.superseded_at IS NULL AND j.status <> 'paid' AND j.amount_paid < j.amount_due
           )) AS plans
      FROM by_plan o
      JOIN {plan} p ON p.id = o.plan_id
     WHERE p.merchant_id = %(merchant)s AND p.status = ANY(%(open)s)
     GROUP BY p.customer_id
),
added AS (
    INSERT INTO {customer_total} (merchant_id, customer_id, amount, installments, plans)
    SELECT %(merchant)s, customer_id, amount, installments, plans FROM by_customer ORDER BY customer_id
        ON CONFLICT (merchant_id, customer_id) DO UPDATE
       SET amount = {customer_total}.amount + EXCLUDED.amount,
           installments = {customer_total}.installments + EXCLUDED.installments,
           plans = {customer_total}.plans + EXCLUDED.plans
    RETURNING 1
)
UPDATE {state}
   SET cutoff = %(before)s, plans = plans + COALESCE((SELECT SUM(plans) FROM by_customer), 0)
 WHERE merchant_id = %(merchant)s
"""

_REBUILD_SQL = (
    """
INSERT INTO {state} (merchant_id, cutoff, plans) VALUES (%(merchant)s, %(before)s, 0)
    ON CONFLICT (merchant_id) DO UPDATE SET cutoff = EXCLUDED.cutoff, plans = 0
""",
    "DELETE FROM {customer_total} WHERE merchant_id = %(merchant)s",
    # From the first day on: every unpaid row before the cutoff, each plan counted once.
    _PASSED_SQL,
)


@transaction.atomic
def overdue_totals_rebuild(*, merchant: Merchant, cutoff: date | None = None) -> None:
    """Recompute the merchant's overdue rows from the ledger as of ``cutoff`` (by default the stored one, else
    today's). The merchant's row is written (locked) first, so movements wait and none is lost."""
    if cutoff is None:
        stored = MerchantOverdueTotal.objects.filter(merchant=merchant).values_list("cutoff", flat=True).first()
        cutoff = stored or overdue_cutoff(merchant)
    params = _params(merchant.pk, since=date.min, before=cutoff)
    tables = {**_tables(), "unpaid": _UNPAID}
    with connection.cursor() as cursor:
        for sql in _REBUILD_SQL:
            cursor.execute(sql.format(**tables), params)


@transaction.atomic
def overdue_totals_advance(*, merchant: Merchant, today: date) -> str:
    """The daily run's step: move the merchant's overdue rows to ``today``'s cutoff, adding the rows it passes.
    Rebuilt when there are none yet, or when the stored cutoff is ahead of today's real one (grace days added,
    a clock put back); an earlier day caught up leaves a later cutoff as it is. Returns what it did."""
    cutoff = overdue_cutoff(merchant, today=today)
    stored = (
        MerchantOverdueTotal.objects.select_for_update()
        .filter(merchant=merchant)
        .values_list("cutoff", flat=True)
        .first()
    )
    if stored == cutoff:
        return "current"
    if stored is None or (stored > cutoff and today >= merchant_today(merchant)):
        overdue_totals_rebuild(merchant=merchant, cutoff=cutoff)
        return "rebuilt"
    if stored > cutoff:
        return "ahead"
    # The lock is held: a movement not yet committed adds its own difference at the new cutoff after this.
    params = _params(merchant.pk, since=stored, before=cutoff)
    with connection.cursor() as cursor:
        cursor.execute(_PASSED_SQL.format(**_tables(), unpaid=_UNPAID), params)
    return "advanced"
