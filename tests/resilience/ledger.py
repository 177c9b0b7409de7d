"""The ledger's invariants, checked in SQL on a throwaway database (the app's processes wrote it, not this one).

Each query returns the rows that break an invariant; ``ledger_violations`` lists them all, so a failing test
shows every broken plan at once. The same invariants as the suite's ``ledger_assert`` (conftest.py).
"""

from __future__ import annotations

import psycopg

from installments.invariants import SCHEDULE_GAPS_SQL

INVARIANTS = {
    "allocations = completed payments = the plan's amount paid": """
        SELECT p.id, p.amount_paid, pay.completed, alloc.allocated
          FROM installments_installmentplan p
          LEFT JOIN LATERAL (SELECT COALESCE(SUM(amount), 0) AS completed FROM payments_payment
                              WHERE plan_id = p.id AND status = 'completed') pay ON TRUE
          LEFT JOIN LATERAL (SELECT COALESCE(SUM(a.amount), 0) AS allocated FROM payments_paymentallocation a
                               JOIN payments_payment y ON y.id = a.payment_id
                              WHERE y.plan_id = p.id AND a.kind <> 'rebate') alloc ON TRUE
         WHERE NOT (p.amount_paid = pay.completed AND pay.completed = alloc.allocated)
    """,
    "a completed payment is allocated in full (nothing half-written)": """
        SELECT y.id, y.plan_id, y.payment_number, y.amount, COALESCE(SUM(a.amount), 0)
          FROM payments_payment y LEFT JOIN payments_paymentallocation a ON a.payment_id = y.id AND a.kind <> 'rebate'
         WHERE y.status = 'completed'
         GROUP BY y.id HAVING COALESCE(SUM(a.amount), 0) <> y.amount
    """,
    "a payment that is not completed nets to zero": """
        SELECT y.id, y.status, SUM(a.amount)
          FROM payments_payment y JOIN payments_paymentallocation a ON a.payment_id = y.id
         WHERE y.status <> 'completed'
         GROUP BY y.id HAVING SUM(a.amount) <> 0
    """,
    "no installment over-paid or paid below zero": """
        SELECT id, plan_id, number, amount_due, amount_paid, late_fee, late_fee_paid
          FROM installments_installment
         WHERE amount_paid > amount_due OR amount_paid < 0 OR late_fee_paid > late_fee OR late_fee_paid < 0
            OR amount_paid <> principal_paid + interest_paid
    """,
    "each installment's allocations = what it shows paid": """
        SELECT i.id, i.plan_id, i.number, i.amount_paid, i.late_fee_paid, lines.principal_interest, lines.fees
          FROM installments_installment i
          LEFT JOIN LATERAL (
                SELECT COALESCE(SUM(amount) FILTER (WHERE kind IN ('principal', 'interest', 'rebate')), 0)
                           AS principal_interest,
                       COALESCE(SUM(amount) FILTER (WHERE kind IN ('late_fee', 'charity_fee')), 0) AS fees
                  FROM payments_paymentallocation WHERE installment_id = i.id) lines ON TRUE
         WHERE i.amount_paid <> lines.principal_interest OR i.late_fee_paid <> lines.fees
    """,
    "a plan is never paid beyond what it owes": """
        SELECT p.id, p.amount_paid, p.total_payable, p.late_fees FROM installments_installmentplan p
         WHERE p.amount_paid < 0 OR p.amount_paid > p.total_payable + p.late_fees - p.rebates
            OR p.late_fees <> (SELECT COALESCE(SUM(i.late_fee), 0) FROM installments_installment i
                                WHERE i.plan_id = p.id)
    """,
    "payment numbers are 1..N without gaps, N the plan's last number": """
        SELECT p.id, p.last_payment_number, COUNT(y.id), MIN(y.payment_number), MAX(y.payment_number)
          FROM installments_installmentplan p LEFT JOIN payments_payment y ON y.plan_id = p.id
         GROUP BY p.id
        HAVING COUNT(y.id) <> p.last_payment_number OR COUNT(DISTINCT y.payment_number) <> COUNT(y.id)
            OR COALESCE(MIN(y.payment_number), 1) <> 1 OR COALESCE(MAX(y.payment_number), 0) <> p.last_payment_number
    """,
    "the schedule shown accounts for every unit (rows in force, paid on superseded rows, down payment)": (
        SCHEDULE_GAPS_SQL
    ),
    "an idempotency key recorded at most one payment": """
        SELECT merchant_id, idempotency_key, COUNT(*) FROM payments_payment
         WHERE idempotency_key IS NOT NULL GROUP BY merchant_id, idempotency_key HAVING COUNT(*) > 1
    """,
}


def ledger_violations(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every invariant that fails, with the rows that break it; empty when the ledger is exact."""
    broken = {}
    for name, query in INVARIANTS.items():
        rows = conn.execute(query).fetchall()
        if rows:
            broken[name] = rows
    return broken
