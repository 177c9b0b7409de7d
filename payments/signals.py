"""Signals the ledger sends once a write is committed (``transaction.on_commit``), so nothing is told of a
rolled-back payment. The notifications app listens (it stands above payments; payments imports none of it).
"""

from django.dispatch import Signal

# Sent with payment=<Payment> when a payment is recorded completed (``payment_post``), after commit. Not for a
# plan's down payment (recorded with the plan, at the counter or on approval: the plan's own message covers it),
# nor for a pending one (its confirmation sends ``payment_settled``), nor for an idempotent replay.
payment_recorded = Signal()

# Sent with payment=<Payment>, outcome="completed"|"failed", reason=<str> ("" when completed), when a pending
# payment is confirmed (``payment_complete``) or marked failed (``payment_fail``), after commit.
payment_settled = Signal()
