"""Signals the plan lifecycle sends inside its transaction.

The payments app listens (installments may not import payments): when a plan becomes active, its down
payment is recorded as payment number 1 in the same transaction.
"""

from django.dispatch import Signal

# Sent with plan=<InstallmentPlan>, actor=<User|None>, while the plan's row lock is held.
plan_activated = Signal()
