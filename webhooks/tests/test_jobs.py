"""The daily jobs announce what they change set-based: from the rows their UPDATE (or INSERT) returned, in a
fixed number of statements a chunk whatever the number of rows."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installments.jobs import installments_mark_overdue, late_fees_apply, plans_mark_defaulted
from installments.tests.factories import plan_make
from taqsit.models import Merchant
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

JOB_EVENTS = ["installment.overdue", "late_fee.charged", "plan.defaulted"]


def _statements(run) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = run()
    shapes = []
    for query in captured.captured_queries:
        sql = re.sub(r"^SELECT set_config\('pghistory\.context_id'.*?true\);\s*", "", query["sql"], flags=re.DOTALL)
        shapes.append(sql.split()[0])
    return result, shapes


def _merchant(merchant: Merchant, **policy) -> Merchant:
    Merchant.objects.filter(pk=merchant.pk).update(**policy)
    merchant.refresh_from_db()
    return merchant


@pytest.mark.parametrize("plans", [2, 7])
def test_overdue_marking_announces_each_row_marked_in_the_same_statements_for_2_plans_as_for_7(
    owner, customer, receiver, plans
):
    endpoint_create(actor=owner, url=receiver.url, events=JOB_EVENTS)
    made = [plan_make(actor=owner, customer=customer) for _ in range(plans)]

    changed, statements = _statements(
        lambda: installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 16))
    )

    assert changed == 2 * plans
    events = WebhookEvent.objects.filter(type="installment.overdue")
    assert events.count() == 2 * plans
    assert sorted(
        (event.payload["data"]["object"]["number"], event.payload["data"]["object"]["status"]) for event in events
    ) == sorted([(1, "overdue"), (2, "overdue")] * plans)
    assert {str(event.ordering_key) for event in events} == {str(plan.pk) for plan in made}
    assert WebhookDelivery.objects.filter(event__type="installment.overdue").count() == 2 * plans
    # One chunk: SAVEPOINT, SELECT rows, UPDATE ... RETURNING, the merchant, the rows as the API shows them,
    # INSERT events, INSERT deliveries, RELEASE; then the empty SELECTs that end both loops, and the audit
    # context cleared: as many for 2 plans as for 7.
    assert statements.count("INSERT") == 2
    assert len(statements) == 15


@pytest.mark.parametrize("plans", [2, 7])
def test_late_fees_are_announced_from_the_inserted_rows(owner, customer, receiver, plans):
    merchant = _merchant(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    endpoint_create(actor=owner, url=receiver.url, events=JOB_EVENTS)
    for _ in range(plans):
        plan_make(actor=owner, customer=customer)

    (count, total), statements = _statements(lambda: late_fees_apply(merchant=merchant, today=date(2026, 3, 16)))

    assert (count, total) == (2 * plans, Decimal("15.00") * 2 * plans)
    events = WebhookEvent.objects.filter(type="late_fee.charged")
    assert sorted(
        (e.payload["data"]["object"]["installment_number"], e.payload["data"]["object"]["amount"]) for e in events
    ) == sorted([(1, "15.00"), (2, "15.00")] * plans)
    assert len(statements) == 10


def test_plans_defaulted_by_the_job_are_announced(owner, customer, receiver):
    merchant = _merchant(owner.merchant, default_after_days=10)
    endpoint_create(actor=owner, url=receiver.url, events=JOB_EVENTS)
    plans = [plan_make(actor=owner, customer=customer) for _ in range(3)]

    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 3, 16)) == 3

    events = WebhookEvent.objects.filter(type="plan.defaulted")
    assert sorted(str(event.object_id) for event in events) == sorted(str(plan.pk) for plan in plans)
    assert {event.payload["data"]["object"]["status"] for event in events} == {"defaulted"}


def test_a_job_announces_nothing_when_no_endpoint_wants_it(owner, customer, receiver):
    endpoint_create(actor=owner, url=receiver.url, events=["customer.created"])
    plan_make(actor=owner, customer=customer)

    installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 16))

    assert WebhookEvent.objects.filter(type="installment.overdue").count() == 0
