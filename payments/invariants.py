"""The ledger's invariants for a set of plans, in SQL (the whole-database twins are bench/invariants.py's): each
query counts the plans, payments or rows of ``plans`` that break one. A service that writes ledger rows around
``payment_post`` (``plans_import``) runs them inside its transaction and refuses to commit unless all are zero."""

from __future__ import annotations

from typing import Any

from django.db import connection

from installments.invariants import SCHEDULE_GAPS_SQL
from taqsit.planner import nested_loops_off

# Each query starts from the plans to check, as a relation, and reaches every other table by an indexed key: a
# large array tested with "= ANY" inside grouped subqueries made the planner join them row by row (minutes for
# a 10,000-plan import on tables whose statistics do not yet know the rows the transaction added).
LEDGER_INVARIANTS: dict[str, str] = {
    # The plan's running total is its completed payments, down payment included.
    "plan_amount_paid_is_completed_payments": """
        SELECT count(*) FROM (
            SELECT p.id FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
              JOIN installments_installmentplan p ON p.id = plans.plan_id
              LEFT JOIN payments_payment pay ON pay.plan_id = p.id AND pay.status = 'completed'
             GROUP BY p.id, p.amount_paid
            HAVING p.amount_paid <> COALESCE(sum(pay.amount), 0)) broken""",
    # Each payment is allocated exactly: a completed one in full, any other not at all.
    "payment_allocated_in_full": """
        SELECT count(*) FROM (
            SELECT pay.id FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
              JOIN payments_payment pay ON pay.plan_id = plans.plan_id
              LEFT JOIN payments_paymentallocation a ON a.payment_id = pay.id AND a.kind <> 'rebate'
             GROUP BY pay.id, pay.amount, pay.status
            HAVING COALESCE(sum(a.amount), 0) <> CASE WHEN pay.status = 'completed' THEN pay.amount ELSE 0 END
        ) broken""",
    # The schedule accounts for every unit: total payable + fees = rows in force + down payment held.
    "installments_add_up": f"""
        SELECT count(*) FROM ({SCHEDULE_GAPS_SQL}) gaps
          JOIN (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
            ON plans.plan_id = gaps.id""",  # noqa: S608
    # What each row says it received is what was allocated to it, kind by kind.
    "installment_paid_is_allocations": """
        SELECT count(*) FROM (
            SELECT i.id FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
              JOIN installments_installment i ON i.plan_id = plans.plan_id
              LEFT JOIN payments_paymentallocation a ON a.installment_id = i.id
             GROUP BY i.id, i.principal_paid, i.interest_paid, i.late_fee_paid
            HAVING i.principal_paid <> COALESCE(sum(a.amount) FILTER (WHERE a.kind = 'principal'), 0)
                OR i.interest_paid <> COALESCE(sum(a.amount) FILTER (WHERE a.kind IN ('interest', 'rebate')), 0)
                OR i.late_fee_paid <> COALESCE(sum(a.amount) FILTER (WHERE a.kind IN ('late_fee', 'charity_fee')), 0)
        ) broken""",
    # Payment numbers run 1..n without a gap, n being the plan's counter.
    "payment_numbers_gapless": """
        SELECT count(*) FROM (
            SELECT p.id FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
              JOIN installments_installmentplan p ON p.id = plans.plan_id
              LEFT JOIN payments_payment pay ON pay.plan_id = p.id
             GROUP BY p.id, p.last_payment_number
            HAVING count(pay.id) <> p.last_payment_number
                OR COALESCE(max(pay.payment_number), 0) <> p.last_payment_number) broken""",
    # A paid-off open plan is completed (the constraint says the converse).
    "open_plan_with_nothing_owed": """
        SELECT count(*) FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
          JOIN installments_installmentplan p ON p.id = plans.plan_id
         WHERE p.status IN ('active', 'defaulted') AND p.amount_paid + p.rebates = p.total_payable + p.late_fees""",
    "paid_installment_has_date": """
        SELECT count(*) FROM (SELECT DISTINCT plan_id FROM unnest(%(plans)s::uuid[]) AS t(plan_id)) plans
          JOIN installments_installment i ON i.plan_id = plans.plan_id
         WHERE (i.status = 'paid') <> (i.paid_on IS NOT NULL)""",
}


def ledger_problems(*, plan_ids: list[Any]) -> dict[str, int]:
    """The invariants ``plans`` break, with how many plans, payments or rows break each (empty when sound)."""
    params = {"plans": [str(plan_id) for plan_id in plan_ids]}
    problems: dict[str, int] = {}
    # The tables' statistics predate the rows the transaction wrote (an import's thousands of plans).
    with nested_loops_off(), connection.cursor() as cursor:
        for name, sql in LEDGER_INVARIANTS.items():
            cursor.execute(sql, params)
            count = cursor.fetchone()[0]
            if count:
                problems[name] = count
    return problems
