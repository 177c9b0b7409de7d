"""Products and the plan lifecycle: create, approve, reject, cancel, reschedule, mark defaulted, delete.

Each service runs in one transaction and locks the plan row before changing it, the same lock the ledger
services take, so a lifecycle change and a payment can never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.services import customer_create
from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan, LateFee, PlanItem, Product
from installments.schedule import Schedule, ScheduleRow, schedule_build, schedule_split
from installments.selectors import installment_is_unpaid, late_fee_amount
from installments.signals import plan_activated
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.models import Merchant, User
from taqsit.money import ZERO, as_decimal, decimal_places_message, is_exact, to_money
from taqsit.money_format import money_figure
from taqsit.permissions import Action, permission_require
from taqsit.services import fields_refuse, model_save, model_update, model_validate

Status = InstallmentPlan.Status

PRODUCT_FIELDS = ("name", "sku", "price", "is_active")


def _merchant_for(actor: User, merchant: Merchant | None) -> Merchant:
    if actor.is_superuser and merchant is not None:
        return merchant
    if actor.merchant is None:
        raise ValidationError({"merchant": _("Choose the merchant.")})
    return actor.merchant


def _same_merchant(actor: User, obj: Any) -> None:
    """Another merchant's object does not exist for this actor."""
    if not actor.is_superuser and obj.merchant_id != actor.merchant_id:
        raise type(obj).DoesNotExist(f"No {type(obj).__name__} matches the given query.")


def _money_check(errors: dict, field: str, value: Any, currency: str, *, allow_zero: bool = False) -> Decimal | None:
    """Parse a money input; a problem is added to ``errors`` under ``field``."""
    if value is None or value == "":
        errors[field] = [_("This field is required.")]
        return None
    try:
        amount = as_decimal(value)
    except (ValidationError, TypeError):
        errors[field] = [_("%(value)s is not an amount.") % {"value": repr(value)}]
        return None
    if amount < 0 or (amount == 0 and not allow_zero):
        errors[field] = [_("%(amount)s must be greater than zero.") % {"amount": money_figure(amount, currency)}]
    elif not is_exact(amount, currency):
        errors[field] = [decimal_places_message(amount, currency)]
    return amount


# Products ------------------------------------------------------------------------------------------------


def sku_taken_message(sku: str, twin: Product) -> str:
    """The refusal of a SKU another product of the merchant has (the admin's form says it too)."""
    return _("The SKU %(sku)s is already used by %(product)s.") % {"sku": sku, "product": twin.name}


def _product_check(product: Product) -> dict[str, list[str]]:
    """A positive price exact to the currency's unit, and a SKU no other product of the merchant has."""
    errors: dict[str, list[str]] = {}
    product.name = (product.name or "").strip()
    product.sku = (product.sku or "").strip()
    price = _money_check(errors, "price", product.price, product.merchant.currency)
    if price is not None and "price" not in errors:
        product.price = price
    if product.sku:
        twin = Product.objects.filter(merchant_id=product.merchant_id, sku=product.sku).exclude(pk=product.pk).first()
        if twin is not None:
            errors["sku"] = [sku_taken_message(product.sku, twin)]
    return errors


def product_validate(*, product: Product) -> Product:
    """Trim ``product``'s name and SKU in place and refuse what ``product_create``/``product_update`` would: a
    price that is not a positive exact amount, a SKU another product of the merchant has; writes nothing."""
    return model_validate(instance=product, validate=_product_check)


def _product_conflict(product: Product) -> dict[str, str]:
    return {"sku": _("The SKU %(sku)s is already used.") % {"sku": product.sku}}


@audit.action("product.create")
@transaction.atomic
def product_create(*, actor: User, merchant: Merchant | None = None, **fields: Any) -> Product:
    """Register a product sold on installment."""
    permission_require(actor, Action.PRODUCT_WRITE)
    fields_refuse(data=fields, fields=PRODUCT_FIELDS)
    product = Product(merchant=_merchant_for(actor, merchant), **fields)
    return model_save(instance=product, validate=_product_check, conflict=_product_conflict)


