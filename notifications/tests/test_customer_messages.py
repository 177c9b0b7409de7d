"""The customer is told what happened: a plan approved or rejected, a payment's receipt, a payment the shop could not
confirm; each message once per channel, only for what was committed, on the channels the merchant and the customer
allow, in the customer's language, with the portal line, and through the worker.

The clock is frozen at 2026-03-01 12:00 UTC (the ``today`` fixture; outside the default quiet hours 21:00-08:00);
the merchant "Viejos Recuerdos" is in UTC and sells in USD. Plans are 1000.00 with 200.00 down and four monthly
rows of 200.00 (from 2026-01-15: due 02-15, 03-15, 04-15, 05-15, unless a test says otherwise).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.services import plan_approve, plan_reject
from installments.signals import plan_decided
from installments.tests.factories import plan_make
from notifications import messages
from notifications.models import Notification, NotificationSettings
from notifications.services import notification_deliver, notifications_dispatch, reminders_queue
from payments.models import Payment
from payments.services import payment_complete, payment_fail, payment_post, payment_void
from payments.signals import payment_settled
from taqsit.models import Merchant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PORTAL = "https://taqsit.example/portal/l/Zm9vYmFy"
Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status


@pytest.fixture(autouse=True)
def no_portal(monkeypatch):
    """No portal line unless a test gives one (whether or not this build has the portal's links)."""
    monkeypatch.setattr(messages, "_portal_url", lambda customer: None)


@pytest.fixture
def amina(merchant):
    return CustomerFactory(
        merchant=merchant, name="Amina Haddad", phone="+14155550101", email="amina@example.com", language="en"
    )


@pytest.fixture
def sara(merchant):
    return CustomerFactory(
        merchant=merchant, name="سارة", phone="+14155550102", email="sara@example.com", language="ar"
    )


@pytest.fixture
def approval_required(merchant):
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=True)
    merchant.refresh_from_db()
    return merchant


def _application(owner, customer, **terms) -> InstallmentPlan:
    plan = plan_make(actor=owner, customer=customer, start_date=date(2026, 3, 1), **terms)
    assert plan.status == InstallmentPlan.Status.PENDING
    return plan


def _messages(**filters) -> list[tuple[str, str, str, str, str]]:
    """(kind, channel, status, subject, body) of the customers' messages, SMS first."""
    return list(
        Notification.objects.filter(customer__isnull=False, **filters)
        .order_by("-channel", "created_at")
        .values_list("kind", "channel", "status", "subject", "body")
    )


# Decisions ------------------------------------------------------------------------------------------------


def test_an_approved_application_tells_the_customer_on_each_channel_and_the_worker_sends_it(
    owner, amina, approval_required, sms_outbox, django_capture_on_commit_callbacks
):
    plan = _application(owner, amina)

    with django_capture_on_commit_callbacks(execute=True):
        plan_approve(actor=owner, plan=plan)

    sms = "Viejos Recuerdos: your plan P-000001, $1,000.00, is approved. First installment: $200.00 on April 1, 2026."
    email = (
        "Dear Amina Haddad,\n\nYour application for plan P-000001 with Viejos Recuerdos, $1,000.00, is approved. "
        "The first installment, $200.00, is due on April 1, 2026.\n\nThank you,\nViejos Recuerdos"
    )
    # Handed to the worker at once (eager tasks here) and sent: the texts written when queued are the ones sent.
    assert _messages() == [
        (Kind.PLAN_APPROVED, Channel.SMS, Status.SENT, "Your plan P-000001 is approved", sms),
        (Kind.PLAN_APPROVED, Channel.EMAIL, Status.SENT, "Your plan P-000001 is approved", email),
    ]
    assert sms_outbox == [{"to": "+14155550101", "body": sms, "id": "locmem-1"}]
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["amina@example.com"], "Your plan P-000001 is approved", email)
    ]
    sent = Notification.objects.get(channel=Channel.SMS)
    assert (sent.plan_id, sent.payment_id, sent.installment_id, sent.day, sent.sent_at, sent.read_at) == (
        plan.pk,
        None,
        None,
        date(2026, 3, 1),
        NOON,
        None,
    )


