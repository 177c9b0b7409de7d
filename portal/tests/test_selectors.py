"""What a customer may see: their own plans, payments, receipts and messages at their own merchant, and
nothing else (another customer's or another merchant's row is a 404, as is an id that is no UUID)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.http import Http404

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.models import Notification
from payments.models import Payment
from payments.services import payment_post
from portal.inbox import notification_mark_read_by_customer, notifications_mark_all_read_by_customer
from portal.selectors import (
    customer_notification,
    customer_notifications,
    customer_payment,
    customer_payments,
    customer_plan,
    customer_plan_cards,
    customer_plans,
    customer_receipt,
    customer_unread_count,
    plan_schedule_rows,
)

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)


def message(customer, *, status=Notification.Status.SENT, subject="Reminder", channel="sms", day=date(2026, 2, 14)):
    return Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        channel=channel,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=day,
        status=status,
        subject=subject,
        body=f"{subject} body",
        send_after=SENT_AT,
        sent_at=SENT_AT if status == Notification.Status.SENT else None,
    )


def test_plans_are_the_customers_own_at_their_merchant(customer, owner, other_owner, other_merchant, today):
    mine = plan_make(actor=owner, customer=customer)
    plan_make(actor=owner, customer=CustomerFactory(merchant=customer.merchant))
    plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    assert list(customer_plans(customer=customer)) == [mine]
    assert customer_plan(customer=customer, plan_id=mine.pk) == mine
    assert customer_plan(customer=customer, plan_id=str(mine.pk)) == mine


@pytest.mark.parametrize("whose", ["other_customer", "other_merchant", "not_a_uuid"])
def test_anyone_elses_plan_payment_or_message_is_a_404(customer, owner, other_owner, other_merchant, whose, today):
    if whose == "other_customer":
        someone = CustomerFactory(merchant=customer.merchant)
        plan = plan_make(actor=owner, customer=someone)
    elif whose == "other_merchant":
        someone = CustomerFactory(merchant=other_merchant, phone=customer.phone)
        plan = plan_make(actor=other_owner, customer=someone)
    if whose == "not_a_uuid":
        plan_id = payment_id = message_id = "12; drop"
    else:
        plan_id = plan.pk
        payment_id = Payment.objects.get(plan=plan).pk  # the down payment, completed
        message_id = message(someone).pk
    with pytest.raises(Http404):
        customer_plan(customer=customer, plan_id=plan_id)
    with pytest.raises(Http404):
        customer_payment(customer=customer, payment_id=payment_id)
    with pytest.raises(Http404):
        customer_receipt(customer=customer, payment_id=payment_id)
    with pytest.raises(Http404):
        customer_notification(customer=customer, notification_id=message_id)
    with pytest.raises(Http404):
        notification_mark_read_by_customer(customer=customer, notification_id=message_id)


def test_plan_cards_show_what_is_next_what_is_left_and_progress(customer, owner, today, django_assert_num_queries):
    plan = plan_make(actor=owner, customer=customer)
    plan_make(actor=owner, customer=customer, total_amount=Decimal("500.00"), down_payment=Decimal("100.00"))
    customer.merchant  # noqa: B018 - loaded, as the portal's session loads it
    with django_assert_num_queries(2):
        cards = customer_plan_cards(customer=customer)
    card = cards[1]
    assert card.plan == plan
    assert card.summary.next_payment_due == date(2026, 2, 15)
    assert card.summary.next_amount_due == Decimal("200.00")
    assert card.summary.amount_paid == Decimal("200.00")
    assert card.summary.remaining_balance == Decimal("800.00")
    assert card.owed == Decimal("1000.00")
    assert card.progress == Decimal("20")
    # Due 15 February, unpaid on 1 March (grace days past): overdue.
    assert card.is_overdue is True
    assert card.summary.overdue_amount == Decimal("200.00")


def test_schedule_rows_carry_what_was_paid_on_each(customer, owner, today):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    rows = plan_schedule_rows(plan=plan)
    assert [row.number for row in rows] == [1, 2, 3, 4]
    assert [row.amount_paid for row in rows] == [Decimal("200.00"), Decimal("50.00"), Decimal("0"), Decimal("0")]
    assert [row.principal_paid for row in rows] == [Decimal("200.00"), Decimal("50.00"), Decimal("0"), Decimal("0")]
    assert [row.display_status for row in rows] == ["paid", "partially_paid", "pending", "pending"]
    assert [row.due_date for row in rows] == [
        date(2026, 2, 15),
        date(2026, 3, 15),
        date(2026, 4, 15),
        date(2026, 5, 15),
    ]


def test_payments_and_receipts(customer, owner, today):
    plan = plan_make(actor=owner, customer=customer)
    paid = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    pending = payment_post(
        actor=owner, plan=plan, amount=Decimal("100.00"), payment_date=date(2026, 2, 27), status="pending"
    )
    assert [p.pk for p in customer_payments(customer=customer)] == [
        pending.pk,
        paid.pk,
        Payment.objects.get(plan=plan, is_down_payment=True).pk,
    ]
    receipt = customer_receipt(customer=customer, payment_id=paid.pk)
    assert receipt.paid_after == Decimal("450.00")
    assert receipt.remaining_after == Decimal("550.00")
    assert [(line.kind, line.amount) for line in receipt.allocations] == [
        ("principal", Decimal("200.00")),
        ("principal", Decimal("50.00")),
    ]
    with pytest.raises(Http404):  # a pending payment has no receipt yet
        customer_receipt(customer=customer, payment_id=pending.pk)


def test_messages_are_those_sent_and_marking_read_keeps_the_first_time(customer, today):
    first = message(customer, subject="First")
    second = message(customer, subject="Second", channel="email")
    message(customer, subject="Queued", status=Notification.Status.QUEUED, day=date(2026, 2, 15))
    assert {n.subject for n in customer_notifications(customer=customer)} == {"First", "Second"}
    assert customer_unread_count(customer=customer) == 2
    read = notification_mark_read_by_customer(customer=customer, notification_id=first.pk)
    assert read.read_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    again = notification_mark_read_by_customer(
        customer=customer, notification_id=first.pk, now=datetime(2026, 3, 2, tzinfo=UTC)
    )
    assert again.read_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert customer_unread_count(customer=customer) == 1
    assert notifications_mark_all_read_by_customer(customer=customer) == 1
    second.refresh_from_db()
    assert second.read_at is not None
    assert customer_unread_count(customer=customer) == 0