@audit.action("product.update")
@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    """Edit a product; plans already sold keep their own item prices."""
    permission_require(actor, Action.PRODUCT_WRITE)
    _same_merchant(actor, product)
    return model_update(
        instance=Product.objects.select_for_update(of=("self",)).get(pk=product.pk),
        fields=PRODUCT_FIELDS,
        data=fields,
        validate=_product_check,
        conflict=_product_conflict,
    )


# Plans ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    product: Product | None
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


def _items_parse(merchant: Merchant, items: list[dict] | None) -> tuple[list[ItemInput], dict]:
    """Validate the sale's lines; products must be the merchant's own."""
    parsed: list[ItemInput] = []
    problems: list[str] = []
    for index, raw in enumerate(items or [], start=1):
        product = raw.get("product")
        if product is not None and not isinstance(product, Product):
            product = Product.objects.for_merchant(merchant).filter(pk=product).first()
            if product is None:
                problems.append(_("Item %(number)s: no such product.") % {"number": index})
                continue
        if isinstance(product, Product) and product.merchant_id != merchant.pk:
            problems.append(_("Item %(number)s: no such product.") % {"number": index})
            continue
        description = (raw.get("description") or (product.name if product else "")).strip()
        if not description:
            problems.append(_("Item %(number)s: describe the item or choose a product.") % {"number": index})
        quantity = raw.get("quantity", 1)
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            problems.append(
                _("Item %(number)s: quantity %(quantity)s is not a whole number.")
                % {"number": index, "quantity": repr(quantity)}
            )
            continue
        if quantity < 1:
            problems.append(_("Item %(number)s: quantity must be at least 1.") % {"number": index})
        unit_price = raw.get("unit_price")
        if unit_price in (None, "") and product is not None:
            unit_price = product.price
        field_errors: dict = {}
        price = _money_check(field_errors, "unit_price", unit_price, merchant.currency)
        if field_errors:
            problems.append(
                _("Item %(number)s: unit price: %(problem)s")
                % {"number": index, "problem": field_errors["unit_price"][0]}
            )
            continue
        # A product's price comes back from the database with three places: show it in the currency's unit.
        price = to_money(price, merchant.currency)
        parsed.append(ItemInput(product=product, description=description, quantity=quantity, unit_price=price))
    return parsed, ({"items": problems} if problems else {})


@dataclass(frozen=True)
class PlanTerms:
    """Everything a schedule is built from, validated; shared by preview and create."""

    merchant: Merchant
    items: list[ItemInput]
    schedule: Schedule
    finance_charge_method: str
    interest_rate: Decimal
    first_due_date: date | None


def plan_terms_build(
    *,
    merchant: Merchant,
    items: list[dict] | None = None,
    total_amount: Any = None,
    down_payment: Any = ZERO,
    number_of_installments: int | None = None,
    installment_amount: Any = None,
    installment_frequency: str = "",
    start_date: date | None = None,
    first_due_date: date | None = None,
    due_date: date | None = None,
    finance_charge_method: str = "none",
    interest_rate: Any = None,
) -> PlanTerms:
    """Validate a plan's terms and build its schedule; nothing is saved (this is also the preview)."""
    parsed_items, errors = _items_parse(merchant, items)
    items_total = sum((item.line_total for item in parsed_items), ZERO)
    if total_amount in (None, ""):
        if parsed_items and not errors:
            total_amount = items_total
        elif not errors:
            errors["total_amount"] = [_("Give the total amount or the items sold.")]
    elif parsed_items and not errors:
        try:
            given = as_decimal(total_amount)
        except (ValidationError, TypeError):
            given = None
        if given is not None and given != items_total:
            errors["total_amount"] = [
                _("The total %(total)s does not match the items, which add up to %(items_total)s.")
                % {
                    "total": money_figure(given, merchant.currency),
                    "items_total": money_figure(items_total, merchant.currency),
                }
            ]
    if start_date is None:
        errors["start_date"] = [_("This field is required.")]
    dates_bound_check(
        errors, merchant_today(merchant), start_date=start_date, first_due_date=first_due_date, due_date=due_date
    )
    if errors:
        raise ValidationError(errors)
    schedule = schedule_build(
        currency=merchant.currency,
        total_amount=total_amount,
        down_payment=ZERO if down_payment in (None, "") else down_payment,
        frequency=installment_frequency,
        start_date=start_date,
        number_of_installments=number_of_installments,
        installment_amount=None if installment_amount in (None, "") else installment_amount,
        first_due_date=first_due_date,
        due_date=due_date,
        finance_charge_method=finance_charge_method or "none",
        interest_rate=None if interest_rate in (None, "") else interest_rate,
    )
    return PlanTerms(
        merchant=merchant,
        items=parsed_items,
        schedule=schedule,
        finance_charge_method=finance_charge_method or "none",
        interest_rate=ZERO if interest_rate in (None, "") else as_decimal(interest_rate),
        first_due_date=first_due_date,
    )