def test_a_rejected_application_tells_an_arabic_customer_why_in_arabic(
    owner, sara, approval_required, sms_outbox, django_capture_on_commit_callbacks
):
    plan = _application(owner, sara)

    with django_capture_on_commit_callbacks(execute=True):
        plan_reject(actor=owner, plan=plan, reason="  Income proof missing.  ")

    amount = "\u200f1,000.00\xa0US$"
    assert _messages() == [
        (
            Kind.PLAN_REJECTED,
            Channel.SMS,
            Status.SENT,
            "لم تتم الموافقة على طلبكم P-000001",
            f"Viejos Recuerdos: لم تتم الموافقة على طلبكم P-000001 بمبلغ {amount}. السبب: Income proof missing.",
        ),
        (
            Kind.PLAN_REJECTED,
            Channel.EMAIL,
            Status.SENT,
            "لم تتم الموافقة على طلبكم P-000001",
            "عزيزنا العميل سارة،\n\n"
            f"لم تتم الموافقة على طلبكم للخطة P-000001 لدى Viejos Recuerdos بمبلغ {amount}.\n"
            "السبب: Income proof missing.\n\nيسعدنا الرد على أي استفسار.\nViejos Recuerdos",
        ),
    ]
    assert [m["body"] for m in sms_outbox] == [_messages()[0][4]]


def test_a_rejected_application_in_english_and_a_long_reason_kept_short_in_the_sms(
    owner, amina, approval_required, django_capture_on_commit_callbacks
):
    plan = _application(owner, amina)
    reason = "We could not verify your employer. " * 5

    with django_capture_on_commit_callbacks(execute=True):
        plan_reject(actor=owner, plan=plan, reason=reason)

    sms, email = (body for *_, body in _messages())
    shortened = ("We could not verify your employer. " * 3)[:99].rstrip() + "…"
    assert sms == f"Viejos Recuerdos: your application P-000001, $1,000.00, is not approved. Reason: {shortened}"
    assert email == (
        "Dear Amina Haddad,\n\nYour application for plan P-000001 with Viejos Recuerdos, $1,000.00, is not "
        f"approved.\nReason: {reason.strip()}\n\nPlease contact us with any question.\nViejos Recuerdos"
    )


def test_a_decision_rolled_back_tells_nobody(owner, amina, approval_required, django_capture_on_commit_callbacks):
    plan = _application(owner, amina)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        plan_approve(actor=owner, plan=plan)
        raise RuntimeError("the request failed after the approval")

    assert callbacks == []
    assert Notification.objects.count() == 0
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.PENDING


