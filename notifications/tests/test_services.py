"""Queueing, quiet hours, opt-outs, delivery, retries and the staff digest, with frozen dates and exact values.

The clock is frozen at 2026-03-01 12:00 UTC (the ``today`` fixture); the merchant "Viejos Recuerdos" is in UTC,
reminds 3 days ahead, has no grace days and alerts on overdue days 1, 7 and 30. Plans are 1000.00 with 200.00
down and four monthly rows of 200.00, their first due date chosen per test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from kombu.exceptions import OperationalError

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.channels.sms import SmsError
from notifications.models import Notification, NotificationSettings
from notifications.services import (
    notification_deliver,
    notification_mark_read,
    notifications_dispatch,
    notifications_requeue,
    quiet_hours_end,
    reminders_queue,
    retry_delay,
    staff_digest_create,
)
from notifications.tasks import notification_deliver_task
from payments.services import payment_post
from taqsit.models import Merchant
from taqsit.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status


@pytest.fixture
def amina(merchant):
    return CustomerFactory(merchant=merchant, name="Amina Haddad", email="amina@example.com", language="en")


def _plan(owner, customer, first_due: date):
    return plan_make(actor=owner, customer=customer, first_due_date=first_due)


def _queued() -> list[tuple[str, int, str, str, date, str]]:
    return sorted(
        Notification.objects.filter(installment__isnull=False).values_list(
            "installment__plan__number", "installment__number", "kind", "channel", "day", "status"
        )
    )


def _deliver_all(django_capture_on_commit_callbacks, *, now: datetime | None = None) -> int:
    """Hand out what is due and run the deliveries (eager tasks) after the commit, as a worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        return notifications_dispatch(now=now)


# Queueing -------------------------------------------------------------------------------------------------


def test_each_message_is_queued_on_its_day_once_however_often_the_job_runs(owner, amina):
    _plan(owner, amina, date(2026, 3, 4))  # P-000001: due in 3 days: an upcoming reminder
    _plan(owner, amina, date(2026, 3, 1))  # P-000002: due today
    _plan(owner, amina, date(2026, 2, 28))  # P-000003: first overdue day (day 1)
    _plan(owner, amina, date(2026, 2, 22))  # P-000004: overdue day 7
    _plan(owner, amina, date(2026, 2, 20))  # P-000005: overdue day 9: no alert that day
    _plan(owner, amina, date(2026, 1, 30))  # P-000006: overdue day 30

    runs = [reminders_queue(merchant=owner.merchant, day=DAY) for _ in range(3)]

    # P-000006's second row, 01-30 + one month, is due 02-28: day 1 too.
    assert runs == [12, 0, 0]
    assert _queued() == [
        (1, 1, Kind.REMINDER_UPCOMING, Channel.EMAIL, DAY, Status.QUEUED),
        (1, 1, Kind.REMINDER_UPCOMING, Channel.SMS, DAY, Status.QUEUED),
        (2, 1, Kind.REMINDER_DUE_TODAY, Channel.EMAIL, DAY, Status.QUEUED),
        (2, 1, Kind.REMINDER_DUE_TODAY, Channel.SMS, DAY, Status.QUEUED),
        (3, 1, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED),
        (3, 1, Kind.OVERDUE_ALERT, Channel.SMS, DAY, Status.QUEUED),
        (4, 1, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED),
        (4, 1, Kind.OVERDUE_ALERT, Channel.SMS, DAY, Status.QUEUED),
        (6, 1, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED),
        (6, 1, Kind.OVERDUE_ALERT, Channel.SMS, DAY, Status.QUEUED),
        (6, 2, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED),
        (6, 2, Kind.OVERDUE_ALERT, Channel.SMS, DAY, Status.QUEUED),
    ]
    # Outside quiet hours (12:00 in the merchant's UTC): they may go now.
    assert set(Notification.objects.values_list("send_after", flat=True)) == {NOON}
    assert set(Notification.objects.values_list("customer_id", flat=True)) == {amina.pk}


def test_overdue_alerts_count_from_the_first_day_after_the_grace_days(owner, amina):
    Merchant.objects.filter(pk=owner.merchant.pk).update(grace_days=3)
    owner.merchant.refresh_from_db()
    _plan(owner, amina, date(2026, 2, 25))  # first overdue day 03-01: day 1
    _plan(owner, amina, date(2026, 2, 28))  # in its grace days: nothing

    assert reminders_queue(merchant=owner.merchant, day=DAY) == 2
    assert _queued() == [
        (1, 1, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED),
        (1, 1, Kind.OVERDUE_ALERT, Channel.SMS, DAY, Status.QUEUED),
    ]


