"""The plan lock holds the plan row only: while a lifecycle service holds it on one plan, the merchant's other
plans take payments and new customers sign up. What a change on one plan and a payment on another do share is the
merchant's statistics' summary rows (installments/summaries.py), written last in each transaction: a payment on
another plan waits for those alone, and only until the change commits.

Real threads, each on its own connection (``transaction=True``); the order of events is asserted, not timings:
the holder keeps its transaction open until the other work reports done (or a long timeout passes, when the
test fails).
"""

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from customers.models import Customer
from customers.services import customer_create
from installments.models import InstallmentPlan
from installments.services import (
    late_fee_charge,
    plan_approve,
    plan_cancel,
    plan_mark_defaulted,
    plan_reject,
    plan_reschedule,
    plan_update,
)
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.models import Merchant, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("today")]

Status = InstallmentPlan.Status
WAIT = 30  # seconds: only reached when the other work is blocked, and then the test fails on the order


def _while_locked(
    hold: Callable[[], object], other: Callable[[], object], *, release_when: Callable | None = None
) -> list[str]:
    """Run ``hold`` in a transaction left open until ``other`` (another thread, its own connection) is done, or
    until ``release_when(done)`` returns; the events in the order they happened."""
    locked, done = threading.Event(), threading.Event()
    events: list[str] = []
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                hold()
                locked.set()
                (release_when or (lambda event: event.wait(timeout=WAIT)))(done)
                events.append("lock released")
        except BaseException as exc:  # handed back to the test
            errors.append(exc)
            locked.set()
        finally:
            connection.close()

    def worker() -> None:
        try:
            locked.wait(timeout=WAIT)
            other()
            events.append("other work done")
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT + 10)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return events


def _another_waits_for_a_lock(done: threading.Event) -> None:
    """Return once another connection of this database is waiting for a row lock (or has finished, or a long
    while passed)."""
    with connection.cursor() as cursor:
        for _attempt in range(WAIT * 20):
            if done.is_set():
                return
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees one frozen view
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            done.wait(timeout=0.05)


def _another_waits_for_a_summary_row(done: threading.Event) -> None:
    """Return once another connection waits for a lock in a statement adding to the statistics' summary rows
    (or has finished, or a long while passed); fails if it waits for any other lock."""
    with connection.cursor() as cursor:
        for _attempt in range(WAIT * 20):
            if done.is_set():
                return
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            waiting = [row[0] for row in cursor.fetchall()]
            if waiting:
                assert all(_adds_to_summary_rows(query) for query in waiting), waiting
                return
            done.wait(timeout=0.05)


SUMMARY_TABLES = ("installments_planstatustotal", "installments_duedaytotal", "payments_collectiondaytotal")


def _adds_to_summary_rows(query: str) -> bool:
    """An ``INSERT ... ON CONFLICT DO UPDATE`` into a summary table (taqsit/summaries.py). PostgreSQL shows a
    statement's first 1,024 bytes only (``track_activity_query_size``), which may end before its ``DO UPDATE``:
    the table it inserts into comes first."""
    return any(f'INSERT INTO "{table}"' in query for table in SUMMARY_TABLES)


def _fresh(model, pk):
    return model.objects.select_related("merchant").get(pk=pk)


@pytest.fixture
def plans(owner, customer, merchant):
    """Plan A pending approval (the merchant asked for approvals), then plan B active."""
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=True)
    plan_a = plan_make(actor=owner, customer=customer)
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=False)
    plan_b = plan_make(actor=owner, customer=customer)
    assert (plan_a.status, plan_b.status) == (Status.PENDING, Status.ACTIVE)
    return plan_a, plan_b


def _activate(plan_id, actor_id) -> None:
    plan_approve(actor=_fresh(User, actor_id), plan=_fresh(InstallmentPlan, plan_id))


LIFECYCLE: dict[str, tuple[bool, Callable]] = {
    # name: (approve plan A first, the service run under the lock on plan A)
    "approve": (False, lambda actor, plan: plan_approve(actor=actor, plan=plan)),
    "reject": (False, lambda actor, plan: plan_reject(actor=actor, plan=plan, reason="No income proof.")),
    "cancel": (True, lambda actor, plan: plan_cancel(actor=actor, plan=plan, reason="Goods returned.")),
    "mark defaulted": (True, lambda actor, plan: plan_mark_defaulted(actor=actor, plan=plan)),
    "update": (True, lambda actor, plan: plan_update(actor=actor, plan=plan, notes="Called on Monday.")),
    "reschedule": (
        True,
        lambda actor, plan: plan_reschedule(
            actor=actor,
            plan=plan,
            number_of_installments=6,
            installment_frequency="monthly",
            start_date=date(2026, 3, 1),
        ),
    ),
    "late fee": (
        True,
        lambda actor, plan: late_fee_charge(installment=plan.installments.get(number=1), period=date(2026, 2, 16)),
    ),
}


@pytest.mark.parametrize("service", list(LIFECYCLE))
def test_a_lifecycle_change_on_one_plan_does_not_hold_up_the_merchants_other_plans(service, owner, merchant, plans):
    Merchant.objects.filter(pk=merchant.pk).update(late_fee_method=Merchant.LateFeeMethod.FIXED, late_fee_amount=5)
    plan_a, plan_b = plans
    approve_first, run = LIFECYCLE[service]
    if approve_first:
        _activate(plan_a.pk, owner.pk)

    def hold() -> None:
        run(_fresh(User, owner.pk), _fresh(InstallmentPlan, plan_a.pk))

    def other() -> None:
        actor = _fresh(User, owner.pk)
        payment_post(actor=actor, plan=_fresh(InstallmentPlan, plan_b.pk), amount=Decimal("50.00"))
        customer_create(actor=actor, name="Omar Said", phone="+14155550199")

    events = _while_locked(hold, other, release_when=_another_waits_for_a_summary_row)

    # The other plan's payment got as far as the summary rows (no plan lock held it up), and then waited for the
    # change to commit; a change that writes none of the rows it adds to (an update of the notes) waits for nothing.
    assert events in (["other work done", "lock released"], ["lock released", "other work done"])
    assert list(Payment.objects.filter(plan=plan_b).order_by("payment_number").values_list("amount", flat=True)) == [
        Decimal("200.00"),
        Decimal("50.00"),
    ]
    assert Customer.objects.filter(merchant=merchant, name="Omar Said").count() == 1


def test_a_payment_on_the_same_plan_waits_for_the_lifecycle_change(owner, plans):
    plan_a, _plan_b = plans

    def hold() -> None:
        plan_approve(actor=_fresh(User, owner.pk), plan=_fresh(InstallmentPlan, plan_a.pk))

    def other() -> None:
        payment_post(actor=_fresh(User, owner.pk), plan=_fresh(InstallmentPlan, plan_a.pk), amount=Decimal("50.00"))

    # The payment's plan lock waits for the approval's; it then sees the plan active, its down payment recorded.
    events = _while_locked(hold, other, release_when=_another_waits_for_a_lock)

    assert events == ["lock released", "other work done"]
    assert list(Payment.objects.filter(plan=plan_a).order_by("payment_number").values_list("amount", flat=True)) == [
        Decimal("200.00"),
        Decimal("50.00"),
    ]
