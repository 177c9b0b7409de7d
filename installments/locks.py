"""The one lock policy for plans: a row lock on the plan row only (``of=("self",)``: no joined row is locked).

Every service and job that changes a plan's money, schedule or status takes it first, then the plan's installment
rows, in that order, so a payment, a lifecycle change and the daily job serialise per plan and never deadlock.
"""

from __future__ import annotations

from django.db.models import QuerySet

from installments.models import InstallmentPlan
from taqsit.compiled import CompiledQuery
from taqsit.models import Merchant


def _for_update(queryset: QuerySet, *, no_key: bool) -> QuerySet:
    # ``of=("self",)``: a row a query joins is read, never locked; locking the merchant's or the customer's row
    # would block every insert referencing them (payments, customers) until commit.
    return queryset.select_for_update(of=("self",), no_key=no_key)


# ``no_key`` chooses the strength. FOR NO KEY UPDATE (``no_key=True``) still excludes every other writer of the plan,
# but not the FOR KEY SHARE an INSERT referencing the plan takes, so payments, allocations, late fees, notifications
# and audit rows of the plan are not held up by it; FOR UPDATE (``no_key=False``) blocks those too. Per caller:
# - ``no_key=True``: approve, reject, cancel, mark defaulted, reschedule, update (notes), ``late_fee_charge``, the
#   ledger (post, complete, fail, refund, void, update and delete of a payment, the down payment) and the daily
#   jobs' chunk lock (``plans_lock``): they change non-key columns only, and every other writer of the plan takes
#   this same lock first, so they still serialise per plan.
# - ``no_key=False``: ``plan_delete`` only, which deletes the plan row: FOR UPDATE up front, so no row referencing
#   it is inserted meanwhile and the DELETE need not upgrade its lock (a deadlock with such an insert).
def plan_lock(*, plan_id, no_key: bool = False, merchant: Merchant | None = None) -> InstallmentPlan:
    """Lock one plan row and return it as it stands once locked, with its merchant (read in the same statement,
    not locked: every caller needs its currency, today and policy).

    ``merchant``: the merchant the caller has just read (a request's, loaded with its user): the plan is locked
    only if it is that merchant's (else ``DoesNotExist``) and comes back with that object instead of a second
    reading of the same row."""
    if merchant is None:
        return _for_update(InstallmentPlan.objects.select_related("merchant"), no_key=no_key).get(pk=plan_id)
    found = list(_PLAN_OF_MERCHANT_LOCK[no_key].instances(plan_id, merchant.pk))
    if not found:
        raise InstallmentPlan.DoesNotExist("No InstallmentPlan matches the given query.")
    plan = found[0]
    plan.merchant = merchant
    return plan


# The lock of a plan of a merchant in hand (the counter's, once per payment): compiled once (taqsit/compiled.py).
_PLAN_OF_MERCHANT_LOCK = {
    no_key: CompiledQuery(
        lambda plan_id, merchant_id, no_key=no_key: _for_update(
            InstallmentPlan.objects.filter(pk=plan_id, merchant_id=merchant_id), no_key=no_key
        )
    )
    for no_key in (True, False)
}


def plans_lock(*, plans: QuerySet[InstallmentPlan], plan_ids: list, no_key: bool = False) -> list:
    """Lock the plans of ``plan_ids`` that ``plans`` still selects, in id order so two jobs never deadlock on
    each other; returns their ids (the daily jobs' chunk lock)."""
    locked = _for_update(plans.filter(pk__in=plan_ids).order_by("pk"), no_key=no_key)
    return list(locked.values_list("pk", flat=True))
