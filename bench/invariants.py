"""The ledger invariants, checked in SQL over a whole database: each query counts the rows that break one.

The CHECK constraints are enforced by PostgreSQL while the data is loaded; foreign keys are not (the loader
runs with ``session_replication_role = replica``, which skips their triggers), so they are checked here too.
"""

from __future__ import annotations

import psycopg

from installments.invariants import SCHEDULE_GAPS_SQL

INVARIANTS: dict[str, str] = {
    # The plan's running total is its completed payments, down payment included.
    "plan_amount_paid_is_completed_payments": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, sum(amount) AS paid FROM payments_payment WHERE status = 'completed'
                      GROUP BY plan_id) c ON c.plan_id = p.id
         WHERE p.amount_paid <> COALESCE(c.paid, 0)""",
    # Allocations (reversals included) add up to the completed payments, plan by plan.
    # Settlement rebates move no money: they are left out here and checked against the plan's rebates below.
    "allocations_are_completed_payments": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, sum(amount) AS paid FROM payments_payment WHERE status = 'completed'
                      GROUP BY plan_id) c ON c.plan_id = p.id
          LEFT JOIN (SELECT pay.plan_id, sum(a.amount) AS allocated FROM payments_paymentallocation a
                       JOIN payments_payment pay ON pay.id = a.payment_id WHERE a.kind <> 'rebate'
                      GROUP BY pay.plan_id) a ON a.plan_id = p.id
         WHERE COALESCE(c.paid, 0) <> COALESCE(a.allocated, 0)""",
    "plan_rebates_are_rebate_lines": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT pay.plan_id, sum(a.amount) AS rebated FROM payments_paymentallocation a
                       JOIN payments_payment pay ON pay.id = a.payment_id WHERE a.kind = 'rebate'
                      GROUP BY pay.plan_id) a ON a.plan_id = p.id
         WHERE p.rebates <> COALESCE(a.rebated, 0)""",
    # Each payment is allocated exactly: a completed one in full, any other not at all (net of reversals).
    "payment_allocated_in_full": """
        SELECT count(*) FROM payments_payment pay
          LEFT JOIN (SELECT payment_id, sum(amount) AS allocated FROM payments_paymentallocation
                      WHERE kind <> 'rebate' GROUP BY payment_id) a ON a.payment_id = pay.id
         WHERE COALESCE(a.allocated, 0) <> CASE WHEN pay.status = 'completed' THEN pay.amount ELSE 0 END""",
    # The schedule accounts for every unit (rows in force, what was paid on superseded rows, the down payment
    # held): the query the app's selector and the suite's ledger_assert run (installments/invariants.py).
    "installments_add_up": f"SELECT count(*) FROM ({SCHEDULE_GAPS_SQL}) gaps",
    # What each installment says it received is what was allocated to it, kind by kind: interest settled is
    # interest paid plus interest rebated, fees paid are late fees plus charity fees.
    "installment_paid_is_allocations": """
        SELECT count(*) FROM installments_installment i
          LEFT JOIN (SELECT installment_id,
                            sum(amount) FILTER (WHERE kind = 'principal') AS principal,
                            sum(amount) FILTER (WHERE kind IN ('interest', 'rebate')) AS interest,
                            sum(amount) FILTER (WHERE kind = 'rebate') AS rebated,
                            sum(amount) FILTER (WHERE kind IN ('late_fee', 'charity_fee')) AS fee,
                            sum(amount) FILTER (WHERE kind = 'charity_fee') AS charity
                       FROM payments_paymentallocation WHERE installment_id IS NOT NULL
                      GROUP BY installment_id) a ON a.installment_id = i.id
         WHERE i.principal_paid <> COALESCE(a.principal, 0) OR i.interest_paid <> COALESCE(a.interest, 0)
            OR i.late_fee_paid <> COALESCE(a.fee, 0) OR i.interest_rebated <> COALESCE(a.rebated, 0)
            OR i.charity_fee_paid <> COALESCE(a.charity, 0)""",
    "installment_over_paid": """
        SELECT count(*) FROM installments_installment
         WHERE amount_paid > amount_due OR late_fee_paid > late_fee""",
    # Late fees: the charges, the installments' and the plan's totals agree.
    "installment_late_fee_is_charges": """
        SELECT count(*) FROM installments_installment i
          LEFT JOIN (SELECT installment_id, sum(amount) AS fee, sum(amount) FILTER (WHERE is_charity) AS charity
                       FROM installments_latefee GROUP BY installment_id) f ON f.installment_id = i.id
         WHERE i.late_fee <> COALESCE(f.fee, 0) OR i.charity_fee <> COALESCE(f.charity, 0)""",
    "plan_late_fees_is_installments": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, sum(late_fee) AS fee FROM installments_installment GROUP BY plan_id) i
                 ON i.plan_id = p.id
         WHERE p.late_fees <> COALESCE(i.fee, 0)""",
    # Payment numbers run 1..n without a gap, n being the plan's counter.
    "payment_numbers_gapless": """
        SELECT count(*) FROM installments_installmentplan p
          LEFT JOIN (SELECT plan_id, count(*) AS n, max(payment_number) AS top FROM payments_payment
                      GROUP BY plan_id) c ON c.plan_id = p.id
         WHERE COALESCE(c.n, 0) <> p.last_payment_number OR COALESCE(c.top, 0) <> p.last_payment_number""",
    # A paid-off open plan is completed (the constraint says the converse).
    "open_plan_with_nothing_owed": """
        SELECT count(*) FROM installments_installmentplan
         WHERE status IN ('active', 'defaulted') AND amount_paid + rebates = total_payable + late_fees""",
    "paid_installment_has_date": """
        SELECT count(*) FROM installments_installment WHERE (status = 'paid') <> (paid_on IS NOT NULL)""",
    "plan_number_counter": """
        SELECT count(*) FROM taqsit_merchant m
          LEFT JOIN (SELECT merchant_id, max(number) AS top FROM installments_installmentplan GROUP BY merchant_id) p
                 ON p.merchant_id = m.id
         WHERE m.last_plan_number <> COALESCE(p.top, 0)""",
}

_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
 WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.connamespace = 'public'::regnamespace
 ORDER BY 1, 2
"""


def foreign_key_queries(conn: psycopg.Connection) -> dict[str, str]:
    """One orphan count per single-column foreign key of the schema (the loader skipped their triggers)."""
    queries = {}
    for table, column, target, target_column in conn.execute(_FOREIGN_KEYS).fetchall():
        queries[f"fk:{table}.{column}"] = (
            f'SELECT count(*) FROM {table} c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM {target} t WHERE t."{target_column}" = c."{column}")'
        )
    return queries


def invariants_check(conn: psycopg.Connection, *, foreign_keys: bool = True) -> dict[str, int]:
    """Every invariant's count of offending rows (all zero when the data is sound)."""
    queries = dict(INVARIANTS)
    if foreign_keys:
        queries.update(foreign_key_queries(conn))
    return {name: conn.execute(query).fetchone()[0] for name, query in queries.items()}
