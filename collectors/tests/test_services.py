"""The collector's worklist services: assignments, contacts, promises found kept or broken from the payments,
and the figures. Plans from ``plan_make`` start 2026-01-15: 200.00 down, 200.00 due on the 15th of each month,
so on 1 March 2026 (``today``) the February installment is overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from collectors.models import Assignment, Contact, Promise
from collectors.selectors import collector_figures, worklist
from collectors.services import contact_record, plans_assign, promise_record, promises_evaluate
from customers.tests.factories import CustomerFactory
from dailyrun.jobs import daily_jobs_run
from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from payments.services import payment_complete, payment_post, payment_refund, payment_void
from taqsit.models import Role
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12, month: int = 3):
    """The clock at ``hour`` UTC on ``day`` March 2026 (the merchants' zone is UTC)."""
    return time_machine.travel(datetime(2026, month, day, hour, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def plan(owner, customer, today):
    return plan_make(actor=owner, customer=customer)


@pytest.fixture
def paid(owner, django_capture_on_commit_callbacks):
    """Record a completed payment at the counter, its after-commit signals run (as they do after a request)."""

    def pay(plan, amount: str, *, payment_date: date | None = None, status: str = "completed"):
        with django_capture_on_commit_callbacks(execute=True):
            return payment_post(
                actor=owner, plan=plan, amount=Decimal(amount), payment_date=payment_date, status=status
            )

    return pay


def promise_of(clerk, plan, amount="150.00", promised_on=date(2026, 3, 5), **kwargs) -> Promise:
    return promise_record(actor=clerk, plan=plan, amount=Decimal(amount), promised_on=promised_on, **kwargs)


def status_of(promise: Promise) -> tuple[str, Decimal]:
    promise.refresh_from_db()
    return promise.status, promise.amount_counted


# Promises: kept, broken, counted again -----------------------------------------------------------------------


def test_a_promise_is_recorded_with_its_contact_and_counts_for_the_plans_collector(manager, clerk, plan):
    plans_assign(actor=manager, plan_ids=[plan.pk], collector=clerk)
    with at(1, 13):
        promise = promise_of(manager, plan, note="Pays after payday.", kind="visit")

    assert (promise.amount, promise.promised_on, promise.made_on, promise.status) == (
        Decimal("150.00"),
        date(2026, 3, 5),
        date(2026, 3, 1),
        "open",
    )
    assert (promise.made_by, promise.collector) == (manager, clerk)
    contact = promise.contact
    assert (contact.kind, contact.outcome, contact.note, contact.made_by) == (
        "visit",
        "promised",
        "Pays after payday.",
        manager,
    )


def test_kept_by_a_payment_of_exactly_the_amount(clerk, plan, paid):
    promise = promise_of(clerk, plan)
    with at(3):
        paid(plan, "150.00")

    assert status_of(promise) == ("kept", Decimal("150.00"))
    assert promise.resolved_at == datetime(2026, 3, 3, 12, tzinfo=UTC)


def test_one_cent_short_is_not_kept_and_is_broken_the_day_after_its_date(clerk, plan, paid):
    promise = promise_of(clerk, plan)
    with at(3):
        paid(plan, "149.99")
    assert status_of(promise) == ("open", Decimal("149.99"))

    with at(5, 23):
        promises_evaluate(merchant=plan.merchant)
    assert status_of(promise) == ("open", Decimal("149.99"))
    with at(6, 0):
        assert promises_evaluate(merchant=plan.merchant) == {"recounted": 0, "kept": 0, "broken": 1, "reopened": 0}
    assert status_of(promise) == ("broken", Decimal("149.99"))


def test_kept_by_two_payments(clerk, plan, paid):
    promise = promise_of(clerk, plan)
    with at(2):
        paid(plan, "100.00")
    assert status_of(promise) == ("open", Decimal("100.00"))
    with at(5, 20):
        paid(plan, "50.00")

    assert status_of(promise) == ("kept", Decimal("150.00"))


def test_a_payment_on_the_promises_date_recorded_the_next_morning_keeps_it(clerk, plan, paid):
    promise = promise_of(clerk, plan)
    with at(6, 8):
        promises_evaluate(merchant=plan.merchant)
        assert status_of(promise) == ("broken", Decimal("0"))
        paid(plan, "150.00", payment_date=date(2026, 3, 5))

    assert status_of(promise) == ("kept", Decimal("150.00"))


def test_payments_outside_the_promise_do_not_count(owner, clerk, plan, paid):
    with at(1, 9):
        paid(plan, "20.00")  # before the promise was made
    with at(1, 10):
        promise = promise_of(clerk, plan)
    with at(2):
        paid(plan, "30.00", payment_date=date(2026, 2, 28))  # recorded after it, dated before it was made
    with at(6):
        paid(plan, "40.00")  # after its date

    assert status_of(promise) == ("broken", Decimal("0"))


def test_a_pending_payment_counts_once_it_is_confirmed(owner, clerk, plan, paid, django_capture_on_commit_callbacks):
    promise = promise_of(clerk, plan)
    with at(3):
        cheque = paid(plan, "150.00", status="pending")
    assert status_of(promise) == ("open", Decimal("0"))

    with at(7), django_capture_on_commit_callbacks(execute=True):
        payment_complete(actor=owner, payment=cheque)

    assert status_of(promise) == ("kept", Decimal("150.00"))


@pytest.mark.parametrize(("reverse", "day", "after"), [("refund", 4, "open"), ("void", 9, "broken")])
def test_a_refunded_or_voided_payment_unkeeps_the_promise(
    owner, clerk, plan, paid, django_capture_on_commit_callbacks, reverse, day, after
):
    promise = promise_of(clerk, plan)
    with at(3):
        payment = paid(plan, "150.00")
    assert status_of(promise) == ("kept", Decimal("150.00"))

    service = payment_refund if reverse == "refund" else payment_void
    with at(day), django_capture_on_commit_callbacks(execute=True):
        service(actor=owner, payment=payment, reason="Typed twice.")

    assert status_of(promise) == (after, Decimal("0"))
    assert promise.resolved_at == (None if after == "open" else datetime(2026, 3, day, 12, tzinfo=UTC))


def test_the_daily_run_breaks_a_promise_and_counts_a_refund_again(owner, clerk, plan, today):
    promise = promise_of(clerk, plan)
    kept = promise_of(clerk, plan_make(actor=owner, customer=CustomerFactory(merchant=plan.merchant)), "50.00")
    with at(2):
        payment = payment_post(actor=owner, plan=kept.plan, amount=Decimal("50.00"))
        promises_evaluate(merchant=plan.merchant)
    assert status_of(kept) == ("kept", Decimal("50.00"))
    with at(3):
        # Refunded without the signal being heard (a worker's crash): the daily step counts it again.
        payment_refund(actor=owner, payment=payment, reason="Returned.")

    with at(6, 0), merchant_scope(plan.merchant_id):
        results = daily_jobs_run(merchant=plan.merchant, day=date(2026, 3, 6))

    assert results["promises_evaluate"] == {"recounted": 1, "kept": 0, "broken": 2, "reopened": 0}
    assert status_of(promise) == ("broken", Decimal("0"))
    assert status_of(kept) == ("broken", Decimal("0"))


def test_a_new_promise_replaces_an_open_one_and_payments_count_toward_the_newest(clerk, plan, paid):
    with at(1, 10):
        first = promise_of(clerk, plan, "150.00", date(2026, 3, 10))
    with at(2):
        second = promise_of(clerk, plan, "100.00", date(2026, 3, 12))
    with at(3):
        paid(plan, "100.00")

    assert status_of(first) == ("replaced", Decimal("0"))
    assert first.closed_at == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert status_of(second) == ("kept", Decimal("100.00"))
    with at(4):
        third = promise_of(clerk, plan, "200.00", date(2026, 3, 20))
        paid(plan, "200.00")
    # The kept promise stays kept, with what it counted; the newest counts what came after it.
    assert status_of(second) == ("kept", Decimal("100.00"))
    assert status_of(third) == ("kept", Decimal("200.00"))


def test_a_broken_promise_replaced_stays_broken(clerk, plan):
    first = promise_of(clerk, plan, "150.00", date(2026, 3, 2))
    with at(4):
        promise_of(clerk, plan, "150.00", date(2026, 3, 8))
    assert status_of(first) == ("broken", Decimal("0"))


# Promises: refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "promised_on", "errors"),
    [
        ("0", date(2026, 3, 5), {"amount": ["The amount must be more than zero."]}),
        ("10.005", date(2026, 3, 5), {"amount": ["10.005 has more decimal places than USD allows (2)."]}),
        ("800.01", date(2026, 3, 5), {"amount": ["800.01 is more than the remaining balance 800.00."]}),
        ("abc", date(2026, 3, 5), {"amount": ["'abc' is not a number."]}),
        ("50", date(2026, 2, 28), {"promised_on": ["The date 2026-02-28 has passed."]}),
        (
            "50",
            date(2026, 5, 1),
            {"promised_on": ["A promise is for the next 60 days; reschedule the plan for later."]},
        ),
    ],
)
def test_a_bad_promise_is_refused_naming_the_field(clerk, plan, amount, promised_on, errors):
    with pytest.raises(ValidationError) as excinfo:
        promise_record(actor=clerk, plan=plan, amount=amount, promised_on=promised_on)
    assert excinfo.value.message_dict == errors
    assert (Promise.objects.count(), Contact.objects.count()) == (0, 0)


def test_a_promise_on_a_closed_plan_is_refused(owner, clerk, plan):
    InstallmentPlan.objects.filter(pk=plan.pk).update(status=InstallmentPlan.Status.CANCELLED)
    with pytest.raises(ValidationError) as excinfo:
        promise_of(clerk, plan)
    assert excinfo.value.message_dict == {"plan": [f"Plan {plan.reference} is cancelled: there is nothing to collect."]}


def test_a_viewer_records_nothing_and_a_clerk_assigns_nothing(clerk, viewer, plan):
    with pytest.raises(PermissionDenied):
        promise_of(viewer, plan)
    with pytest.raises(PermissionDenied):
        contact_record(actor=viewer, plan=plan, kind="call", outcome="reached")
    with pytest.raises(PermissionDenied):
        plans_assign(actor=clerk, plan_ids=[plan.pk], collector=clerk)
    assert (Promise.objects.count(), Contact.objects.count(), Assignment.objects.count()) == (0, 0, 0)


def test_another_merchants_plan_is_not_found(other_owner, plan):
    with pytest.raises(InstallmentPlan.DoesNotExist):
        promise_of(other_owner, plan)
    with pytest.raises(InstallmentPlan.DoesNotExist):
        contact_record(actor=other_owner, plan=plan, kind="call", outcome="reached")
    with pytest.raises(ValidationError) as excinfo:
        plans_assign(actor=other_owner, plan_ids=[plan.pk], collector=other_owner)
    assert excinfo.value.message_dict == {"plans": [f"No such plan: {plan.pk}."]}


# Assignments and contacts ------------------------------------------------------------------------------------


def test_plans_are_assigned_in_bulk_reassigned_and_unassigned(owner, manager, clerk, customer, today):
    plans = [plan_make(actor=owner, customer=customer) for _ in range(3)]

    assigned = plans_assign(actor=manager, plan_ids=[plan.pk for plan in plans], collector=clerk.pk)
    assert sorted((a.plan_id, a.collector_id, a.assigned_by_id) for a in assigned) == sorted(
        (plan.pk, clerk.pk, manager.pk) for plan in plans
    )
    plans_assign(actor=owner, plan_ids=[plans[0].pk], collector=manager)
    plans_assign(actor=owner, plan_ids=[plans[1].pk], collector=None)

    assert dict(Assignment.objects.values_list("plan_id", "collector_id")) == {
        plans[0].pk: manager.pk,
        plans[2].pk: clerk.pk,
    }


def test_a_collector_of_another_merchant_or_a_viewer_is_refused(manager, viewer, other_owner, plan):
    with pytest.raises(ValidationError) as excinfo:
        plans_assign(actor=manager, plan_ids=[plan.pk], collector=other_owner)
    assert excinfo.value.message_dict == {"collector": ["No such member of staff."]}
    with pytest.raises(ValidationError) as excinfo:
        plans_assign(actor=manager, plan_ids=[plan.pk], collector=viewer)
    assert excinfo.value.message_dict == {"collector": [f"{viewer} is a viewer: a viewer cannot follow up plans."]}
    inactive = UserFactory(merchant=plan.merchant, role=Role.CLERK, username="gone", is_active=False)
    with pytest.raises(ValidationError):
        plans_assign(actor=manager, plan_ids=[plan.pk], collector=inactive)
    with pytest.raises(ValidationError) as excinfo:
        plans_assign(actor=manager, plan_ids=[], collector=manager)
    assert excinfo.value.message_dict == {"plans": ["Choose at least one plan."]}
    assert Assignment.objects.count() == 0


def test_a_contact_is_recorded_and_a_bad_one_refused(clerk, plan):
    contact = contact_record(actor=clerk, plan=plan, kind="call", outcome="no_answer", note=" Twice. ")
    assert (contact.kind, contact.outcome, contact.note, contact.contacted_at) == (
        "call",
        "no_answer",
        "Twice.",
        datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    with pytest.raises(ValidationError) as excinfo:
        contact_record(
            actor=clerk,
            plan=plan,
            kind="fax",
            outcome="maybe",
            contacted_at=datetime(2026, 3, 2, 12, tzinfo=UTC),
        )
    assert excinfo.value.message_dict == {
        "kind": ["'fax' is not a kind of contact."],
        "outcome": ["'maybe' is not an outcome."],
        "contacted_at": ["The contact cannot be in the future."],
    }
    with pytest.raises(ValidationError) as excinfo:
        contact_record(
            actor=clerk, plan=plan, kind="visit", outcome="reached", contacted_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
    assert excinfo.value.message_dict == {"contacted_at": ["A contact is recorded within 30 days."]}


# The worklist and the figures --------------------------------------------------------------------------------


def test_the_worklist_puts_a_broken_promise_first_and_a_waiting_one_last(owner, manager, clerk, merchant, today):
    names = ("Waiting", "Nothing", "Broken", "Kept")
    plans = {name: plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name=name)) for name in names}
    plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name="Not due"), start_date=date(2026, 2, 20))
    promise_of(clerk, plans["Waiting"], "100.00", date(2026, 3, 4))
    promise_of(clerk, plans["Broken"], "100.00", date(2026, 3, 2))
    promise_of(clerk, plans["Kept"], "100.00", date(2026, 3, 9))
    plans_assign(actor=manager, plan_ids=[plans["Broken"].pk, plans["Kept"].pk], collector=clerk)
    with at(2, 13):
        payment_post(actor=owner, plan=plans["Kept"], amount=Decimal("100.00"))
        promises_evaluate(merchant=merchant)

    def order(**filters):
        rows = worklist(merchant=merchant, today=date(2026, 3, 3), user=clerk, **filters)
        return [(plan.customer.name, plan.promise_status, plan.overdue_amount) for plan in rows]

    # Before the daily step the list already sees the broken promise (its date has passed).
    assert order() == [
        ("Broken", "broken", Decimal("200.00")),
        ("Nothing", None, Decimal("200.00")),
        ("Kept", "kept", Decimal("100.00")),
        ("Waiting", "open", Decimal("200.00")),
    ]
    assert [name for name, *_ in order(show="mine")] == ["Broken", "Kept"]
    assert [name for name, *_ in order(show="unassigned")] == ["Nothing", "Waiting"]
    assert [name for name, *_ in order(promise="broken")] == ["Broken"]
    assert [name for name, *_ in order(promise="open")] == ["Waiting"]
    assert [name for name, *_ in order(promise="none")] == ["Nothing", "Kept"]
    assert [name for name, *_ in order(order="promise")] == ["Broken", "Waiting", "Kept", "Nothing"]
    assert [name for name, *_ in order(search="brok")] == ["Broken"]


