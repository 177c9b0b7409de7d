"""Notifications: queue reminders and alerts set-based, tell the customer of a plan's decision and of a payment
(its receipt, or that it could not be confirmed), write the staff digest, hand queued messages to workers,
deliver one message (quiet hours, opt-outs, retries), and mark in-app notifications read.

Exactly once: a message is a row unique on (installment, kind, channel, day), or on (plan, kind, channel) for a
decision and (payment, kind, channel) for a payment's message, inserted with ``ON CONFLICT DO NOTHING``, so a job
that runs twice, two beats, a caught-up day or a signal received twice never queue it twice; delivery locks the
row and sends only a queued one, so a task handed out twice sends once.

Reminders and alerts are written when they are sent (what is left on the row then); a decision's or a payment's
message is written when it is queued, as things stood at that moment (a receipt does not change afterwards).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer, PhoneChannel
from installments.models import Guarantor, Installment, InstallmentPlan
from installments.selectors import overdue_cutoff
from notifications.channels.email import email_send
from notifications.channels.sms import sms_backend
from notifications.channels.whatsapp import (
    WhatsAppError,
    error_is_permanent,
    language_code,
    template_name,
    whatsapp_backend,
)
from notifications.messages import (
    Message,
    date_text,
    language_for,
    message_render,
    portal_url_for,
    whatsapp_parameters,
    whatsapp_template_key,
)
from notifications.models import Notification, NotificationSettings
from notifications.selectors import notification_settings_get, staff_digest_figures
from payments.models import Payment
from taqsit import audit
from taqsit.dates import merchant_today
from taqsit.metrics import notification_failed, notification_sent
from taqsit.models import Merchant, User
from taqsit.money import ZERO
from taqsit.money_format import money_text
from taqsit.permissions import Action, permission_require
from taqsit.services import model_update

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# A queued message handed to a worker that has not been sent or retried for this long is handed out again
# (its task was lost with a broker or a worker); delivery sends a message once whatever.
REDISPATCH_AFTER = timedelta(hours=1)

Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status
OPEN = tuple(str(status) for status in InstallmentPlan.OPEN_STATUSES)


# The merchant's policy -----------------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "sms_enabled",
    "whatsapp_enabled",
    "email_enabled",
    "phone_channel",
    "receipts_enabled",
    "staff_digest_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "overdue_alert_days",
)


@audit.action("notification_settings.update")
@transaction.atomic
def notification_settings_update(*, actor: User, merchant: Merchant, **fields) -> NotificationSettings:
    """The owner chooses the channels the merchant writes to customers on (SMS, WhatsApp, e-mail; which of SMS and
    WhatsApp a phone gets by default), receipts, the staff digest, quiet hours and the overdue alert days."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and merchant.pk != actor.merchant_id:
        raise Merchant.DoesNotExist
    policy, _created = NotificationSettings.objects.select_for_update().get_or_create(merchant=merchant)
    return model_update(
        instance=policy, fields=SETTINGS_FIELDS, data=fields, validate=_quiet_hours_check, constraints=True
    )


def _quiet_hours_check(policy: NotificationSettings) -> dict[str, list[str]]:
    """Quiet hours have both ends or none: the one missing is named."""
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if (start is None) == (end is None):
        return {}
    missing = "quiet_hours_end" if end is None else "quiet_hours_start"
    return {missing: [_("Give both ends of the quiet hours, or neither.")]}


# Quiet hours ----------------------------------------------------------------------------------------------


