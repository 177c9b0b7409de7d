"""Guarantors copied on overdue installments (issue 15): when the merchant sets ``guarantor_copy_after_days``,
each guarantor of a plan gets one SMS per installment that many days overdue, naming the customer and what is
outstanding, in the customer's language; set-based, and never twice however often the job runs.

The clock is frozen at 2026-03-01 12:00 UTC; no grace days; quiet hours off.
"""

from __future__ import annotations

from datetime import date

import pytest

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.models import Notification
from notifications.services import notification_deliver, notifications_dispatch, reminders_queue
from payments.services import payment_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today", "no_quiet_hours")]

DAY = date(2026, 3, 1)
KARIM = {"name": "Karim Saleh", "phone": "+14155550199", "relation": "Brother"}
LINA = {"name": "Lina", "phone": "+14155550188"}


def _copies() -> list[tuple]:
    return sorted(
        Notification.objects.filter(kind="guarantor_overdue").values_list(
            "installment__plan__number", "installment__number", "guarantor__name", "channel", "customer", "day"
        )
    )


@pytest.fixture
def book(owner, merchant):
    """P1 (Amina, guarantors Karim and Lina): row 1 due 2026-02-20, 9 days overdue. P2 (Badr, Karim): due
    2026-02-27, 2 days overdue. P3 (Chadi, no guarantor): 9 days overdue."""
    merchant.guarantor_copy_after_days = 5
    merchant.save(update_fields=["guarantor_copy_after_days"])
    amina = CustomerFactory(merchant=merchant, name="Amina Haddad", language="es")
    p1 = plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 20), guarantors=[KARIM, LINA])
    p2 = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name="Badr"),
        first_due_date=date(2026, 2, 27),
        guarantors=[KARIM],
    )
    p3 = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant), first_due_date=date(2026, 2, 20))
    return p1, p2, p3


def test_each_guarantor_is_copied_once_per_installment_past_the_days(book, merchant):
    p1, _p2, _p3 = book

    runs = [reminders_queue(merchant=merchant, day=DAY) for _ in range(2)]
    later = reminders_queue(merchant=merchant, day=date(2026, 3, 4))  # P2's row 1 is now 5 days overdue

    copies_on_day = [(1, 1, "Karim Saleh", "sms", None, DAY), (1, 1, "Lina", "sms", None, DAY)]
    assert _copies() == [*copies_on_day, (2, 1, "Karim Saleh", "sms", None, date(2026, 3, 4))]
    # The first run also queued the customers' own messages; the copies count among the messages queued.
    assert runs[1] == 0
    assert later >= 1
    assert p1.number == 1


def test_the_copy_names_the_customer_and_the_outstanding_amount_in_the_customers_language(
    book, merchant, owner, sms_outbox, django_capture_on_commit_callbacks
):
    p1, _p2, _p3 = book
    payment_post(actor=owner, plan=p1, amount="50.00")
    reminders_queue(merchant=merchant, day=DAY)
    karim = Notification.objects.get(kind="guarantor_overdue", guarantor__name="Karim Saleh")

    result = notification_deliver(notification_id=karim.pk)

    assert result.status == "sent"
    (sent,) = [message for message in sms_outbox if message["to"] == "+14155550199"]
    assert sent["body"] == (
        "Viejos Recuerdos: Karim Saleh, como avalista del plan P-000001 de Amina Haddad: la cuota 1 vencía el "
        "20 de febrero de 2026 y no está pagada. Pendiente: 150,00\xa0US$."
    )


def test_a_paid_installment_is_not_copied_and_a_queued_copy_is_skipped(book, merchant, owner):
    p1, _p2, _p3 = book
    reminders_queue(merchant=merchant, day=DAY)
    payment_post(actor=owner, plan=p1, amount="200.00")

    with_results = [
        notification_deliver(notification_id=pk)
        for pk in Notification.objects.filter(kind="guarantor_overdue").values_list("pk", flat=True)
    ]

    assert {(result.status, result.error) for result in with_results} == {("skipped", "Installment 1 is paid.")}


def test_no_copies_without_the_policy_or_without_sms(book, merchant, no_quiet_hours):
    merchant.guarantor_copy_after_days = None
    merchant.save(update_fields=["guarantor_copy_after_days"])
    reminders_queue(merchant=merchant, day=DAY)
    assert _copies() == []

    merchant.guarantor_copy_after_days = 5
    merchant.save(update_fields=["guarantor_copy_after_days"])
    no_quiet_hours.sms_enabled = False
    no_quiet_hours.save(update_fields=["sms_enabled"])
    reminders_queue(merchant=merchant, day=DAY)
    assert _copies() == []


def test_dispatch_hands_the_copies_out(book, merchant, sms_outbox, django_capture_on_commit_callbacks):
    reminders_queue(merchant=merchant, day=DAY)

    with django_capture_on_commit_callbacks(execute=True):
        notifications_dispatch()

    assert sorted(message["to"] for message in sms_outbox if "avalista" in message["body"]) == [
        "+14155550188",
        "+14155550199",
    ]
