"""The ledger's invariants for a set of plans, in SQL (the whole-database twins are bench/invariants.py's): each
query counts the plans, payments or rows of ``plans`` that break one. A service that writes ledger rows around
``payment_post`` (``plans_import``) runs them inside its transaction and refuses to commit unless all are zero."""

from __future__ import annotations

from typing import Any

from django.db import connection

from installments.invariants import SCHEDULE_GAPS_SQL

LEDGER_INVARIANTS: dict[str, str] = {
    # The plan's running total is its completed payments, down payment included.
    "plan_amount_paid_is_completed_payments": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, sum(amount) AS paid FROM payments_payment
                      WHERE status = 'completed' AND plan_id = ANY(%(plans)s::uuid[])
                      GROUP BY plan_id) c ON c.plan_id = p.id
         WHERE p.id = ANY(%(plans)s::uuid[]) AND p.amount_paid <> COALESCE(c.paid, 0)""",
    # Each payment is allocated exactly: a completed one in full, any other not at all.
    "payment_allocated_in_full": """
        SELECT count(*) FROM payments_payment pay
          LEFT JOIN (SELECT a.payment_id, sum(a.amount) AS allocated FROM payments_paymentallocation a
                       JOIN payments_payment x ON x.id = a.payment_id
                      WHERE a.kind <> 'rebate' AND x.plan_id = ANY(%(plans)s::uuid[]) GROUP BY a.payment_id) a
                 ON a.payment_id = pay.id
         WHERE pay.plan_id = ANY(%(plans)s::uuid[])
           AND COALESCE(a.allocated, 0) <> CASE WHEN pay.status = 'completed' THEN pay.amount ELSE 0 END""",
    # The schedule accounts for every unit: total payable + fees = rows in force + down payment held.
    "installments_add_up": f"SELECT count(*) FROM ({SCHEDULE_GAPS_SQL}) gaps WHERE gaps.id = ANY(%(plans)s::uuid[])",  # noqa: S608
    # What each row says it received is what was allocated to it, kind by kind.
    "installment_paid_is_allocations": """
        SELECT count(*) FROM installments_installment i
          LEFT JOIN (SELECT a.installment_id,
                            sum(a.amount) FILTER (WHERE a.kind = 'principal') AS principal,
                            sum(a.amount) FILTER (WHERE a.kind IN ('interest', 'rebate')) AS interest,
                            sum(a.amount) FILTER (WHERE a.kind IN ('late_fee', 'charity_fee')) AS fee
                       FROM payments_paymentallocation a JOIN payments_payment pay ON pay.id = a.payment_id
                      WHERE a.installment_id IS NOT NULL AND pay.plan_id = ANY(%(plans)s::uuid[])
                      GROUP BY a.installment_id) a ON a.installment_id = i.id
         WHERE i.plan_id = ANY(%(plans)s::uuid[])
           AND (i.principal_paid <> COALESCE(a.principal, 0) OR i.interest_paid <> COALESCE(a.interest, 0)
                OR i.late_fee_paid <> COALESCE(a.fee, 0))""",
    # Payment numbers run 1..n without a gap, n being the plan's counter.
    "payment_numbers_gapless": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, count(*) AS n, max(payment_number) AS top FROM payments_payment
                      WHERE plan_id = ANY(%(plans)s::uuid[]) GROUP BY plan_id) c ON c.plan_id = p.id
         WHERE p.id = ANY(%(plans)s::uuid[])
           AND (COALESCE(c.n, 0) <> p.last_payment_number OR COALESCE(c.top, 0) <> p.last_payment_number)""",
    # A paid-off open plan is completed (the constraint says the converse).
    "open_plan_with_nothing_owed": """
        SELECT count(*) FROM installments_installmentplan
         WHERE id = ANY(%(plans)s::uuid[]) AND status IN ('active', 'defaulted')
           AND amount_paid + rebates = total_payable + late_fees""",
    "paid_installment_has_date": """
        SELECT count(*) FROM installments_installment
         WHERE plan_id = ANY(%(plans)s::uuid[]) AND (status = 'paid') <> (paid_on IS NOT NULL)""",
}


def ledger_problems(*, plan_ids: list[Any]) -> dict[str, int]:
    """The invariants ``plans`` break, with how many plans, payments or rows break each (empty when sound)."""
    params = {"plans": [str(plan_id) for plan_id in plan_ids]}
    problems: dict[str, int] = {}
    with connection.cursor() as cursor:
        for name, sql in LEDGER_INVARIANTS.items():
            cursor.execute(sql, params)
            count = cursor.fetchone()[0]
            if count:
                problems[name] = count
    return problems