def test_the_alert_days_and_channels_are_the_merchants(owner, amina):
    NotificationSettings.objects.create(merchant=owner.merchant, overdue_alert_days=[2], sms_enabled=False)
    _plan(owner, amina, date(2026, 2, 28))  # day 1: not an alert day now
    _plan(owner, amina, date(2026, 2, 27))  # day 2

    assert reminders_queue(merchant=owner.merchant, day=DAY) == 1
    assert _queued() == [(2, 1, Kind.OVERDUE_ALERT, Channel.EMAIL, DAY, Status.QUEUED)]


def test_customers_who_opted_out_of_a_channel_are_not_sent_it(owner, merchant):
    no_sms = CustomerFactory(merchant=merchant, email="a@example.com", sms_opt_out=True)
    no_email = CustomerFactory(merchant=merchant, email="b@example.com", email_opt_out=True)
    no_address = CustomerFactory(merchant=merchant, email="")
    nothing = CustomerFactory(merchant=merchant, email="c@example.com", sms_opt_out=True, email_opt_out=True)
    for customer in (no_sms, no_email, no_address, nothing):
        _plan(owner, customer, DAY)

    assert reminders_queue(merchant=merchant, day=DAY) == 3
    assert sorted(Notification.objects.values_list("customer__email", "channel")) == [
        ("", Channel.SMS),
        ("a@example.com", Channel.EMAIL),
        ("b@example.com", Channel.SMS),
    ]


def test_paid_rows_and_plans_not_collected_get_no_reminder(owner, amina):
    paid = _plan(owner, amina, date(2026, 3, 4))
    payment_post(actor=owner, plan=paid, amount=Decimal("200.00"))
    from installments.services import plan_cancel

    plan_cancel(actor=owner, plan=_plan(owner, amina, date(2026, 3, 4)), reason="Returned.")

    assert reminders_queue(merchant=owner.merchant, day=DAY) == 0


def test_reminders_are_queued_in_chunks(owner, amina):
    for _ in range(5):
        _plan(owner, amina, DAY)

    assert reminders_queue(merchant=owner.merchant, day=DAY, chunk_size=2) == 10
    assert reminders_queue(merchant=owner.merchant, day=DAY, chunk_size=2) == 0


# Quiet hours ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "local_now", "expected"),
    [
        # Over midnight, 21:00-08:00: quiet from 21:00, until 08:00 the next morning...
        (time(21), time(8), datetime(2026, 3, 1, 22, 30), datetime(2026, 3, 2, 8, 0)),
        (time(21), time(8), datetime(2026, 3, 1, 21, 0), datetime(2026, 3, 2, 8, 0)),
        # ...or this morning, after midnight.
        (time(21), time(8), datetime(2026, 3, 2, 0, 30), datetime(2026, 3, 2, 8, 0)),
        (time(21), time(8), datetime(2026, 3, 2, 7, 59), datetime(2026, 3, 2, 8, 0)),
        (time(21), time(8), datetime(2026, 3, 2, 8, 0), None),
        (time(21), time(8), datetime(2026, 3, 1, 20, 59), None),
        # Within a day, 12:00-14:00.
        (time(12), time(14), datetime(2026, 3, 1, 13, 0), datetime(2026, 3, 1, 14, 0)),
        (time(12), time(14), datetime(2026, 3, 1, 14, 0), None),
        # None set, or start == end: never quiet.
        (None, None, datetime(2026, 3, 1, 23, 0), None),
        (time(8), time(8), datetime(2026, 3, 1, 8, 0), None),
    ],
)
def test_quiet_hours_end(merchant, start, end, local_now, expected):
    policy = NotificationSettings(merchant=merchant, quiet_hours_start=start, quiet_hours_end=end)
    tz = Merchant(timezone="Asia/Riyadh").tzinfo

    result = quiet_hours_end(policy=policy, tz=tz, now=local_now.replace(tzinfo=tz))

    assert result == (expected.replace(tzinfo=tz) if expected else None)