def _installments_create(plan: InstallmentPlan, rows: tuple[ScheduleRow, ...] | list[ScheduleRow]) -> None:
    Installment.objects.bulk_create(
        [
            Installment(
                merchant_id=plan.merchant_id,
                plan=plan,
                number=row.number,
                due_date=row.due_date,
                amount_due=row.amount,
                principal=row.principal,
                interest=row.interest,
            )
            for row in rows
        ]
    )


def _plan_activate(plan: InstallmentPlan, actor: User | None) -> None:
    """Make the plan active and record its down payment (the payments app listens) under the plan's lock."""
    plan.status = Status.ACTIVE
    plan.status_changed_at = timezone.now()
    plan.save(update_fields=["status", "status_changed_at", "updated_at"])
    plan_activated.send(sender=InstallmentPlan, plan=plan, actor=actor)


@audit.action("plan.create")
@transaction.atomic
def plan_create(
    *,
    actor: User,
    customer: Customer,
    notes: str = "",
    idempotency_key: str | None = None,
    replay: bool = True,
    **terms: Any,
) -> InstallmentPlan:
    """Create a plan and its schedule: active (down payment recorded), or pending when approval is required.

    The same ``idempotency_key`` returns the plan it first created and creates nothing (``replay=False``: the
    caller's own record answers repeats, the key is only kept on the row).
    """
    permission_require(actor, Action.PLAN_CREATE)
    # Read the merchant afresh: its policy (approval, currency) may have changed since ``customer`` was loaded.
    merchant = Merchant.objects.get(pk=customer.merchant_id)
    if not actor.is_superuser and customer.merchant_id != actor.merchant_id:
        raise ValidationError({"customer": _("No such customer.")})
    if idempotency_key and replay:
        existing = InstallmentPlan.objects.filter(merchant=merchant, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    plan_terms = plan_terms_build(merchant=merchant, **terms)
    schedule = plan_terms.schedule
    # The merchant row's lock hands out gapless plan numbers.
    Merchant.objects.filter(pk=merchant.pk).update(last_plan_number=F("last_plan_number") + 1)
    merchant.refresh_from_db(fields=["last_plan_number", "requires_approval"])
    number = merchant.last_plan_number
    if idempotency_key and replay:
        # A twin request may have committed while we waited for the merchant lock.
        existing = InstallmentPlan.objects.filter(merchant=merchant, idempotency_key=idempotency_key).first()
        if existing is not None:
            transaction.set_rollback(True)
            return existing
    plan = InstallmentPlan.objects.create(
        merchant=merchant,
        number=number,
        customer=customer,
        status=Status.PENDING,
        total_amount=schedule.total_amount,
        down_payment=schedule.down_payment,
        finance_charge_method=plan_terms.finance_charge_method,
        interest_rate=plan_terms.interest_rate,
        finance_charge=schedule.finance_charge,
        total_payable=schedule.total_payable,
        installment_amount=schedule.installment_amount,
        number_of_installments=schedule.number_of_installments,
        installment_frequency=terms.get("installment_frequency"),
        start_date=terms.get("start_date"),
        first_due_date=plan_terms.first_due_date,
        due_date=schedule.last_due_date,
        notes=notes or "",
        created_by=actor,
        idempotency_key=idempotency_key or None,
    )
    PlanItem.objects.bulk_create(
        [
            PlanItem(
                plan=plan,
                product=item.product,
                description=item.description,
                quantity=item.quantity,
                unit_price=item.unit_price,
                line_total=item.line_total,
            )
            for item in plan_terms.items
        ]
    )
    _installments_create(plan, schedule.rows)
    if not merchant.requires_approval:
        _plan_activate(plan, actor)
        plan.refresh_from_db()
    merchant_stats_invalidate(merchant.pk)
    return plan


@transaction.atomic
def plan_create_with_customer(*, actor: User, customer: dict[str, Any], **plan_fields: Any) -> InstallmentPlan:
    """A new customer (``customer_create``'s fields) and their plan (``plan_create``'s), saved together or not at
    all: a refusal of either leaves neither. Each keeps its own audit action."""
    created = customer_create(actor=actor, **customer)
    return plan_create(actor=actor, customer=created, **plan_fields)


def _status_require(plan: InstallmentPlan, allowed: tuple[str, ...], message: str) -> None:
    """``message`` names the plan (``%(plan)s``) and its status (``%(status)s``); one whole sentence per
    transition, so each language can word it."""
    if plan.status not in allowed:
        raise ValidationError(
            {
                "status": ValidationError(
                    message % {"plan": plan.reference, "status": plan.get_status_display().lower()},
                    code=ErrorCode.INVALID_STATUS,
                )
            }
        )


def _decide(plan: InstallmentPlan, actor: User, status: str, reason: str) -> None:
    now = timezone.now()
    plan.status = status
    plan.status_reason = reason
    plan.status_changed_at = now
    plan.decided_by = actor
    plan.decided_at = now
    plan.save(update_fields=["status", "status_reason", "status_changed_at", "decided_by", "decided_at", "updated_at"])


@audit.action("plan.approve")
@transaction.atomic
def plan_approve(*, actor: User, plan: InstallmentPlan) -> InstallmentPlan:
    """A manager approves a pending application: it becomes active and its down payment is recorded."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["approve"], _("Plan %(plan)s is %(status)s: it cannot be approved.")
    )
    plan.decided_by = actor
    plan.decided_at = timezone.now()
    plan.save(update_fields=["decided_by", "decided_at", "updated_at"])
    _plan_activate(plan, actor)
    plan.refresh_from_db()
    merchant_stats_invalidate(plan.merchant_id)
    return plan


@audit.action("plan.reject")
@transaction.atomic
def plan_reject(*, actor: User, plan: InstallmentPlan, reason: str) -> InstallmentPlan:
    """A manager rejects a pending application, with the reason kept."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the application is rejected.")})
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["reject"], _("Plan %(plan)s is %(status)s: it cannot be rejected.")
    )
    _decide(plan, actor, Status.REJECTED, reason.strip())
    merchant_stats_invalidate(plan.merchant_id)
    return plan