def test_a_decision_signalled_twice_is_told_once(owner, amina, approval_required, django_capture_on_commit_callbacks):
    plan = _application(owner, amina)
    with django_capture_on_commit_callbacks(execute=True):
        plan_approve(actor=owner, plan=plan)
    first = set(Notification.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        plan_decided.send(sender=InstallmentPlan, plan=plan, decision="approved", reason="")

    assert set(Notification.objects.values_list("pk", flat=True)) == first
    assert len(first) == 2


def test_the_decision_is_told_through_the_api_too(
    api_client, owner, amina, approval_required, django_capture_on_commit_callbacks
):
    plan = _application(owner, amina)
    api_client.force_authenticate(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"/api/installments/plans/{plan.pk}/reject/", {"reason": "Too many open plans."}, format="json"
        )

    assert response.status_code == 200
    assert [(kind, channel, "Reason: Too many open plans." in body) for kind, channel, *_, body in _messages()] == [
        (Kind.PLAN_REJECTED, Channel.SMS, True),
        (Kind.PLAN_REJECTED, Channel.EMAIL, True),
    ]


@pytest.mark.parametrize(
    ("policy", "customer", "channels"),
    [
        ({}, {"sms_opt_out": True}, [Channel.EMAIL]),
        ({}, {"email_opt_out": True}, [Channel.SMS]),
        ({}, {"email": ""}, [Channel.SMS]),
        ({"sms_enabled": False}, {}, [Channel.EMAIL]),
        ({"sms_enabled": False, "email_enabled": False}, {}, []),
        ({}, {"sms_opt_out": True, "email_opt_out": True}, []),
    ],
)
def test_the_merchants_channels_and_the_customers_opt_outs_are_respected(
    owner, merchant, approval_required, policy, customer, channels, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(merchant=merchant, **policy)
    person = CustomerFactory(merchant=merchant, **{"email": "amina@example.com", **customer})
    plan = _application(owner, person)

    with django_capture_on_commit_callbacks(execute=True):
        plan_approve(actor=owner, plan=plan)

    assert sorted(Notification.objects.values_list("channel", flat=True)) == sorted(channels)


def test_a_decision_in_quiet_hours_waits_for_their_end(
    owner, amina, approval_required, sms_outbox, django_capture_on_commit_callbacks
):
    plan = _application(owner, amina)

    with (
        time_machine.travel(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        plan_approve(actor=owner, plan=plan)

    morning = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert set(Notification.objects.values_list("status", "send_after", "dispatched_at", "day")) == {
        (Status.QUEUED, morning, None, date(2026, 3, 1))
    }
    assert sms_outbox == []

    with time_machine.travel(morning, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch() == 2

    assert set(Notification.objects.values_list("status", "sent_at")) == {(Status.SENT, morning)}
    assert len(sms_outbox) == 1


# Receipts -------------------------------------------------------------------------------------------------


def test_a_payment_at_the_counter_sends_its_receipt_with_exact_figures(
    owner, amina, sms_outbox, django_capture_on_commit_callbacks
):
    plan = plan_make(actor=owner, customer=amina)  # rows due 02-15, 03-15, 04-15, 05-15 of 200.00

    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_post(
            actor=owner, plan=plan, amount=Decimal("250.00"), payment_method=Payment.Method.CARD, reference="C-1"
        )

    # 200.00 closes row 1, 50.00 goes to row 2: 550.00 still owed, 150.00 of row 2 next, on 03-15.
    assert (payment.balance_after, payment.next_amount_due_after, payment.next_due_date_after) == (
        Decimal("550.00"),
        Decimal("150.00"),
        date(2026, 3, 15),
    )
    sms = (
        "Viejos Recuerdos: $250.00 received on March 1, 2026 (Card), plan P-000001. "
        "Still owed: $550.00. Next: $150.00 on March 15, 2026."
    )
    email = (
        "Dear Amina Haddad,\n\nWe received your payment of $250.00 on March 1, 2026 (Card) for plan P-000001 with "
        "Viejos Recuerdos. Receipt number: P-000001-2.\n\nStill owed: $550.00. Next installment: $150.00, due on "
        "March 15, 2026.\n\nThank you,\nViejos Recuerdos"
    )
    assert _messages() == [
        (Kind.PAYMENT_RECEIPT, Channel.SMS, Status.SENT, "Receipt P-000001-2: $250.00 received", sms),
        (Kind.PAYMENT_RECEIPT, Channel.EMAIL, Status.SENT, "Receipt P-000001-2: $250.00 received", email),
    ]
    assert set(Notification.objects.values_list("plan_id", "payment_id")) == {(plan.pk, payment.pk)}
    assert [m["body"] for m in sms_outbox] == [sms]
    assert [m.body for m in mail.outbox] == [email]


def test_the_receipt_of_the_last_payment_says_the_plan_is_paid(owner, sara, django_capture_on_commit_callbacks):
    plan = plan_make(actor=owner, customer=sara)

    with django_capture_on_commit_callbacks(execute=True):
        payment_post(actor=owner, plan=plan, amount=Decimal("800.00"), payment_method=Payment.Method.CASH)

    amount = "\u200f800.00\xa0US$"
    assert [body for *_, body in _messages()] == [
        f"Viejos Recuerdos: تم استلام {amount} في 1 مارس 2026 (نقدًا)، الخطة P-000001. تم سداد الخطة بالكامل. شكرًا لكم!",
        "عزيزنا العميل سارة،\n\n"
        f"استلمنا دفعتكم بمبلغ {amount} في 1 مارس 2026 (نقدًا) للخطة P-000001 لدى Viejos Recuerdos. "
        "رقم الإيصال: P-000001-2.\n\nتم سداد خطتكم بالكامل.\n\nشكرًا لكم،\nViejos Recuerdos",
    ]


def test_no_receipt_for_the_down_payment_a_pending_payment_or_a_replay(
    owner, amina, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_make(actor=owner, customer=amina)  # its down payment: payment 1, at the counter
        payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status=Payment.Status.PENDING)
        first = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"), idempotency_key="k-1")
        again = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"), idempotency_key="k-1")

    assert first.pk == again.pk
    assert list(Notification.objects.values_list("payment__payment_number", "channel").order_by("-channel")) == [
        (3, Channel.SMS),
        (3, Channel.EMAIL),
    ]


def test_a_payment_rolled_back_sends_no_receipt(owner, amina, django_capture_on_commit_callbacks):
    plan = plan_make(actor=owner, customer=amina)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
        raise RuntimeError("the request failed after the payment")

    assert Notification.objects.count() == 0
    assert Payment.objects.filter(plan=plan).count() == 1  # the down payment


def test_the_merchant_can_turn_receipts_off(owner, merchant, amina, django_capture_on_commit_callbacks):
    NotificationSettings.objects.create(merchant=merchant, receipts_enabled=False)
    plan = plan_make(actor=owner, customer=amina)

    with django_capture_on_commit_callbacks(execute=True):
        payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
        pending = payment_post(actor=owner, plan=plan, amount=Decimal("60.00"), status=Payment.Status.PENDING)
        payment_fail(actor=owner, payment=pending, reason="Bounced.")

    # Receipts off; that a payment failed is still told.
    assert sorted(Notification.objects.values_list("kind", flat=True)) == [Kind.PAYMENT_FAILED, Kind.PAYMENT_FAILED]


def test_a_receipt_held_in_quiet_hours_is_not_sent_for_a_payment_voided_meanwhile(
    owner, amina, sms_outbox, django_capture_on_commit_callbacks
):
    plan = plan_make(actor=owner, customer=amina)
    with (
        time_machine.travel(datetime(2026, 3, 1, 21, 30, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        payment = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
    assert Notification.objects.filter(status=Status.QUEUED, dispatched_at__isnull=True).count() == 2
    with time_machine.travel(datetime(2026, 3, 1, 21, 40, tzinfo=UTC), tick=False):
        payment_void(actor=owner, payment=payment, reason="Typed on the wrong plan.")

    with (
        time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications_dispatch() == 2

    assert set(Notification.objects.values_list("status", "last_error")) == {(Status.SKIPPED, "Payment 2 is voided.")}
    assert sms_outbox == []


# A reported payment confirmed or failed -------------------------------------------------------------------


def test_a_pending_transfer_confirmed_sends_the_receipt(owner, amina, django_capture_on_commit_callbacks):
    plan = plan_make(actor=owner, customer=amina)
    with django_capture_on_commit_callbacks(execute=True):
        pending = payment_post(
            actor=owner,
            plan=plan,
            amount=Decimal("200.00"),
            payment_method=Payment.Method.BANK_TRANSFER,
            reference="TRF-77",
            status=Payment.Status.PENDING,
        )
    assert Notification.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        payment_complete(actor=owner, payment=pending)

    assert next(body for *_, body in _messages()) == (
        "Viejos Recuerdos: $200.00 received on March 1, 2026 (Bank transfer), plan P-000001. "
        "Still owed: $600.00. Next: $200.00 on March 15, 2026."
    )


def test_a_failed_payment_tells_the_customer_why(owner, amina, sara, sms_outbox, django_capture_on_commit_callbacks):
    plan = plan_make(actor=owner, customer=amina)
    other = plan_make(actor=owner, customer=sara)
    pending = [
        payment_post(
            actor=owner,
            plan=each,
            amount=Decimal("200.00"),
            payment_method=Payment.Method.BANK_TRANSFER,
            payment_date=date(2026, 2, 27),
            status=Payment.Status.PENDING,
        )
        for each in (plan, other)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        for payment in pending:
            payment_fail(actor=owner, payment=payment, reason="No transfer reached our account.")

    assert _messages(customer=amina) == [
        (
            Kind.PAYMENT_FAILED,
            Channel.SMS,
            Status.SENT,
            "Payment not confirmed: $200.00 for plan P-000001",
            "Viejos Recuerdos: the payment of $200.00 of February 27, 2026 for plan P-000001 is not confirmed. "
            "Reason: No transfer reached our account.",
        ),
        (
            Kind.PAYMENT_FAILED,
            Channel.EMAIL,
            Status.SENT,
            "Payment not confirmed: $200.00 for plan P-000001",
            "Dear Amina Haddad,\n\nThe payment of $200.00 of February 27, 2026 (Bank transfer) for your plan "
            "P-000001 with Viejos Recuerdos could not be confirmed.\nReason: No transfer reached our account.\n\n"
            "Please contact us.\nViejos Recuerdos",
        ),
    ]
    amount = "\u200f200.00\xa0US$"
    assert [body for *_, body in _messages(customer=sara)] == [
        f"Viejos Recuerdos: لم يتم تأكيد الدفعة بمبلغ {amount} بتاريخ 27 فبراير 2026 للخطة P-000002. "
        "السبب: No transfer reached our account.",
        "عزيزنا العميل سارة،\n\n"
        f"تعذّر تأكيد الدفعة بمبلغ {amount} بتاريخ 27 فبراير 2026 (تحويل بنكي) لخطتكم P-000002 لدى Viejos Recuerdos."
        "\nالسبب: No transfer reached our account.\n\nيرجى التواصل معنا.\nViejos Recuerdos",
    ]
    assert len(sms_outbox) == 2

    # The same outcome signalled again (a retried task, a second listener) adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        payment_settled.send(sender=Payment, payment=pending[0], outcome="failed", reason="Again.")
    assert Notification.objects.count() == 4


# The portal line ------------------------------------------------------------------------------------------


def test_every_customer_message_ends_with_the_portal_link(
    owner, amina, approval_required, monkeypatch, sms_outbox, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(messages, "_portal_url", lambda customer: asked.append(customer.pk) or PORTAL)
    plan = _application(owner, amina, first_due_date=date(2026, 3, 4))

    with django_capture_on_commit_callbacks(execute=True):
        plan_approve(actor=owner, plan=plan)
    with django_capture_on_commit_callbacks(execute=True):
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        reminders_queue(merchant=owner.merchant, day=date(2026, 3, 1))  # row 1 due in 3 days
        notifications_dispatch()

    bodies = {
        (kind, channel): body for kind, channel, body in Notification.objects.values_list("kind", "channel", "body")
    }
    assert set(bodies) == {
        (kind, channel)
        for kind in (Kind.PLAN_APPROVED, Kind.PAYMENT_RECEIPT, Kind.REMINDER_UPCOMING)
        for channel in (Channel.SMS, Channel.EMAIL)
    }
    for (_kind, channel), body in bodies.items():
        ending = (
            f"\nYour account: {PORTAL}" if channel == Channel.SMS else f"Viejos Recuerdos\n\nYour account: {PORTAL}"
        )
        assert body.endswith(ending), body
    assert bodies[(Kind.REMINDER_UPCOMING, Channel.SMS)] == (
        f"Viejos Recuerdos: installment 1 of plan P-000001, $190.00, is due on March 4, 2026.\nYour account: {PORTAL}"
    )
    assert [m["body"] for m in sms_outbox] == [
        bodies[(kind, Channel.SMS)] for kind in (Kind.PLAN_APPROVED, Kind.PAYMENT_RECEIPT, Kind.REMINDER_UPCOMING)
    ]
    # One link per event (its two channels share it), one per reminder sent.
    assert asked == [amina.pk] * 4


def test_the_portal_line_in_arabic(owner, sara, approval_required, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(messages, "_portal_url", lambda customer: PORTAL)
    plan = _application(owner, sara)

    with django_capture_on_commit_callbacks(execute=True):
        plan_reject(actor=owner, plan=plan, reason="ناقص")

    assert Notification.objects.get(channel=Channel.SMS).body.endswith(f"السبب: ناقص\nحسابكم: {PORTAL}")


def test_the_real_portal_line_opens_that_customer_s_portal(monkeypatch, customer, settings):
    """Without the stand-in: a message carries a link of its own that logs this customer in, and none while the
    merchant's portal is off or no SITE_URL is set (a message cannot carry a relative address)."""
    from customers.portal_links import portal_link_resolve

    monkeypatch.undo()  # the real _portal_url
    settings.SITE_URL = "https://shop.example"
    fields = {"merchant": "M", "number": "1", "plan": "P-1", "due_date": "D", "amount": "A", "customer": "C"}

    assert messages.portal_url_for(customer) is None  # the portal is off by default

    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=True)
    customer.merchant.refresh_from_db()
    url = messages.portal_url_for(customer)
    body = messages.message_render(
        kind="overdue_alert", channel="sms", language="en", fields=fields, portal_url=url
    ).body
    assert url.startswith("https://shop.example/portal/l/")
    assert body == f"M: installment 1 of plan P-1 was due on D. Outstanding: A.\nYour account: {url}"
    token = url.removeprefix("https://shop.example/portal/l/").rstrip("/")
    assert portal_link_resolve(token).customer_id == customer.pk

    settings.SITE_URL = ""
    assert messages.portal_url_for(customer) is None


def test_a_queued_message_is_delivered_once_by_the_worker(owner, amina, sms_outbox):
    plan = plan_make(actor=owner, customer=amina)
    # Without the commit callbacks: the receipt is queued by the service the listener calls, as the beat's
    # dispatcher would find it had the broker been down.
    from notifications.services import payment_receipt_notify

    payment = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
    assert payment_receipt_notify(payment=payment) == 2
    assert payment_receipt_notify(payment=payment) == 0
    sms = Notification.objects.get(channel=Channel.SMS)

    first = notification_deliver(notification_id=sms.pk)
    second = notification_deliver(notification_id=sms.pk)

    assert (first.status, second.status) == (Status.SENT, Status.SENT)
    assert [m["body"] for m in sms_outbox] == [sms.body]


def test_the_receipt_is_left_to_the_worker_with_the_payment_and_its_merchant(
    owner, amina, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks

    queued = []
    monkeypatch.setattr(tasks.payment_receipt_task, "delay", lambda *args: queued.append(args))
    plan = plan_make(actor=owner, customer=amina)

    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))

    assert queued == [(str(payment.pk), str(plan.merchant_id))]
    assert Notification.objects.filter(kind=Notification.Kind.PAYMENT_RECEIPT).count() == 0  # the worker writes it


def test_when_the_broker_takes_no_task_the_receipt_is_written_at_once(
    owner, amina, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from notifications import tasks

    def refused(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.payment_receipt_task, "delay", refused)
    plan = plan_make(actor=owner, customer=amina)

    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))

    assert list(
        Notification.objects.filter(kind=Notification.Kind.PAYMENT_RECEIPT)
        .order_by("-channel")
        .values_list("payment_id", "channel")
    ) == [(payment.pk, Channel.SMS), (payment.pk, Channel.EMAIL)]