def test_a_message_queued_in_quiet_hours_waits_for_their_end_in_the_merchants_time_zone(owner, amina):
    Merchant.objects.filter(pk=owner.merchant.pk).update(timezone="Asia/Riyadh")
    owner.merchant.refresh_from_db()
    _plan(owner, amina, date(2026, 3, 5))
    # 19:30 UTC is 22:30 in Riyadh (UTC+3), on 03-01: quiet until 08:00 there, 05:00 UTC.
    with time_machine.travel(datetime(2026, 3, 1, 19, 30, tzinfo=UTC), tick=False):
        assert reminders_queue(merchant=owner.merchant, day=date(2026, 3, 2)) == 2

    assert set(Notification.objects.values_list("send_after", flat=True)) == {datetime(2026, 3, 2, 5, 0, tzinfo=UTC)}
    assert notifications_dispatch(now=datetime(2026, 3, 2, 4, 59, tzinfo=UTC)) == 0
    assert notifications_dispatch(now=datetime(2026, 3, 2, 5, 0, tzinfo=UTC)) == 2
    # Handed out once: a second dispatcher finds nothing.
    assert notifications_dispatch(now=datetime(2026, 3, 2, 5, 1, tzinfo=UTC)) == 0


def test_delivery_in_quiet_hours_holds_the_message_again(owner, amina, sms_outbox):
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)
    sms = Notification.objects.get(channel=Channel.SMS)

    # A message handed out late, at 23:00 UTC (the merchant's quiet hours): held until 08:00, handed out again.
    result = notification_deliver(notification_id=sms.pk, now=datetime(2026, 3, 1, 23, 0, tzinfo=UTC))

    assert result.status == "held"
    sms.refresh_from_db()
    assert (sms.status, sms.send_after, sms.dispatched_at, sms.attempts) == (
        Status.QUEUED,
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        None,
        0,
    )
    assert sms_outbox == []


def test_a_message_lost_by_its_worker_is_handed_out_again_after_an_hour(owner, amina):
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)

    assert notifications_dispatch(now=NOON) == 2
    assert notifications_dispatch(now=datetime(2026, 3, 1, 12, 59, tzinfo=UTC)) == 0
    assert notifications_dispatch(now=datetime(2026, 3, 1, 13, 1, tzinfo=UTC)) == 2


def test_a_broker_outage_leaves_the_messages_queued_for_the_next_dispatch(
    owner, amina, monkeypatch, django_capture_on_commit_callbacks
):
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)  # an SMS and an e-mail
    broker = {"up": True, "taken": []}

    def delay(notification_id: str) -> None:
        if not broker["up"]:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        broker["taken"].append(notification_id)
        broker["up"] = False  # it takes one task, then goes down

    monkeypatch.setattr(notification_deliver_task, "delay", delay)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_dispatch(now=NOON)  # no exception: the daily run that called it goes on

    (taken,) = broker["taken"]
    left = Notification.objects.exclude(pk=taken).get()
    assert Notification.objects.get(pk=taken).dispatched_at == NOON
    assert (left.status, left.dispatched_at) == (Status.QUEUED, None)
    # The broker is back: the next dispatch (beat's, five minutes later) hands out the one left, only.
    broker["up"] = True
    later = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch(now=later) == 1
    assert broker["taken"] == [taken, str(left.pk)]
    left.refresh_from_db()
    assert left.dispatched_at == later


# Delivery -------------------------------------------------------------------------------------------------


def test_reminders_go_out_in_the_customers_language(owner, merchant, sms_outbox, django_capture_on_commit_callbacks):
    english = CustomerFactory(merchant=merchant, name="Amina Haddad", email="amina@example.com", language="en")
    arabic = CustomerFactory(merchant=merchant, name="سارة", email="sara@example.com", language="ar")
    spanish = CustomerFactory(merchant=merchant, name="Lucía", email="lucia@example.com", language="es")
    for customer in (english, arabic, spanish):
        _plan(owner, customer, date(2026, 3, 4))
    reminders_queue(merchant=merchant, day=DAY)

    assert _deliver_all(django_capture_on_commit_callbacks) == 6

    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
    emails = {message.to[0]: message for message in mail.outbox}
    assert emails["amina@example.com"].subject == "Payment reminder: $200.00 due on March 4, 2026"
    assert emails["amina@example.com"].body == (
        "Dear Amina Haddad,\n\nThis is a reminder that installment 1 of your plan P-000001 with Viejos Recuerdos, "
        "$200.00, is due on March 4, 2026.\n\nThank you,\nViejos Recuerdos"
    )
    assert emails["amina@example.com"].from_email == "Taqsit <no-reply@taqsit.local>"
    assert emails["sara@example.com"].subject == "تذكير بالدفع: \u200f200.00\xa0US$ مستحق في 4 مارس 2026"
    assert emails["lucia@example.com"].subject == "Recordatorio de pago: 200,00\xa0US$ vence el 4 de marzo de 2026"
    assert emails["lucia@example.com"].body == (
        "Estimado/a Lucía:\n\nLe recordamos que la cuota 1 de su plan P-000003 con Viejos Recuerdos, por "
        "200,00\xa0US$, vence el 4 de marzo de 2026.\n\nGracias,\nViejos Recuerdos"
    )
    sms = {message["to"]: message["body"] for message in sms_outbox}
    assert sms == {
        english.phone: "Viejos Recuerdos: installment 1 of plan P-000001, $200.00, is due on March 4, 2026.",
        arabic.phone: "Viejos Recuerdos: القسط رقم 1 من الخطة P-000002 بمبلغ \u200f200.00\xa0US$ مستحق في 4 مارس 2026.",
        spanish.phone: (
            "Viejos Recuerdos: la cuota 1 del plan P-000003, por 200,00\xa0US$, vence el 4 de marzo de 2026."
        ),
    }
    kept = Notification.objects.get(customer=spanish, channel=Channel.SMS)
    assert kept.body == sms[spanish.phone]
    assert kept.sent_at == NOON
    assert kept.provider_id == next(m["id"] for m in sms_outbox if m["to"] == spanish.phone)


