"""The schedule's own invariant, as SQL that needs no Django: the bench's checker (bench/invariants.py), the
suite's ``ledger_assert`` and the selector ``plans_schedule_gaps`` all run this one query.

What a customer, the API and a receipt see accounts for every unit: the rows in force (amount due and late fees)
plus what was paid on superseded rows (and their late fees) plus the down payment still held equal the total
payable plus the late fees charged. A down payment refunded or voided is owed again on the schedule in force, so
it leaves the down payment's side and joins the rows'; so does an expected one (a customer's application approved
away from the counter) that failed.
"""

SCHEDULE_GAPS_SQL = """
    SELECT p.id, p.total_payable + p.late_fees AS owed,
           COALESCE(i.shown, 0) + p.down_payment - COALESCE(d.carried, 0) AS shown
      FROM installments_installmentplan p
      LEFT JOIN (SELECT plan_id,
                        sum(CASE WHEN superseded_at IS NULL THEN amount_due ELSE amount_paid END + late_fee) AS shown
                   FROM installments_installment GROUP BY plan_id) i ON i.plan_id = p.id
      LEFT JOIN (SELECT plan_id, sum(amount) AS carried FROM payments_payment
                  WHERE is_down_payment AND status IN ('refunded', 'voided', 'failed')
                  GROUP BY plan_id) d ON d.plan_id = p.id
     WHERE p.total_payable + p.late_fees <> COALESCE(i.shown, 0) + p.down_payment - COALESCE(d.carried, 0)
"""