def quiet_hours_end(*, policy: NotificationSettings, tz: ZoneInfo, now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end (in the merchant's time zone), or None outside them.

    A window may run over midnight (21:00-08:00); start == end, or none set, means no quiet hours.
    """
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= moment < end:
            return None
        end_day = local.date()
    elif moment >= start:
        end_day = local.date() + timedelta(days=1)
    elif moment < end:
        end_day = local.date()
    else:
        return None
    return datetime.combine(end_day, end, tzinfo=tz)


def _send_after(merchant: Merchant, policy: NotificationSettings, now: datetime) -> datetime:
    return quiet_hours_end(policy=policy, tz=merchant.tzinfo, now=now) or now


# Queueing -------------------------------------------------------------------------------------------------

_REMINDERS_SQL = """
INSERT INTO {notification} (
    id, merchant_id, customer_id, user_id, installment_id, channel, kind, day, status, subject, body,
    send_after, dispatched_at, attempts, last_error, provider_id, sent_at, read_at, created_at, updated_at,
    template, template_parameters, delivery_status
)
SELECT gen_random_uuid(), i.merchant_id, p.customer_id, NULL, i.id, ch.channel,
       CASE WHEN i.due_date = %(upcoming)s THEN 'reminder_upcoming'
            WHEN i.due_date = %(day)s THEN 'reminder_due_today'
            ELSE 'overdue_alert' END,
       %(day)s, 'queued', '', '', %(send_after)s, NULL, 0, '', '', NULL, NULL, %(now)s, %(now)s,
       '', '[]'::jsonb, ''
  FROM {installment} i
  JOIN {plan} p ON p.id = i.plan_id
  JOIN {customer} c ON c.id = p.customer_id
 CROSS JOIN unnest(%(channels)s::text[]) AS ch(channel)
 WHERE i.id = ANY(%(ids)s)
   AND ((ch.channel = 'email' AND NOT c.email_opt_out AND c.email <> '')
        OR ch.channel = CASE
            WHEN COALESCE(NULLIF(c.preferred_channel, ''), %(phone_channel)s) = 'sms'
                 AND %(sms)s AND NOT c.sms_opt_out THEN 'sms'
            WHEN %(whatsapp)s THEN 'whatsapp'
            WHEN %(sms)s AND NOT c.sms_opt_out THEN 'sms'
        END)
ON CONFLICT DO NOTHING
"""


# Each guarantor of a plan hears once of each installment at least ``guarantor_copy_after_days`` overdue: by SMS,
# to the phone kept on the guarantor. The NOT EXISTS spares the unique index the rows it would refuse every day.
_GUARANTOR_COPIES_SQL = """
INSERT INTO {notification} (
    id, merchant_id, customer_id, user_id, guarantor_id, installment_id, channel, kind, day, status, subject, body,
    send_after, dispatched_at, attempts, last_error, provider_id, sent_at, read_at, created_at, updated_at,
    template, template_parameters, delivery_status
)
SELECT gen_random_uuid(), i.merchant_id, NULL, NULL, g.id, i.id, 'sms', 'guarantor_overdue',
       %(day)s, 'queued', '', '', %(send_after)s, NULL, 0, '', '', NULL, NULL, %(now)s, %(now)s,
       '', '[]'::jsonb, ''
  FROM {installment} i
  JOIN {guarantor} g ON g.plan_id = i.plan_id
 WHERE i.id = ANY(%(ids)s)
   AND NOT EXISTS (
       SELECT 1 FROM {notification} n
        WHERE n.installment_id = i.id AND n.guarantor_id = g.id AND n.kind = 'guarantor_overdue'
   )
ON CONFLICT DO NOTHING
"""


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def reminder_due_dates(*, merchant: Merchant, policy: NotificationSettings, day: date) -> dict[str, list[date]]:
    """The due dates each customer message is about on ``day``: N days ahead (the merchant's reminder days),
    today, and the overdue alert days (day 1 being the first overdue day, after the grace days)."""
    dates: dict[str, list[date]] = {Kind.REMINDER_DUE_TODAY: [day], Kind.OVERDUE_ALERT: []}
    if merchant.reminder_days_before > 0:
        dates[Kind.REMINDER_UPCOMING] = [day + timedelta(days=merchant.reminder_days_before)]
    for days_overdue in sorted(set(policy.overdue_alert_days or [])):
        dates[Kind.OVERDUE_ALERT].append(day - timedelta(days=merchant.grace_days + days_overdue))
    return dates


@audit.action("reminders.queue")
def reminders_queue(*, merchant: Merchant, day: date, now: datetime | None = None, chunk_size: int = CHUNK_SIZE) -> int:
    """Queue the merchant's customer messages for ``day``: upcoming-due reminders, due-today reminders and
    overdue alerts, on each channel the merchant uses and the customer has not opted out of, for unpaid rows of
    open plans. Set-based, in chunks; held until the quiet hours end. Returns the messages queued.

    A customer's phone gets one of SMS and WhatsApp (``phone_channel_for``, written again in the SQL)."""
    now = now or timezone.now()
    policy = notification_settings_get(merchant=merchant)
    channels = merchant_channels(policy)
    if not channels:
        return 0
    queued = guarantor_copies_queue(merchant=merchant, policy=policy, day=day, now=now, chunk_size=chunk_size)
    dates = reminder_due_dates(merchant=merchant, policy=policy, day=day)
    all_dates = [due for due_dates in dates.values() for due in due_dates]
    rows = Installment.objects.filter(
        merchant=merchant,
        superseded_at__isnull=True,
        amount_paid__lt=F("amount_due"),
        plan__status__in=OPEN,
        due_date__in=all_dates,
    )
    sql = _REMINDERS_SQL.format(
        notification=_table(Notification),
        installment=_table(Installment),
        plan=_table(InstallmentPlan),
        customer=_table(Customer),
    )
    params = {
        "upcoming": (dates.get(Kind.REMINDER_UPCOMING) or [None])[0],
        "day": day,
        "channels": [str(channel) for channel in channels],
        "phone_channel": policy.phone_channel,
        "sms": policy.sms_enabled,
        "whatsapp": policy.whatsapp_enabled,
        "send_after": _send_after(merchant, policy, now),
        "now": now,
    }
    return queued + _chunks_insert(rows, sql, params, chunk_size=chunk_size)


def _chunks_insert(rows: QuerySet[Installment], sql: str, params: dict, *, chunk_size: int) -> int:
    """Run ``sql`` (an INSERT ... SELECT over ``%(ids)s``) for ``rows`` in chunks of ids, each chunk in its own
    transaction; returns the rows inserted."""
    queued = 0
    last_pk = None
    while True:
        with transaction.atomic():
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            ids = list(page.order_by("pk").values_list("pk", flat=True)[:chunk_size])
            if not ids:
                break
            with connection.cursor() as cursor:
                cursor.execute(sql, {**params, "ids": ids})
                queued += cursor.rowcount
            last_pk = ids[-1]
    return queued


def guarantor_copies_queue(
    *, merchant: Merchant, policy: NotificationSettings, day: date, now: datetime, chunk_size: int = CHUNK_SIZE
) -> int:
    """When the merchant copies guarantors (``guarantor_copy_after_days``) and sends SMS: queue, for every unpaid
    installment in force of an open plan at least that many days overdue on ``day`` (day 1 being the first overdue
    day, after the grace days), one SMS to each of the plan's guarantors, once per installment and guarantor
    (a unique index), naming the customer and what is outstanding. Set-based, in chunks; returns those queued."""
    after = merchant.guarantor_copy_after_days
    if after is None or not policy.sms_enabled:
        return 0
    rows = Installment.objects.filter(
        merchant=merchant,
        superseded_at__isnull=True,
        amount_paid__lt=F("amount_due"),
        plan__status__in=OPEN,
        due_date__lte=day - timedelta(days=merchant.grace_days + max(after, 1)),
        plan__guarantors__isnull=False,
    ).distinct()
    sql = _GUARANTOR_COPIES_SQL.format(
        notification=_table(Notification), installment=_table(Installment), guarantor=_table(Guarantor)
    )
    params = {"day": day, "send_after": _send_after(merchant, policy, now), "now": now}
    return _chunks_insert(rows, sql, params, chunk_size=chunk_size)


# A decision, a receipt, a payment not confirmed: one message per channel, about one event ---------------------

# An SMS (or WhatsApp message) carries at most this much of a reason (the e-mail all of it): a long note would cost
# several messages.
SMS_REASON_CHARS = 100


def merchant_channels(policy: NotificationSettings) -> list[str]:
    """The channels the merchant writes to customers on."""
    enabled = (
        (Channel.SMS, policy.sms_enabled),
        (Channel.WHATSAPP, policy.whatsapp_enabled),
        (Channel.EMAIL, policy.email_enabled),
    )
    return [channel for channel, on in enabled if on]


def phone_channel_for(*, customer: Customer, policy: NotificationSettings) -> str | None:
    """The one channel a message to ``customer``'s phone goes on: the customer's preferred one (else the merchant's
    ``phone_channel``) when the merchant uses it and the customer takes it, else the other; None when neither
    (SMS turned off or opted out of, WhatsApp turned off). reminders_queue's SQL says the same."""
    if not customer.phone:
        return None
    sms = policy.sms_enabled and not customer.sms_opt_out
    if (customer.preferred_channel or policy.phone_channel) == PhoneChannel.SMS and sms:
        return Channel.SMS
    if policy.whatsapp_enabled:
        return Channel.WHATSAPP
    return Channel.SMS if sms else None


def customer_channels(*, customer: Customer, policy: NotificationSettings) -> list[str]:
    """The channels a message to ``customer`` goes on: one to the phone (SMS or WhatsApp, ``phone_channel_for``)
    and e-mail, each when the merchant uses it, the customer has not opted out of it and has an address for it."""
    channels = []
    phone = phone_channel_for(customer=customer, policy=policy)
    if phone is not None:
        channels.append(phone)
    if policy.email_enabled and not customer.email_opt_out and customer.email:
        channels.append(Channel.EMAIL)
    return channels


def _sms_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= SMS_REASON_CHARS else reason[: SMS_REASON_CHARS - 1].rstrip() + "…"


def _event_queue(
    *,
    kind: str,
    plan: InstallmentPlan,
    payment: Payment | None,
    policy: NotificationSettings,
    fields_for: Callable[[str, str], dict[str, str]],
    variant: str = "",
    now: datetime,
) -> int:
    """Queue ``kind`` about ``plan`` (and ``payment``) to the plan's customer on each of their channels not queued
    yet, written now in the customer's language, with the portal line; held until the quiet hours end, else
    handed to a worker once committed. ``fields_for(language, channel)`` gives the template's fields. Returns
    the messages queued (0 for a repeat: the unique keys)."""
    merchant, customer = plan.merchant, plan.customer
    about = {"payment": payment} if payment is not None else {"plan": plan}
    done = set(Notification.objects.filter(kind=kind, **about).values_list("channel", flat=True))
    channels = [channel for channel in customer_channels(customer=customer, policy=policy) if channel not in done]
    if not channels:
        return 0
    language = language_for(customer.language)
    portal_url = portal_url_for(customer)
    send_after = _send_after(merchant, policy, now)
    rows = []
    for channel in channels:
        fields = fields_for(language, channel)
        message = message_render(
            kind=kind, channel=channel, language=language, fields=fields, variant=variant, portal_url=portal_url
        )
        template, parameters = "", []
        if channel == Channel.WHATSAPP:
            template = template_name(whatsapp_template_key(kind, variant))
            parameters = whatsapp_parameters(kind=kind, variant=variant, fields=fields)
        rows.append(
            Notification(
                merchant=merchant,
                customer=customer,
                plan=plan,
                payment=payment,
                channel=channel,
                kind=kind,
                day=merchant_today(merchant, now=now),
                subject=message.subject[:255],
                body=message.body,
                template=template,
                template_parameters=parameters,
                send_after=send_after,
                dispatched_at=now if send_after <= now else None,
            )
        )
    with transaction.atomic():
        # A twin signal queuing the same messages meanwhile meets the unique keys: nothing twice. The rows that
        # went in are the ones whose (client-made) ids are in the table.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        inserted = list(Notification.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", "dispatched_at"))
        handed = [pk for pk, dispatched_at in inserted if dispatched_at is not None]
        if handed:
            transaction.on_commit(lambda: _deliveries_enqueue(handed, not_handed=[]))
    return len(inserted)


def _plan_for_message(plan_id) -> InstallmentPlan:
    return InstallmentPlan.objects.select_related("merchant", "customer").get(pk=plan_id)


@audit.action("notifications.plan_decision")
def plan_decision_notify(*, plan: InstallmentPlan, decision: str, reason: str = "", now: datetime | None = None) -> int:
    """Tell the customer their application was approved (with the first installment) or rejected (with the
    reason), once per channel. Returns the messages queued."""
    now = now or timezone.now()
    plan = _plan_for_message(plan.pk)
    merchant = plan.merchant
    policy = notification_settings_get(merchant=merchant)
    kind = Kind.PLAN_APPROVED if decision == "approved" else Kind.PLAN_REJECTED
    first = (
        Installment.objects.current()
        .filter(plan=plan, amount_paid__lt=F("amount_due"))
        .order_by("due_date", "number")
        .first()
    )
    reason = (reason or plan.status_reason or "").strip()

    def fields_for(language: str, channel: str) -> dict[str, str]:
        fields = {
            "customer": plan.customer.name,
            "merchant": merchant.name,
            "plan": plan.reference,
            "amount": money_text(plan.total_amount, merchant.currency, language),
        }
        if kind == Kind.PLAN_REJECTED:
            fields["reason"] = _sms_reason(reason) if channel != Channel.EMAIL else reason
        else:
            # An approved plan has installments left (what is financed is above zero); a plan without one would
            # say nothing is due on its last due date rather than fail.
            due = first.amount_due - first.amount_paid if first else ZERO
            fields["next_amount"] = money_text(due, merchant.currency, language)
            fields["next_due_date"] = date_text(first.due_date if first else plan.due_date, language)
        return fields

    return _event_queue(kind=kind, plan=plan, payment=None, policy=policy, fields_for=fields_for, now=now)


def _payment_fields(payment: Payment, plan: InstallmentPlan, language: str) -> dict[str, str]:
    merchant = plan.merchant
    with translation.override(language):
        method = str(payment.get_payment_method_display())
    return {
        "customer": plan.customer.name,
        "merchant": merchant.name,
        "plan": plan.reference,
        "receipt": f"{plan.reference}-{payment.payment_number}",
        "amount": money_text(payment.amount, merchant.currency, language),
        "payment_date": date_text(payment.payment_date, language),
        "method": method,
    }


@audit.action("notifications.payment_receipt")
def payment_receipt_notify(*, payment: Payment, now: datetime | None = None) -> int:
    """Send the customer the receipt of a completed payment: amount, date, method, the plan, what is still owed
    and the next installment, as the payment's receipt figures have them (where the plan stood right after it);
    once per channel, unless the merchant turned receipts off. Returns the messages queued."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment.pk)
    if payment.status != Payment.Status.COMPLETED:
        return 0
    plan = _plan_for_message(payment.plan_id)
    merchant = plan.merchant
    policy = notification_settings_get(merchant=merchant)
    if not policy.receipts_enabled:
        return 0
    balance = payment.balance_after if payment.balance_after is not None else plan.remaining_balance
    if balance <= 0:
        variant = "paid_off"
    elif payment.next_due_date_after is None:
        variant = "owed"
    else:
        variant = ""

    def fields_for(language: str, channel: str) -> dict[str, str]:
        fields = _payment_fields(payment, plan, language)
        fields["balance"] = money_text(balance, merchant.currency, language)
        if payment.next_due_date_after is not None:
            fields["next_amount"] = money_text(payment.next_amount_due_after, merchant.currency, language)
            fields["next_due_date"] = date_text(payment.next_due_date_after, language)
        return fields

    return _event_queue(
        kind=Kind.PAYMENT_RECEIPT,
        plan=plan,
        payment=payment,
        policy=policy,
        fields_for=fields_for,
        variant=variant,
        now=now,
    )


@audit.action("notifications.payment_failed")
def payment_failed_notify(*, payment: Payment, reason: str = "", now: datetime | None = None) -> int:
    """Tell the customer a payment they made (a transfer they reported, a cheque) could not be confirmed, with
    the shop's reason; once per channel. Returns the messages queued."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment.pk)
    if payment.status != Payment.Status.FAILED:
        return 0
    plan = _plan_for_message(payment.plan_id)
    policy = notification_settings_get(merchant=plan.merchant)
    reason = (reason or payment.reversal_reason or "").strip()

    def fields_for(language: str, channel: str) -> dict[str, str]:
        fields = _payment_fields(payment, plan, language)
        fields["reason"] = _sms_reason(reason) if channel != Channel.EMAIL else reason
        return fields

    return _event_queue(
        kind=Kind.PAYMENT_FAILED, plan=plan, payment=payment, policy=policy, fields_for=fields_for, now=now
    )


@audit.action("staff_digest.create")
def staff_digest_create(*, merchant: Merchant, day: date, now: datetime | None = None) -> int:
    """One in-app digest per active staff user of the merchant for ``day`` (new overdue rows, all overdue,
    plans waiting for approval), in the user's language; nothing on a day with nothing new. Once per user and
    day (a unique key). Returns the digests written."""
    policy = notification_settings_get(merchant=merchant)
    if not policy.staff_digest_enabled:
        return 0
    figures = staff_digest_figures(merchant=merchant, day=day)
    if figures.is_empty:
        return 0
    now = now or timezone.now()
    digests = []
    done = Notification.objects.filter(merchant=merchant, kind=Kind.STAFF_DIGEST, day=day).values("user_id")
    for user in User.objects.filter(merchant=merchant, is_active=True).exclude(pk__in=done).order_by("pk"):
        language = language_for(user.language or merchant.language)
        message = message_render(
            kind=Kind.STAFF_DIGEST,
            channel=Channel.IN_APP,
            language=language,
            fields={
                "merchant": merchant.name,
                "day": date_text(day, language),
                "new_overdue": str(figures.new_overdue),
                "new_overdue_amount": money_text(figures.new_overdue_amount, merchant.currency, language),
                "overdue": str(figures.overdue),
                "pending_approvals": str(figures.pending_approvals),
            },
        )
        digests.append(
            Notification(
                merchant=merchant,
                user=user,
                channel=Channel.IN_APP,
                kind=Kind.STAFF_DIGEST,
                day=day,
                status=Status.SENT,
                subject=message.subject[:255],
                body=message.body,
                send_after=now,
                sent_at=now,
            )
        )
    # A twin run writing the same digests meanwhile meets the unique key: nothing twice.
    Notification.objects.bulk_create(digests, ignore_conflicts=True)
    return len(digests)


# Dispatch and delivery ------------------------------------------------------------------------------------


def _deliveries_enqueue(ids: list, *, not_handed: list) -> None:
    """Send one delivery task per message. When the broker cannot take one (Redis down), the messages not yet
    handed out lose their dispatch time, so they stay queued for the next dispatch (beat's, every 5 minutes), and
    are added to ``not_handed``: a broker outage never fails the caller (a daily run, a request)."""
    from notifications.tasks import notification_deliver_task  # tasks import services, not the reverse

    for index, notification_id in enumerate(ids):
        try:
            notification_deliver_task.delay(str(notification_id))
        except Exception as exc:  # kombu's OperationalError, or whatever else the transport raises
            left = ids[index:]
            logger.warning(
                "The broker took no delivery task (%s: %s): %s messages stay queued for the next dispatch.",
                type(exc).__name__,
                exc,
                len(left),
            )
            Notification.objects.filter(pk__in=left, status=Status.QUEUED).update(
                dispatched_at=None, updated_at=timezone.now()
            )
            not_handed.extend(left)
            return


@audit.action("notifications.dispatch")
def notifications_dispatch(
    *, merchant: Merchant | None = None, now: datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> int:
    """Hand every queued SMS, WhatsApp message and e-mail whose quiet hours are over to a worker (one task each,
    after commit), once; one handed out over an hour ago and still queued is handed out again. With the broker
    down, what could not be handed stays queued, undispatched, for the next call. Returns the messages handed."""
    now = now or timezone.now()
    queryset = Notification.objects.filter(
        status=Status.QUEUED, channel__in=[Channel.SMS, Channel.WHATSAPP, Channel.EMAIL], send_after__lte=now
    ).filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER))
    if merchant is not None:
        queryset = queryset.filter(merchant=merchant)
    handed = 0
    not_handed: list = []
    # Stops at the first chunk the broker refused: the next chunk would only wait for the same outage.
    while not not_handed:
        with transaction.atomic():
            ids = list(
                queryset.order_by("send_after", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not ids:
                break
            Notification.objects.filter(pk__in=ids).update(dispatched_at=now, updated_at=now)
            transaction.on_commit(lambda ids=ids: _deliveries_enqueue(ids, not_handed=not_handed))
            handed += len(ids)
    return handed - len(not_handed)


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt came to; ``retry_in`` (seconds) when the task should try again."""

    status: str
    retry_in: int | None = None
    error: str = ""


def retry_delay(attempts: int) -> int:
    """Exponential backoff: the first retry after NOTIFICATION_RETRY_BACKOFF seconds, doubling, capped."""
    return min(settings.NOTIFICATION_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.NOTIFICATION_RETRY_BACKOFF_MAX)


def _skip_reason(notification: Notification, policy: NotificationSettings, today: date) -> str:
    """Why a queued customer (or guarantor) message must not go out now, or "" when it may."""
    if notification.guarantor_id is not None:
        if not policy.sms_enabled:
            return "SMS is turned off for the merchant."
        return _installment_skip_reason(notification, today)
    customer = notification.customer
    if notification.channel == Channel.SMS and (customer.sms_opt_out or not policy.sms_enabled):
        return "The customer opted out of SMS." if customer.sms_opt_out else "SMS is turned off for the merchant."
    if notification.channel == Channel.WHATSAPP and not policy.whatsapp_enabled:
        return "WhatsApp is turned off for the merchant."
    if notification.channel == Channel.EMAIL:
        if customer.email_opt_out:
            return "The customer opted out of e-mail."
        if not policy.email_enabled:
            return "E-mail is turned off for the merchant."
        if not customer.email:
            return "The customer has no e-mail address."
    if notification.installment_id is None:
        return _event_skip_reason(notification, policy)
    return _installment_skip_reason(notification, today)


def _installment_skip_reason(notification: Notification, today: date) -> str:
    """Why a message about an installment stopped being true: its plan closed, it was rescheduled or paid, or
    its day is not the one it speaks of."""
    row = notification.installment
    plan = row.plan
    if plan.status not in OPEN:
        return f"Plan {plan.reference} is {plan.status}."
    if row.superseded_at is not None:
        return f"Installment {row.number} was rescheduled."
    if row.amount_paid >= row.amount_due:
        return f"Installment {row.number} is paid."
    if notification.kind == Kind.REMINDER_DUE_TODAY and row.due_date != today:
        return f"Due on {row.due_date}, not today ({today})."
    if notification.kind == Kind.REMINDER_UPCOMING and row.due_date < today:
        return f"The due date {row.due_date} has passed."
    overdue_kinds = (Kind.OVERDUE_ALERT, Kind.GUARANTOR_OVERDUE)
    if notification.kind in overdue_kinds and row.due_date >= overdue_cutoff(plan.merchant, today=today):
        return f"Installment {row.number} is not overdue on {today}."
    return ""


def _event_skip_reason(notification: Notification, policy: NotificationSettings) -> str:
    """Why a decision's or a payment's message must not go out now, or "" when it may: a receipt the merchant
    turned off meanwhile, or for a payment no longer completed (voided before the quiet hours ended)."""
    if notification.kind != Kind.PAYMENT_RECEIPT:
        return ""
    if not policy.receipts_enabled:
        return "Receipts are turned off for the merchant."
    payment = notification.payment
    if payment.status != Payment.Status.COMPLETED:
        return f"Payment {payment.payment_number} is {payment.status}."
    return ""


def notification_message(notification: Notification) -> Message:
    """The customer message in the customer's language. A reminder or alert: what is left on the installment
    (with its fees) in the merchant's currency, the due date, the plan's reference and the merchant's name, and the
    portal line. A decision's or a payment's message: as written when it was queued."""
    if notification.installment_id is None:
        return Message(subject=notification.subject, body=notification.body)
    language, fields = _installment_fields(notification)
    customer = notification.customer or notification.installment.plan.customer
    return message_render(
        kind=notification.kind,
        channel=notification.channel,
        language=language,
        fields=fields,
        # A guarantor is written to with no portal link: the portal is the customer's.
        portal_url=None if notification.guarantor_id is not None else portal_url_for(customer),
    )


def _installment_fields(notification: Notification) -> tuple[str, dict[str, str]]:
    """The language and fields of a reminder or alert, as things stand now."""
    row = notification.installment
    plan = row.plan
    merchant = plan.merchant
    guarantor = notification.guarantor
    # A guarantor is written to in the customer's language (family, most often).
    customer = notification.customer or plan.customer
    language = language_for(customer.language)
    outstanding = row.amount_due - row.amount_paid + row.late_fee - row.late_fee_paid
    return language, {
        "customer": customer.name,
        "guarantor": guarantor.name if guarantor is not None else "",
        "merchant": merchant.name,
        "plan": plan.reference,
        "number": str(row.number),
        "amount": money_text(outstanding, merchant.currency, language),
        "due_date": date_text(row.due_date, language),
    }


def _whatsapp_template_set(notification: Notification) -> None:
    """A reminder's or alert's template and parameters, written when it is sent (a decision's or a payment's were
    written when it was queued)."""
    if notification.installment_id is None:
        return
    _language, fields = _installment_fields(notification)
    notification.template = template_name(whatsapp_template_key(notification.kind))
    notification.template_parameters = whatsapp_parameters(kind=notification.kind, fields=fields)


def _channel_send(notification: Notification, message: Message) -> str:
    if notification.channel == Channel.EMAIL:
        return email_send(
            to=notification.customer.email,
            subject=message.subject,
            body=message.body,
            notification_id=str(notification.pk),
        )
    if notification.channel == Channel.WHATSAPP:
        _whatsapp_template_set(notification)
        return whatsapp_backend().send(
            to=notification.customer.phone,
            template=notification.template,
            language=language_code(language_for(notification.customer.language)),
            parameters=notification.template_parameters,
        )
    to = notification.guarantor.phone if notification.guarantor_id is not None else notification.customer.phone
    return sms_backend().send(to=to, body=message.body)


@audit.action("notification.deliver")
def notification_deliver(*, notification_id, now: datetime | None = None) -> DeliveryResult:
    """Send one queued customer message, at most once: under its row lock, only while queued. Held again in
    quiet hours; skipped (with the reason) when the customer opted out or the message stopped being true; a
    provider error counts an attempt and keeps the error, and after NOTIFICATION_MAX_ATTEMPTS the message is
    failed. A row another worker holds is left to it."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related(
                "merchant",
                "customer",
                "guarantor",
                "installment__plan__merchant",
                "installment__plan__customer",
                "payment",
            )
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return DeliveryResult(status="missing")
        if notification.status != Status.QUEUED or notification.channel == Channel.IN_APP:
            return DeliveryResult(status=notification.status)
        merchant = notification.merchant
        policy = notification_settings_get(merchant=merchant)
        held_until = quiet_hours_end(policy=policy, tz=merchant.tzinfo, now=now)
        if held_until is not None:
            notification.send_after = held_until
            notification.dispatched_at = None
            notification.save(update_fields=["send_after", "dispatched_at", "updated_at"])
            return DeliveryResult(status="held")
        reason = _skip_reason(notification, policy, merchant_today(merchant, now=now))
        if reason:
            notification.status = Status.SKIPPED
            notification.last_error = reason
            notification.save(update_fields=["status", "last_error", "updated_at"])
            return DeliveryResult(status=Status.SKIPPED, error=reason)
        message = notification_message(notification)
        notification.subject = message.subject[:255]
        notification.body = message.body
        notification.attempts += 1
        try:
            notification.provider_id = _channel_send(notification, message)[:255]
        except Exception as exc:  # whatever the provider raised is kept on the row, and retried
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("Notification %s, attempt %s: %s", notification.pk, notification.attempts, error)
            notification.last_error = error
            # A permanent refusal (not a WhatsApp number, no such template) is not tried again.
            permanent = isinstance(exc, WhatsAppError) and exc.permanent
            final = permanent or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
            notification.status = Status.FAILED if final else Status.QUEUED
            notification.dispatched_at = now
            notification.save()
            channel = notification.channel
            transaction.on_commit(lambda: notification_failed(channel=channel, final=final))
            if final and channel == Channel.WHATSAPP:
                whatsapp_fallback_queue(notification=notification, policy=policy, now=now)
            if final:
                return DeliveryResult(status=Status.FAILED, error=error)
            return DeliveryResult(status=Status.QUEUED, retry_in=retry_delay(notification.attempts), error=error)
        notification.status = Status.SENT
        notification.sent_at = now
        if notification.channel == Channel.WHATSAPP:
            notification.delivery_status = Notification.DeliveryStatus.SENT
            notification.delivery_status_at = now
        notification.save()
        channel = notification.channel
        transaction.on_commit(lambda: notification_sent(channel=channel))
        return DeliveryResult(status=Status.SENT)


# WhatsApp: an SMS instead of what could not be delivered, and the provider's delivery statuses --------------------


def whatsapp_fallback_queue(
    *, notification: Notification, policy: NotificationSettings | None = None, now: datetime | None = None
) -> Notification | None:
    """Send by SMS the WhatsApp message that could not be delivered (the number is not on WhatsApp, a permanent
    refusal at sending or reported later by the provider, or no attempt left): the same message, once (the SMS
    names the WhatsApp message it replaces, a unique key), handed to a worker once committed. None when no SMS can
    go: SMS off for the merchant, the customer opted out of it, or already sent instead."""
    now = now or timezone.now()
    policy = policy or notification_settings_get(merchant=notification.merchant)
    customer = notification.customer
    if not policy.sms_enabled or customer.sms_opt_out:
        return None
    fallback = Notification(
        merchant_id=notification.merchant_id,
        customer=customer,
        installment_id=notification.installment_id,
        plan_id=notification.plan_id,
        payment_id=notification.payment_id,
        channel=Channel.SMS,
        kind=notification.kind,
        day=notification.day,
        # A decision's or a payment's text was written when it was queued (a WhatsApp message's body is the SMS
        # text); a reminder's is written when it is sent, as always.
        subject=notification.subject,
        body=notification.body if notification.installment_id is None else "",
        send_after=now,
        dispatched_at=now,
        fallback_for=notification,
    )
    with transaction.atomic():
        # Twice the same failure (a webhook delivered again), or an SMS of the same message already queued: the
        # unique keys take one.
        Notification.objects.bulk_create([fallback], ignore_conflicts=True)
        if not Notification.objects.filter(pk=fallback.pk).exists():
            return None
        transaction.on_commit(lambda: _deliveries_enqueue([fallback.pk], not_handed=[]))
    return fallback


# The provider's statuses in the order a message goes through them: a late "delivered" never overwrites "read".
_DELIVERY_RANK = {"sent": 1, "delivered": 2, "read": 3}


@dataclass(frozen=True)
class WhatsAppStatus:
    """One status of the provider's webhook: the message's id, what happened, when, and for ``failed`` its error."""

    provider_id: str
    status: str
    at: datetime
    error_code: int | None = None
    error: str = ""


@audit.action("notification.whatsapp_status")
def whatsapp_status_record(*, notification_id, update: WhatsAppStatus, now: datetime | None = None) -> str:
    """Record what the provider says of a sent WhatsApp message: sent, delivered, read (never going back: a
    late "delivered" after "read" is ignored) or failed, with the provider's time. A failure with a permanent error
    code sends the message by SMS instead; with a temporary one, the message goes again with the next dispatch
    while attempts are left (then by SMS). Returns the delivery status the message has afterwards."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("merchant", "customer")
            .filter(pk=notification_id, channel=Channel.WHATSAPP, provider_id=update.provider_id)
            .first()
        )
        if notification is None:
            return ""
        current = notification.delivery_status
        if update.status in _DELIVERY_RANK:
            if (
                current == Notification.DeliveryStatus.FAILED
                or _DELIVERY_RANK.get(current, 0) >= _DELIVERY_RANK[update.status]
            ):
                return current
            notification.delivery_status = update.status
            notification.delivery_status_at = update.at
            notification.save(update_fields=["delivery_status", "delivery_status_at", "updated_at"])
            return notification.delivery_status
        if update.status != Notification.DeliveryStatus.FAILED or current == Notification.DeliveryStatus.FAILED:
            return current
        notification.delivery_status = Notification.DeliveryStatus.FAILED
        notification.delivery_status_at = update.at
        code = f" {update.error_code}" if update.error_code is not None else ""
        notification.last_error = f"The WhatsApp provider reported error{code}: {update.error}".strip()
        retry = (
            update.error_code is not None
            and not error_is_permanent(update.error_code)
            and notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS
            and notification.status == Status.SENT
        )
        if retry:
            # Sent again by the next dispatch (every 5 minutes), as a new message with a new id.
            notification.status = Status.QUEUED
            notification.dispatched_at = None
            notification.send_after = now
        notification.save()
        if not retry:
            whatsapp_fallback_queue(notification=notification, now=now)
        return notification.delivery_status


@audit.action("notifications.requeue")
@transaction.atomic
def notifications_requeue(*, notifications: QuerySet[Notification], now: datetime | None = None) -> int:
    """Give failed customer messages a fresh set of attempts (an admin action, once the provider is fixed);
    the last error stays until the next attempt replaces it. A WhatsApp message that went by SMS instead is not sent
    again. Returns the messages requeued."""
    now = now or timezone.now()
    return notifications.filter(status=Status.FAILED, fallback__isnull=True).update(
        status=Status.QUEUED, attempts=0, dispatched_at=None, send_after=now, updated_at=now
    )


# In-app ---------------------------------------------------------------------------------------------------


@audit.action("notification.mark_read")
def notification_mark_read(*, user: User, notification: Notification, now: datetime | None = None) -> Notification:
    """Mark one of the user's own in-app notifications read; the first read time stays."""
    if notification.user_id != user.pk:
        raise Notification.DoesNotExist("No Notification matches the given query.")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now or timezone.now(), updated_at=now or timezone.now()
    )
    notification.refresh_from_db()
    return notification