def test_an_overdue_alert_shows_what_is_left_with_the_late_fee(
    owner, amina, sms_outbox, django_capture_on_commit_callbacks
):
    from installments.jobs import late_fees_apply

    Merchant.objects.filter(pk=owner.merchant.pk).update(late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    owner.merchant.refresh_from_db()
    plan = _plan(owner, amina, date(2026, 2, 28))
    payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
    late_fees_apply(merchant=owner.merchant, today=DAY)
    reminders_queue(merchant=owner.merchant, day=DAY)

    _deliver_all(django_capture_on_commit_callbacks)

    # 200.00 due, 50.00 paid, 15.00 fee: 165.00 outstanding.
    assert sms_outbox[0]["body"] == (
        "Viejos Recuerdos: installment 1 of plan P-000001 was due on February 28, 2026. Outstanding: $165.00."
    )
    assert mail.outbox[0].subject == "Overdue payment: $165.00 was due on February 28, 2026"


def test_a_message_delivered_twice_is_sent_once(owner, amina, sms_outbox):
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)
    sms = Notification.objects.get(channel=Channel.SMS)

    first = notification_deliver(notification_id=sms.pk)
    second = notification_deliver(notification_id=sms.pk)

    assert (first.status, second.status) == (Status.SENT, Status.SENT)
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("sms_opt_out", "The customer opted out of SMS."),
        ("paid", "Installment 1 is paid."),
        ("cancelled", "Plan P-000001 is cancelled."),
    ],
)
def test_a_message_that_stopped_being_wanted_or_true_is_skipped_with_the_reason(
    owner, amina, sms_outbox, change, reason
):
    plan = _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)
    if change == "sms_opt_out":
        amina.sms_opt_out = True
        amina.save()
    elif change == "paid":
        payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))
    else:
        from installments.services import plan_cancel

        plan_cancel(actor=owner, plan=plan, reason="Returned.")
    sms = Notification.objects.get(channel=Channel.SMS)

    result = notification_deliver(notification_id=sms.pk)

    sms.refresh_from_db()
    assert (result.status, sms.status, sms.last_error, sms.attempts) == (Status.SKIPPED, Status.SKIPPED, reason, 0)
    assert sms_outbox == []


def test_a_due_today_reminder_delivered_the_next_day_is_skipped(owner, amina, sms_outbox):
    _plan(owner, amina, DAY)
    reminders_queue(merchant=owner.merchant, day=DAY)
    sms = Notification.objects.get(channel=Channel.SMS)

    result = notification_deliver(notification_id=sms.pk, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    assert (result.status, result.error) == (Status.SKIPPED, "Due on 2026-03-01, not today (2026-03-02).")
    assert sms_outbox == []


class BrokenSmsBackend:
    calls = 0

    def send(self, *, to: str, body: str) -> str:
        BrokenSmsBackend.calls += 1
        raise SmsError("The SMS provider answered HTTP 503: upstream down")


def test_a_failing_sms_provider_fails_after_its_retries_and_the_rest_still_goes_out(
    owner, merchant, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "notifications.tests.test_services.BrokenSmsBackend"
    BrokenSmsBackend.calls = 0
    amina = CustomerFactory(merchant=merchant, email="amina@example.com")
    other = CustomerFactory(merchant=merchant, email="other@example.com")
    for customer in (amina, other):
        _plan(owner, customer, date(2026, 3, 4))
    reminders_queue(merchant=merchant, day=DAY)

    _deliver_all(django_capture_on_commit_callbacks)

    # Three attempts (NOTIFICATION_MAX_ATTEMPTS) each, retried by the task; then failed with the error kept.
    assert BrokenSmsBackend.calls == 6
    assert sorted(Notification.objects.values_list("channel", "status", "attempts", "last_error")) == [
        (Channel.EMAIL, Status.SENT, 1, ""),
        (Channel.EMAIL, Status.SENT, 1, ""),
        (Channel.SMS, Status.FAILED, 3, "SmsError: The SMS provider answered HTTP 503: upstream down"),
        (Channel.SMS, Status.FAILED, 3, "SmsError: The SMS provider answered HTTP 503: upstream down"),
    ]
    assert sorted(message.to[0] for message in mail.outbox) == ["amina@example.com", "other@example.com"]


def test_each_failed_attempt_asks_for_a_longer_wait(owner, amina, settings):
    settings.SMS_BACKEND = "notifications.tests.test_services.BrokenSmsBackend"
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)
    sms = Notification.objects.get(channel=Channel.SMS)

    results = [notification_deliver(notification_id=sms.pk) for _ in range(4)]

    assert [(result.status, result.retry_in) for result in results] == [
        (Status.QUEUED, 60),
        (Status.QUEUED, 120),
        (Status.FAILED, None),
        (Status.FAILED, None),
    ]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.sent_at) == (Status.FAILED, 3, None)