@audit.action("plan.cancel")
@transaction.atomic
def plan_cancel(*, actor: User, plan: InstallmentPlan, reason: str) -> InstallmentPlan:
    """Stop collecting a plan (goods returned, agreement ended); its payments stay in the ledger."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the plan is cancelled.")})
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan,
        InstallmentPlan.ACTION_STATUSES["cancel"],
        _("Plan %(plan)s is %(status)s: it cannot be cancelled."),
    )
    plan.status = Status.CANCELLED
    plan.status_reason = reason.strip()
    plan.status_changed_at = timezone.now()
    plan.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    merchant_stats_invalidate(plan.merchant_id)
    return plan


@audit.action("plan.mark_defaulted")
@transaction.atomic
def plan_mark_defaulted(*, actor: User | None, plan: InstallmentPlan, reason: str = "") -> InstallmentPlan:
    """Mark an active plan defaulted (overdue past the merchant's limit); a payment that brings it up to date
    makes it active again. ``actor`` is None when the daily job does it."""
    if actor is not None:
        permission_require(actor, Action.PLAN_DECIDE)
        _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan,
        InstallmentPlan.ACTION_STATUSES["mark_defaulted"],
        _("Plan %(plan)s is %(status)s: it cannot be marked defaulted."),
    )
    plan.status = Status.DEFAULTED
    plan.status_reason = (reason or "").strip() or InstallmentPlan.DEFAULTED_REASON
    plan.status_changed_at = timezone.now()
    plan.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    merchant_stats_invalidate(plan.merchant_id)
    return plan


def _last_paid_on(rows: list[Installment]) -> dict:
    """The date of the last completed payment allocated to each of ``rows``: a closed row was paid then."""
    found = (
        Installment.objects.filter(pk__in=[row.pk for row in rows])
        .filter(allocations__payment__status="completed", allocations__amount__gt=0)
        .annotate(last=Max("allocations__payment__payment_date"))
        .values_list("pk", "last")
    )
    return dict(found)


@audit.action("plan.reschedule")
@transaction.atomic
def plan_reschedule(
    *,
    actor: User,
    plan: InstallmentPlan,
    number_of_installments: int,
    installment_frequency: str,
    start_date: date,
    first_due_date: date | None = None,
    reason: str = "",
) -> InstallmentPlan:
    """Spread the unpaid remainder (principal and interest) over new rows numbered on from the rows kept and due
    after the last paid one; unpaid rows stay for history, superseded, and a partly paid row is closed at what was
    paid on it. Late fees already charged stay where they are and are still collected first."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["reschedule"], _("Plan %(plan)s is %(status)s: it cannot be rescheduled.")
    )
    current = list(Installment.objects.select_for_update(of=("self",)).current().filter(plan=plan).order_by("number"))
    rows = [row for row in current if row.amount_paid < row.amount_due]
    if not rows:
        raise ValidationError({"plan": _("Plan %(plan)s has nothing left to reschedule.") % {"plan": plan.reference}})
    principal = sum((row.principal - row.principal_paid for row in rows), ZERO)
    interest = sum((row.interest - row.interest_paid for row in rows), ZERO)
    errors: dict[str, list[str]] = {}
    if start_date is None:
        errors["start_date"] = [_("This field is required.")]
    try:
        count = int(number_of_installments)
    except (TypeError, ValueError):
        errors["number_of_installments"] = [
            _("%(value)s is not a whole number.") % {"value": repr(number_of_installments)}
        ]
        count = 0
    dates_bound_check(errors, merchant_today(plan.merchant), start_date=start_date, first_due_date=first_due_date)
    if errors:
        raise ValidationError(errors)
    new_rows = schedule_split(
        currency=plan.merchant.currency,
        principal=principal,
        interest=interest,
        number_of_installments=count,
        frequency=installment_frequency,
        start_date=start_date,
        first_due_date=first_due_date,
    )
    # A partly paid row stays in force, closed at what was paid on it; only its remainder moves. Rows with
    # nothing paid are superseded. So the rows in force keep adding up to what is financed.
    closed = [row for row in rows if row.amount_paid > 0]
    superseded = [row for row in rows if row.amount_paid == 0]
    kept = [row for row in current if row.amount_paid > 0]
    last_kept = max(kept, key=lambda row: (row.due_date, row.number), default=None)
    if last_kept is not None and new_rows[0].due_date <= last_kept.due_date:
        raise ValidationError(
            {
                "first_due_date" if first_due_date else "start_date": _(
                    "The new schedule would start on %(first)s, not after %(last)s, the due date of installment "
                    "%(number)s, which is paid or partly paid: choose a first due date after %(last)s."
                )
                % {"first": new_rows[0].due_date, "last": last_kept.due_date, "number": last_kept.number}
            }
        )
    first_number = max((row.number for row in kept), default=0) + 1
    now = timezone.now()
    paid_on = _last_paid_on(closed)
    for row in closed:
        row.principal, row.interest, row.amount_due = row.principal_paid, row.interest_paid, row.amount_paid
        row.status = Installment.Status.PAID
        row.paid_on = paid_on.get(row.pk) or merchant_today(plan.merchant)
        row.updated_at = now
    Installment.objects.bulk_update(closed, ["principal", "interest", "amount_due", "status", "paid_on", "updated_at"])
    Installment.objects.filter(pk__in=[row.pk for row in superseded]).update(superseded_at=now, updated_at=now)
    # Numbering carries on after the rows kept in force, so no number in force restarts or repeats.
    numbered = [
        ScheduleRow(
            number=first_number + index,
            due_date=row.due_date,
            amount=row.amount,
            principal=row.principal,
            interest=row.interest,
        )
        for index, row in enumerate(new_rows)
    ]
    _installments_create(plan, numbered)
    plan.number_of_installments = len(kept) + len(numbered)
    plan.installment_frequency = installment_frequency
    plan.installment_amount = numbered[0].amount
    plan.due_date = numbered[-1].due_date
    plan.rescheduled_at = now
    plan.status = Status.ACTIVE
    plan.status_reason = (reason or "").strip() or "Rescheduled."
    plan.status_changed_at = now
    plan.save()
    merchant_stats_invalidate(plan.merchant_id)
    return plan


