"""The borrower API's messages: every reminder, alert and receipt sent to the customer, and marking one read."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from auditlog.models import Entry
from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.services import plan_reject
from installments.tests.factories import plan_make
from notifications.models import Notification
from portal.tests.borrower import bearer

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/portal/notifications/"
SENT_AT = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)


def message(customer, *, kind=Notification.Kind.REMINDER_UPCOMING, channel=Notification.Channel.SMS, **values):
    """A message to ``customer``, sent on 12 February unless said otherwise."""
    values = {
        "status": Notification.Status.SENT,
        "subject": "",
        "body": "Your installment of 200.00 is due on 2026-02-15.",
        "day": date(2026, 2, 12),
        "send_after": SENT_AT,
        "sent_at": SENT_AT,
        **values,
    }
    if values["status"] != Notification.Status.SENT:
        values["sent_at"] = None
    return Notification.objects.create(
        merchant=customer.merchant, customer=customer, kind=kind, channel=channel, **values
    )


@pytest.fixture
def client(api_client, customer, today):
    return bearer(api_client, customer)


def test_the_list_shows_the_messages_sent_to_the_customer_newest_first(client, customer):
    reminder = message(customer)
    alert = message(
        customer,
        kind=Notification.Kind.OVERDUE_ALERT,
        channel=Notification.Channel.EMAIL,
        subject="Installment overdue",
        body="Your installment of 200.00 due on 2026-02-15 is overdue.",
        day=date(2026, 2, 16),
        send_after=datetime(2026, 2, 16, 9, 0, tzinfo=UTC),
        sent_at=datetime(2026, 2, 16, 9, 0, tzinfo=UTC),
        read_at=datetime(2026, 2, 17, 8, 0, tzinfo=UTC),
    )
    message(customer, status=Notification.Status.QUEUED, day=date(2026, 3, 1))  # not sent yet
    message(customer, status=Notification.Status.SKIPPED, day=date(2026, 2, 20))  # opted out: never sent

    response = client.get(NOTIFICATIONS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(alert.pk),
                "kind": "overdue_alert",
                "channel": "email",
                "subject": "Installment overdue",
                "body": "Your installment of 200.00 due on 2026-02-15 is overdue.",
                "plan": None,
                "payment": None,
                "sent_at": "2026-02-16T09:00:00Z",
                "is_read": True,
                "read_at": "2026-02-17T08:00:00Z",
                "created_at": "2026-03-01T12:00:00Z",
            },
            {
                "id": str(reminder.pk),
                "kind": "reminder_upcoming",
                "channel": "sms",
                "subject": "",
                "body": "Your installment of 200.00 is due on 2026-02-15.",
                "plan": None,
                "payment": None,
                "sent_at": "2026-02-12T09:00:00Z",
                "is_read": False,
                "read_at": None,
                "created_at": "2026-03-01T12:00:00Z",
            },
        ],
    }


def test_unread_true_lists_the_unread_ones(client, customer):
    unread = message(customer)
    message(customer, read_at=SENT_AT)

    assert [row["id"] for row in client.get(NOTIFICATIONS, {"unread": "true"}).json()["results"]] == [str(unread.pk)]
    assert client.get(NOTIFICATIONS, {"unread": "false"}).json()["count"] == 1
    bad = client.get(NOTIFICATIONS, {"unread": "maybe"})
    assert bad.status_code == 400 and list(bad.json()) == ["unread"]


def test_marking_read_answers_the_read_time_and_is_idempotent(client, customer):
    reminder = message(customer)

    first = client.post(f"{NOTIFICATIONS}{reminder.pk}/read/")
    with time_machine.travel(datetime(2026, 3, 1, 12, 5, tzinfo=UTC), tick=False):
        again = client.post(f"{NOTIFICATIONS}{reminder.pk}/read/")

    assert first.status_code == again.status_code == 200
    assert (first.json()["is_read"], first.json()["read_at"]) == (True, "2026-03-01T12:00:00Z")
    assert again.json() == first.json()
    reminder.refresh_from_db()
    assert reminder.read_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert client.get(NOTIFICATIONS, {"unread": "true"}).json()["count"] == 0


def test_marking_read_takes_no_body(client, customer):
    reminder = message(customer)

    response = client.post(f"{NOTIFICATIONS}{reminder.pk}/read/", {"read_at": "2020-01-01T00:00:00Z"}, format="json")

    assert (response.status_code, response.json()) == (400, {"read_at": ["Unknown field."]})
    reminder.refresh_from_db()
    assert reminder.read_at is None


def test_marking_read_is_in_the_audit_trail_as_the_customers_own_act(client, customer):
    reminder = message(customer)

    client.post(f"{NOTIFICATIONS}{reminder.pk}/read/")

    entries = Entry.objects.filter(object_type="notifications.notification", object_id=str(reminder.pk))
    assert [(e.operation, e.source, e.action, e.actor_id, e.actor_customer_id) for e in entries.order_by("id")] == [
        ("insert", "", "", None, None),
        ("update", "portal", "notification.mark_read", None, customer.pk),
    ]
    assert entries.order_by("id").last().after == {"read_at": "2026-03-01T12:00:00+00:00"}


def test_another_customers_message_is_a_404_and_stays_unread(client, merchant, customer):
    neighbour = CustomerFactory(merchant=merchant, name="Bashir Nour")
    theirs = message(neighbour)

    assert client.get(f"{NOTIFICATIONS}{theirs.pk}/").status_code == 404
    assert client.post(f"{NOTIFICATIONS}{theirs.pk}/read/").status_code == 404
    assert client.get(NOTIFICATIONS).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_decision_on_an_application_reaches_the_customers_messages(
    client, customer, owner, django_capture_on_commit_callbacks, sms_outbox
):
    application = {
        "description": "Sofa",
        "total_amount": "600.00",
        "number_of_installments": 3,
        "installment_frequency": "monthly",
    }
    plan_id = client.post("/api/portal/plans/apply/", application, format="json").json()["id"]
    plan = InstallmentPlan.objects.get(pk=plan_id)

    with django_capture_on_commit_callbacks(execute=True):
        plan_reject(actor=owner, plan=plan, reason="We need a guarantor.")

    rows = client.get(NOTIFICATIONS).json()["results"]
    # Told by SMS and by e-mail: both messages are listed.
    assert sorted((row["kind"], row["channel"], row["plan"], row["payment"], row["is_read"]) for row in rows) == [
        ("plan_rejected", "email", plan_id, None, False),
        ("plan_rejected", "sms", plan_id, None, False),
    ]
    assert all("We need a guarantor." in row["body"] for row in rows)
    assert client.get(f"/api/portal/plans/{plan_id}/").json()["status_reason"] == "We need a guarantor."


def test_the_list_reads_a_bounded_number_of_queries(client, customer, owner, django_assert_max_num_queries):
    plan = plan_make(actor=owner, customer=customer)
    for number in (1, 2, 3):
        message(customer, installment=plan.installments.get(number=number))

    with django_assert_max_num_queries(5):
        response = client.get(NOTIFICATIONS)

    assert [row["plan"] for row in response.json()["results"]] == [str(plan.pk)] * 3