def test_retry_delay_doubles_up_to_its_cap():
    assert [retry_delay(attempts) for attempts in (1, 2, 3, 4, 5, 6)] == [60, 120, 240, 480, 960, 1800]


def test_failed_messages_can_be_queued_again(owner, amina, settings, sms_outbox):
    settings.SMS_BACKEND = "notifications.tests.test_services.BrokenSmsBackend"
    _plan(owner, amina, date(2026, 3, 4))
    reminders_queue(merchant=owner.merchant, day=DAY)
    sms = Notification.objects.get(channel=Channel.SMS)
    for _ in range(3):
        notification_deliver(notification_id=sms.pk)

    assert notifications_requeue(notifications=Notification.objects.all()) == 1
    settings.SMS_BACKEND = "locmem"
    assert notification_deliver(notification_id=sms.pk).status == Status.SENT

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (
        Status.SENT,
        1,
        "SmsError: The SMS provider answered HTTP 503: upstream down",
    )
    assert len(sms_outbox) == 1


# The staff digest -----------------------------------------------------------------------------------------


def test_the_staff_digest_tells_each_staff_member_in_their_language_once(owner, clerk, merchant, amina):
    UserFactory(merchant=merchant, role="manager", username="gerente", language="es")
    UserFactory(merchant=merchant, role="viewer", username="gone", is_active=False)
    _plan(owner, amina, date(2026, 2, 28))  # became overdue today
    _plan(owner, amina, date(2026, 2, 15))  # overdue before
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=True)
    merchant.refresh_from_db()
    _plan(owner, amina, date(2026, 4, 1))  # waits for approval

    assert staff_digest_create(merchant=merchant, day=DAY) == 3
    assert staff_digest_create(merchant=merchant, day=DAY) == 0

    digests = {n.user.username: n for n in Notification.objects.filter(kind=Kind.STAFF_DIGEST)}
    assert sorted(digests) == ["clerk", "gerente", "owner"]
    assert {(n.channel, n.status, n.day, n.sent_at, n.read_at) for n in digests.values()} == {
        (Channel.IN_APP, Status.SENT, DAY, NOON, None)
    }
    assert digests["owner"].subject == "Viejos Recuerdos: summary for March 1, 2026"
    assert digests["owner"].body == (
        "New overdue installments: 1 ($200.00).\nAll overdue installments: 2.\nPlans waiting for approval: 1."
    )
    assert digests["gerente"].subject == "Viejos Recuerdos: resumen del 1 de marzo de 2026"
    assert digests["gerente"].body == (
        "Cuotas vencidas nuevas: 1 (200,00\xa0US$).\nTotal de cuotas vencidas: 2.\nPlanes pendientes de aprobación: 1."
    )


def test_no_digest_on_a_day_with_nothing_new(owner, amina):
    _plan(owner, amina, date(2026, 2, 15))  # overdue, but not new today

    assert staff_digest_create(merchant=owner.merchant, day=DAY) == 0
    assert not Notification.objects.exists()


def test_reading_a_notification_keeps_the_first_read_time(owner, clerk, amina):
    _plan(owner, amina, date(2026, 2, 28))
    staff_digest_create(merchant=owner.merchant, day=DAY)
    digest = Notification.objects.get(user=owner)

    notification_mark_read(user=owner, notification=digest)
    with time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        notification_mark_read(user=owner, notification=digest)

    assert digest.read_at == NOON
    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(user=clerk, notification=digest)
