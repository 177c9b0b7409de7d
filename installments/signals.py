"""Signals the plan lifecycle sends.

The payments app listens (installments may not import payments): when a plan becomes active, its down
payment is recorded as payment number 1 in the same transaction. The notifications app listens to decisions,
sent once the decision is committed (``transaction.on_commit``), so nothing is told of a rolled-back write.
"""

from django.dispatch import Signal

# Sent with plan=<InstallmentPlan>, actor=<User|None>, down_payment_received=<bool>, while the plan's row lock is
# held. ``down_payment_received`` is False when a customer's application is approved away from the counter: the
# down payment is then expected (a pending payment to confirm when the customer pays it), not received.
plan_activated = Signal()

# Sent with plan=<InstallmentPlan>, decision="approved"|"rejected", reason=<str> ("" when approved), after commit.
plan_decided = Signal()
