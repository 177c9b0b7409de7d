"""The collector's worklist: assigning overdue plans, recording contacts and promises to pay, and finding each
promise kept or broken from the plan's payments.

A promise is counted from the payments, never from what a collector says: the plan's completed payments (not
its down payment) recorded from the promise's making, dated from the day it was made to its date, and before
the plan's next promise was made (``Promise`` explains it). ``promises_evaluate`` counts them again whenever a
payment of the plan is recorded, confirmed, refunded or voided (collectors/receivers.py) and every day for the
promises of the last ``RECONSIDER_DAYS`` (dailyrun's step): a promise whose date has passed short is broken, a
kept one whose payment was refunded is kept no more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from collectors.models import Assignment, Contact, Promise
from installments.locks import plan_lock
from installments.models import InstallmentPlan
from payments.models import Payment
from taqsit import audit
from taqsit.dates import merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.models import Merchant, Role, User
from taqsit.money import ZERO, as_decimal, decimal_places_message, is_exact, sum_of, to_money
from taqsit.permissions import Action, permission_require

# Who may be given plans to follow up: anyone who may record a contact (a viewer only reads).
COLLECTOR_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.CLERK})
# A promise further off than this is no promise: the plan is rescheduled instead.
PROMISE_MAX_DAYS = 60
# How far back a contact may be recorded (a visit written up after a day in the field).
CONTACT_MAX_AGE = timedelta(days=30)
# Refunds are reconsidered by the daily step for the promises of this many days back (and at once by the signal).
RECONSIDER_DAYS = 90
NOTE_MAX_LENGTH = 2000
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def _plan_of(actor: User, plan: InstallmentPlan | uuid.UUID | str) -> InstallmentPlan:
    """``plan`` as the actor's merchant has it (another merchant's is ``DoesNotExist``, as one that is nowhere)."""
    plan_id = plan.pk if isinstance(plan, InstallmentPlan) else plan
    plans = InstallmentPlan.objects.select_related("merchant")
    if not actor.is_superuser:
        plans = plans.filter(merchant_id=actor.merchant_id)
    return plans.get(pk=plan_id)


def _closed_message(plan: InstallmentPlan) -> str:
    return _("Plan %(reference)s is %(status)s: there is nothing to collect.") % {
        "reference": plan.reference,
        "status": plan.get_status_display().lower(),
    }


def _open_check(plan: InstallmentPlan) -> None:
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_message(plan), code=ErrorCode.INVALID_STATUS)})


def _note_check(errors: dict, note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("Keep the note under %(count)s characters.") % {"count": NOTE_MAX_LENGTH}]
    return note


def collector_get(*, merchant_id, collector: User | uuid.UUID | str) -> User:
    """The member of staff ``collector`` if they may follow up plans: active, of this merchant, not a viewer. A
    user of another merchant is refused as one that does not exist."""
    collector_id = collector.pk if isinstance(collector, User) else collector
    user = User.objects.filter(pk=collector_id, merchant_id=merchant_id, is_active=True).first()
    if user is None:
        raise ValidationError({"collector": [_("No such member of staff.")]})
    if user.role not in COLLECTOR_ROLES:
        raise ValidationError(
            {"collector": [_("%(name)s is a viewer: a viewer cannot follow up plans.") % {"name": user}]}
        )
    return user


@audit.action("collection.assign")
@transaction.atomic
def plans_assign(
    *, actor: User, plan_ids: Iterable[uuid.UUID | str], collector: User | uuid.UUID | str | None
) -> list[Assignment]:
    """Give the plans of ``plan_ids`` to ``collector`` (None: to nobody), replacing whoever had them. Only open
    plans (active or defaulted) are followed up; every plan must be the actor's merchant's."""
    permission_require(actor, Action.COLLECTION_ASSIGN)
    ids = list(dict.fromkeys(str(plan_id) for plan_id in plan_ids))
    if not ids:
        raise ValidationError({"plans": [_("Choose at least one plan.")]})
    plans = {
        str(plan.pk): plan
        for plan in InstallmentPlan.objects.filter(merchant_id=actor.merchant_id, pk__in=ids).only(
            "pk", "number", "status", "merchant_id"
        )
    }
    missing = [plan_id for plan_id in ids if plan_id not in plans]
    if missing:
        raise ValidationError({"plans": [_("No such plan: %(id)s.") % {"id": plan_id} for plan_id in missing]})
    closed = [plan for plan in plans.values() if not plan.is_open]
    if closed:
        raise ValidationError({"plans": [_closed_message(plan) for plan in closed]})
    if collector is None:
        Assignment.objects.filter(plan_id__in=ids).delete()
        return []
    user = collector_get(merchant_id=actor.merchant_id, collector=collector)
    Assignment.objects.bulk_create(
        [
            Assignment(merchant_id=actor.merchant_id, plan_id=plan_id, collector=user, assigned_by=actor)
            for plan_id in ids
        ],
        update_conflicts=True,
        unique_fields=["plan"],
        update_fields=["collector", "assigned_by", "updated_at"],
    )
    return list(Assignment.objects.filter(plan_id__in=ids).select_related("collector", "plan"))


@audit.action("collection.contact")
@transaction.atomic
def contact_record(
    *,
    actor: User,
    plan: InstallmentPlan | uuid.UUID | str,
    kind: str,
    outcome: str,
    note: str = "",
    contacted_at: datetime | None = None,
) -> Contact:
    """Record a call, visit or message about an open plan: when (now, or up to 30 days back), how it went."""
    permission_require(actor, Action.COLLECTION_RECORD)
    plan = _plan_of(actor, plan)
    errors: dict[str, list[str]] = {}
    if kind not in Contact.Kind.values:
        errors["kind"] = [_("%(value)s is not a kind of contact.") % {"value": repr(kind)}]
    if outcome not in Contact.Outcome.values:
        errors["outcome"] = [_("%(value)s is not an outcome.") % {"value": repr(outcome)}]
    note = _note_check(errors, note)
    now = timezone.now()
    contacted_at = contacted_at or now
    if contacted_at > now + timedelta(minutes=5):
        errors["contacted_at"] = [_("The contact cannot be in the future.")]
    elif contacted_at < now - CONTACT_MAX_AGE:
        errors["contacted_at"] = [_("A contact is recorded within %(days)s days.") % {"days": CONTACT_MAX_AGE.days}]
    if errors:
        raise ValidationError(errors)
    _open_check(plan)
    return Contact.objects.create(
        merchant_id=plan.merchant_id,
        plan=plan,
        kind=kind,
        outcome=outcome,
        note=note,
        contacted_at=contacted_at,
        made_by=actor,
    )


def _amount_check(errors: dict, amount, plan: InstallmentPlan) -> Decimal | None:
    currency = plan.merchant.currency
    try:
        value = as_decimal(amount)
    except ValidationError as exc:
        errors["amount"] = exc.messages
        return None
    if value <= 0:
        errors["amount"] = [_("The amount must be more than zero.")]
    elif not is_exact(value, currency):
        errors["amount"] = [decimal_places_message(value, currency)]
    elif value > plan.remaining_balance:
        errors["amount"] = [
            _("%(amount)s is more than the remaining balance %(balance)s.")
            % {"amount": value, "balance": to_money(plan.remaining_balance, currency)}
        ]
    return value


@audit.action("collection.promise")
@transaction.atomic
def promise_record(
    *,
    actor: User,
    plan: InstallmentPlan | uuid.UUID | str,
    amount: Decimal | str,
    promised_on: date,
    kind: str = Contact.Kind.CALL,
    note: str = "",
) -> Promise:
    """Record the customer's promise to pay ``amount`` by ``promised_on`` (today up to ``PROMISE_MAX_DAYS`` on),
    with the contact it was made in. The plan's current promise is counted first: still open, it is replaced.
    It counts in the figures of the plan's collector (of whoever recorded it when the plan has none)."""
    permission_require(actor, Action.COLLECTION_RECORD)
    plan = _plan_of(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)  # one current promise per plan, made one at a time
    errors: dict[str, list[str]] = {}
    value = _amount_check(errors, amount, plan)
    if kind not in Contact.Kind.values:
        errors["kind"] = [_("%(value)s is not a kind of contact.") % {"value": repr(kind)}]
    note = _note_check(errors, note)
    now = timezone.now()
    today = merchant_today(plan.merchant, now=now)
    if promised_on < today:
        errors["promised_on"] = [_("The date %(date)s has passed.") % {"date": promised_on}]
    elif promised_on > today + timedelta(days=PROMISE_MAX_DAYS):
        errors["promised_on"] = [
            _("A promise is for the next %(days)s days; reschedule the plan for later.") % {"days": PROMISE_MAX_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    _open_check(plan)
    current = Promise.objects.filter(plan=plan, closed_at__isnull=True)
    if current.exists():
        _promises_count(current, today=today, now=now)
        current.filter(status=Promise.Status.OPEN).update(status=Promise.Status.REPLACED, resolved_at=now)
        current.update(closed_at=now)
    contact = Contact.objects.create(
        merchant_id=plan.merchant_id,
        plan=plan,
        kind=kind,
        outcome=Contact.Outcome.PROMISED,
        note=note,
        contacted_at=now,
        made_by=actor,
    )
    assignment = Assignment.objects.filter(plan=plan).only("collector_id").first()
    return Promise.objects.create(
        merchant_id=plan.merchant_id,
        plan=plan,
        contact=contact,
        amount=value,
        promised_on=promised_on,
        made_at=now,
        made_on=today,
        made_by=actor,
        collector_id=assignment.collector_id if assignment else actor.pk,
    )


def promise_counted() -> Coalesce:
    """What a promise's payments add up to (the rule of ``Promise``), as an expression on a promise row."""
    payments = (
        Payment.objects.filter(
            plan_id=OuterRef("plan_id"),
            status=Payment.Status.COMPLETED,
            is_down_payment=False,
            created_at__gte=OuterRef("made_at"),
            created_at__lt=Coalesce(OuterRef("closed_at"), Value(_NEVER), output_field=DateTimeField()),
            payment_date__gte=OuterRef("made_on"),
            payment_date__lte=OuterRef("promised_on"),
        )
        .order_by()
        .values("plan_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(payments), ZERO, output_field=sum_of("amount").output_field)


def _promises_count(promises: QuerySet[Promise], *, today: date, now: datetime) -> dict[str, int]:
    """Count the payments of ``promises`` again and set each one's status from them (set-based: a few UPDATEs)."""
    promises = promises.exclude(status=Promise.Status.REPLACED)
    counted = promise_counted()
    recounted = promises.alias(counted=counted).exclude(amount_counted=F("counted")).update(amount_counted=counted)
    short = promises.filter(amount_counted__lt=F("amount"))
    return {
        "recounted": recounted,
        "kept": promises.filter(amount_counted__gte=F("amount"))
        .exclude(status=Promise.Status.KEPT)
        .update(status=Promise.Status.KEPT, resolved_at=now),
        "broken": short.filter(promised_on__lt=today)
        .exclude(status=Promise.Status.BROKEN)
        .update(status=Promise.Status.BROKEN, resolved_at=now),
        "reopened": short.filter(promised_on__gte=today)
        .exclude(status=Promise.Status.OPEN)
        .update(status=Promise.Status.OPEN, resolved_at=None),
    }


@audit.action("collection.promises_evaluate")
@transaction.atomic
def promises_evaluate(
    *, merchant: Merchant, today: date | None = None, now: datetime | None = None, plan_ids: list | None = None
) -> dict[str, int]:
    """Find the merchant's promises kept or broken as of ``today``: those of ``plan_ids`` (a payment of theirs
    moved), else every promise due in the last ``RECONSIDER_DAYS`` or later (the daily step). A promise whose
    date has passed short is broken from the day after it; one short again after a refund is open or broken."""
    now = now or timezone.now()
    today = today or merchant_today(merchant, now=now)
    promises = Promise.objects.filter(merchant=merchant)
    if plan_ids is not None:
        promises = promises.filter(plan_id__in=plan_ids)
    else:
        promises = promises.filter(promised_on__gte=today - timedelta(days=RECONSIDER_DAYS))
    return _promises_count(promises, today=today, now=now)