def test_figures_per_collector_and_week(owner, manager, clerk, merchant, today, django_capture_on_commit_callbacks):
    customers = [CustomerFactory(merchant=merchant, name=f"C{n}") for n in range(3)]
    plans = [plan_make(actor=owner, customer=customer) for customer in customers]
    plans_assign(actor=manager, plan_ids=[plans[0].pk, plans[1].pk], collector=clerk)
    with at(2):  # Monday of 2026-W10
        kept = promise_of(manager, plans[0], "120.00", date(2026, 3, 4))
        promise_of(clerk, plans[1], "80.00", date(2026, 3, 5))
        promise_of(manager, plans[2], "50.00", date(2026, 3, 10))
        contact_record(actor=clerk, plan=plans[1], kind="call", outcome="no_answer")
    with at(3), django_capture_on_commit_callbacks(execute=True):
        payment_post(actor=owner, plan=plans[0], amount=Decimal("130.00"))

    with at(11):
        figures = collector_figures(merchant=merchant, today=date(2026, 3, 11), last_week=date(2026, 3, 11), weeks=2)

    rows = [
        (
            row.collector_name,
            row.week,
            row.promises_made,
            row.promises_kept,
            row.promises_broken,
            row.amount_promised,
            row.amount_recovered,
            row.contacts_made,
        )
        for row in figures.rows
    ]
    assert rows == [
        ("manager", "2026-W11", 0, 0, 1, Decimal("0"), Decimal("0"), 0),
        ("clerk", "2026-W10", 2, 1, 1, Decimal("200.00"), Decimal("130.00"), 2),
        ("manager", "2026-W10", 1, 0, 0, Decimal("50.00"), Decimal("0"), 2),
    ]
    totals = figures.totals
    assert (totals.promises_made, totals.promises_kept, totals.promises_broken, totals.contacts_made) == (3, 1, 2, 4)
    assert (totals.amount_promised, totals.amount_recovered) == (Decimal("250.00"), Decimal("130.00"))
    assert kept.pk in {promise.pk for promise in Promise.objects.filter(status="kept")}
    only_clerk = collector_figures(
        merchant=merchant, today=date(2026, 3, 11), last_week=date(2026, 3, 11), collector=clerk.pk
    )
    assert [row.collector_name for row in only_clerk.rows] == ["clerk"]


def test_a_figure_week_starts_on_monday_in_the_merchants_time_zone(owner, clerk, merchant, customer, today):
    merchant.timezone = "Asia/Riyadh"
    merchant.save(update_fields=["timezone"])
    plan = plan_make(actor=owner, customer=customer)
    # Sunday 22:00 UTC is Monday 01:00 in Riyadh: a contact of 2026-W11 there.
    with time_machine.travel(datetime(2026, 3, 8, 22, 0, tzinfo=UTC), tick=False):
        contact_record(actor=clerk, plan=plan, kind="visit", outcome="not_home")
    figures = collector_figures(merchant=merchant, today=date(2026, 3, 9), last_week=date(2026, 3, 9), weeks=2)
    assert [(row.week, row.contacts_made) for row in figures.rows] == [("2026-W11", 1)]
    assert (figures.first_week, figures.last_week) == (date(2026, 3, 2), date(2026, 3, 9))
