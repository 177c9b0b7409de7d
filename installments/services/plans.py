"""A plan's terms (validated, previewed) and the plan itself: create, create with a new customer, update its notes,
delete one nothing was paid on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.services import customer_create
from installments.disclosure import CostOfCredit, schedule_disclosure
from installments.locks import plan_lock
from installments.models import InstallmentPlan, PlanItem, Product, serial_normalize
from installments.schedule import FinanceChargeMethod, Schedule, schedule_build
from installments.services._common import (
    Status,
    _installments_create,
    _items_create,
    _money_check,
    _plan_activate,
    _same_merchant,
)
from installments.services.guarantors import guarantor_policy_check, guarantors_create, guarantors_parse
from installments.summaries import plan_totals_tracked
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.events import event_emit
from taqsit.models import Merchant, User
from taqsit.money import ZERO, as_decimal, to_money
from taqsit.money_format import money_figure
from taqsit.permissions import Action, permission_require


@dataclass(frozen=True)
class ItemInput:
    product: Product | None
    description: str
    quantity: int
    unit_price: Decimal
    serial_number: str = ""

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
        serial = serial_normalize(raw.get("serial_number"))
        if len(serial) > SERIAL_MAX_LENGTH:
            problems.append(
                _("Item %(number)s: the serial number has more than %(limit)s characters.")
                % {"number": index, "limit": SERIAL_MAX_LENGTH}
            )
            continue
        parsed.append(
            ItemInput(
                product=product, description=description, quantity=quantity, unit_price=price, serial_number=serial
            )
        )
    problems += serials_problems(merchant=merchant, serials=[item.serial_number for item in parsed])
    return parsed, ({"items": problems} if problems else {})


SERIAL_MAX_LENGTH = PlanItem._meta.get_field("serial_number").max_length


def serial_taken_message(serial: str, plan: InstallmentPlan) -> str:
    return _("The serial number %(serial)s is already on plan %(plan)s, which is still open.") % {
        "serial": serial,
        "plan": plan.reference,
    }


def serials_problems(*, merchant: Merchant, serials: list[str]) -> list[str]:
    """Why these serials (normalised) cannot be sold on credit now: given twice, or held by an open plan of the
    merchant (pending, active or defaulted). One query, whatever the number of items."""
    given = [serial for serial in serials if serial]
    problems = [
        _("The serial number %(serial)s is given twice.") % {"serial": serial}
        for serial in sorted({serial for serial in given if given.count(serial) > 1})
    ]
    held = (
        PlanItem.objects.filter(merchant=merchant, is_open=True, serial_number__in=set(given))
        .select_related("plan")
        .order_by("serial_number")
        if given
        else []
    )
    return problems + [serial_taken_message(item.serial_number, item.plan) for item in held]


@dataclass(frozen=True)
class PlanTerms:
    """Everything a schedule is built from, validated; shared by preview and create."""

    merchant: Merchant
    items: list[ItemInput]
    schedule: Schedule
    finance_charge_method: str
    interest_rate: Decimal
    first_due_date: date | None
    disclosure: CostOfCredit  # the cost of credit of this schedule; its APR is the plan's, fixed at signing


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
    if (
        merchant.sale_terms == Merchant.SaleTerms.MURABAHA
        and finance_charge_method == FinanceChargeMethod.DECLINING_BALANCE
    ):
        errors["finance_charge_method"] = [murabaha_declining_message()]
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
        disclosure=schedule_disclosure(
            schedule=schedule, start_date=start_date, frequency=installment_frequency, country=merchant.country
        ),
    )


def plan_from_terms(plan_terms: PlanTerms, **fields: Any) -> InstallmentPlan:
    """An unsaved plan with the figures of its terms (amounts, finance charge, APR, schedule's shape); ``fields``
    give the rest (number, customer, status, frequency, start date...)."""
    schedule = plan_terms.schedule
    return InstallmentPlan(
        merchant=plan_terms.merchant,
        total_amount=schedule.total_amount,
        down_payment=schedule.down_payment,
        finance_charge_method=plan_terms.finance_charge_method,
        interest_rate=plan_terms.interest_rate,
        finance_charge=schedule.finance_charge,
        apr=plan_terms.disclosure.apr,
        total_payable=schedule.total_payable,
        installment_amount=schedule.installment_amount,
        number_of_installments=schedule.number_of_installments,
        first_due_date=plan_terms.first_due_date,
        due_date=schedule.last_due_date,
        **fields,
    )


def murabaha_declining_message() -> str:
    return _(
        "Under murabaha terms the markup is fixed when the sale is signed: choose a flat finance charge or none, "
        "not a declining balance."
    )


@audit.action("plan.create")
@transaction.atomic
def plan_create(
    *,
    actor: User,
    customer: Customer,
    notes: str = "",
    sale_reference: str = "",
    guarantors: list[dict] | None = None,
    idempotency_key: str | None = None,
    replay: bool = True,
    **terms: Any,
) -> InstallmentPlan:
    """Create a plan, its items (with their serial numbers), its guarantors and its schedule: active (down payment
    recorded), or pending when approval is required. A serial held by another open plan of the merchant, or an
    amount financed above the merchant's guarantor threshold without a guarantor, is refused.

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
    sale_reference = (sale_reference or "").strip()
    parsed_guarantors, errors = guarantors_parse(merchant=merchant, guarantors=guarantors, customer=customer)
    if len(sale_reference) > SALE_REFERENCE_MAX_LENGTH:
        errors["sale_reference"] = [_("At most %(limit)s characters.") % {"limit": SALE_REFERENCE_MAX_LENGTH}]
    try:
        plan_terms = plan_terms_build(merchant=merchant, **terms)
    except ValidationError as exc:
        raise ValidationError({**exc.update_error_dict({}), **errors}) from exc
    schedule = plan_terms.schedule
    errors.update(
        guarantor_policy_check(
            merchant=merchant,
            amount_financed=schedule.total_amount - schedule.down_payment,
            count=len(parsed_guarantors) + len(errors.get("guarantors", [])),
        )
    )
    if errors:
        raise ValidationError(errors)
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
    plan = plan_from_terms(
        plan_terms,
        number=number,
        customer=customer,
        status=Status.PENDING,
        installment_frequency=terms.get("installment_frequency"),
        start_date=terms.get("start_date"),
        notes=notes or "",
        sale_reference=sale_reference,
        created_by=actor,
        idempotency_key=idempotency_key or None,
    )
    plan.save(force_insert=True)
    with plan_totals_tracked(plan=plan, created=True):
        _plan_items_create(plan, plan_terms.items)
        guarantors_create(plan=plan, guarantors=parsed_guarantors, actor=actor)
        _installments_create(plan, schedule.rows)
        if not merchant.requires_approval:
            _plan_activate(plan, actor, event_type="plan.created")
            plan.refresh_from_db()
    if merchant.requires_approval:
        event_emit(event_type="plan.created", obj=plan)
    merchant_stats_invalidate(merchant.pk)
    return plan


SALE_REFERENCE_MAX_LENGTH = InstallmentPlan._meta.get_field("sale_reference").max_length


def _plan_items_create(plan: InstallmentPlan, items: list[ItemInput]) -> None:
    """The items, in a savepoint: a serial another clerk sold on credit since the terms were checked meets the
    unique index, and is refused with the plan that now holds it."""
    try:
        with transaction.atomic():
            _items_create(plan, items)
    except IntegrityError as exc:
        if "plan_item_serial_unique_open" not in str(exc):
            raise
        problems = serials_problems(merchant=plan.merchant, serials=[item.serial_number for item in items])
        raise ValidationError(
            {"items": problems or [_("A serial number of these items was just sold on credit.")]}
        ) from exc


@transaction.atomic
def plan_create_with_customer(*, actor: User, customer: dict[str, Any], **plan_fields: Any) -> InstallmentPlan:
    """A new customer (``customer_create``'s fields) and their plan (``plan_create``'s), saved together or not at
    all: a refusal of either leaves neither. Each keeps its own audit action."""
    created = customer_create(actor=actor, **customer)
    return plan_create(actor=actor, customer=created, **plan_fields)


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
    with plan_totals_tracked(plan=plan):
        plan.installments.all().delete()
        plan.delete()
    merchant_stats_invalidate(plan.merchant_id)