@audit.action("plan.update")
@transaction.atomic
def plan_update(*, actor: User, plan: InstallmentPlan, notes: str) -> InstallmentPlan:
    """Only the notes of a plan change in place; its terms change through reschedule."""
    permission_require(actor, Action.PLAN_CREATE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    plan.notes = notes or ""
    plan.save(update_fields=["notes", "updated_at"])
    return plan


@audit.action("plan.delete")
@transaction.atomic
def plan_delete(*, actor: User, plan: InstallmentPlan) -> None:
    """Delete a plan nothing was ever paid on (a mistake); a plan that moved money is cancelled instead."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk)
    if plan.last_payment_number > 0 or plan.amount_paid > 0 or plan.late_fees > 0:
        raise ValidationError(
            {
                "plan": ValidationError(
                    _("Plan %(plan)s has payments or fees: cancel it instead of deleting it.")
                    % {"plan": plan.reference},
                    code=ErrorCode.HAS_PAYMENTS,
                )
            }
        )
    plan.installments.all().delete()
    plan.delete()
    merchant_stats_invalidate(plan.merchant_id)


@audit.action("late_fee.charge")
@transaction.atomic
def late_fee_charge(*, installment: Installment, period: date, actor: User | None = None) -> LateFee:
    """Charge the merchant's late fee (``late_fee_amount``, the daily job's rule) once on an overdue installment
    for ``period``; the same period twice is refused by the database's unique key (the daily job does this
    set-based for many rows)."""
    plan = plan_lock(plan_id=installment.plan_id, no_key=True)
    installment = Installment.objects.select_for_update(of=("self",)).get(pk=installment.pk)
    if not plan.is_open:
        raise ValidationError(
            {
                "status": _("Plan %(plan)s is %(status)s: no late fee is charged.")
                % {"plan": plan.reference, "status": plan.get_status_display().lower()}
            }
        )
    if not installment_is_unpaid(installment):
        raise ValidationError(
            {"installment": _("Installment %(number)s is not overdue.") % {"number": installment.number}}
        )
    amount = late_fee_amount(installment=installment, merchant=plan.merchant)
    if amount <= 0:
        raise ValidationError(
            {
                "installment": _("No late fee is due on installment %(number)s under %(merchant)s's late fee settings.")
                % {"merchant": plan.merchant.name, "number": installment.number}
            }
        )
    try:
        with transaction.atomic():
            fee = LateFee.objects.create(
                merchant_id=plan.merchant_id,
                plan=plan,
                installment=installment,
                period=period,
                amount=amount,
                charged_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {
                "period": ValidationError(
                    _("A late fee for %(period)s is already charged on installment %(number)s.")
                    % {"period": period, "number": installment.number},
                    code=ErrorCode.DUPLICATE,
                )
            }
        ) from exc
    Installment.objects.filter(pk=installment.pk).update(late_fee=F("late_fee") + amount)
    InstallmentPlan.objects.filter(pk=plan.pk).update(late_fees=F("late_fees") + amount)
    merchant_stats_invalidate(plan.merchant_id)
    return fee


def installment_status_for(installment: Installment, *, today: date, grace_days: int) -> str:
    """Paid, overdue (past due date plus grace and not fully paid), partially paid, or pending."""
    if installment.amount_paid >= installment.amount_due:
        return Installment.Status.PAID
    if (today - installment.due_date).days > grace_days:
        return Installment.Status.OVERDUE
    if installment.amount_paid > 0:
        return Installment.Status.PARTIALLY_PAID
    return Installment.Status.PENDING
