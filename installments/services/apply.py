"""A customer's application for a plan (the portal's "apply"), and the live schedule preview it and the staff
new-plan page share.

An application is a plan in the approval queue: always pending, whatever the merchant's approval policy, with
origin ``portal``; its terms pass the same rules, with the same messages, as a plan the staff create.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer
from installments.models import InstallmentPlan, PlanItem
from installments.schedule import FinanceChargeMethod
from installments.services._common import Status, _installments_create, _items_create, _money_check
from installments.services.plans import PlanTerms, plan_terms_build
from installments.summaries import plan_totals_tracked
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import merchant_today
from taqsit.events import event_emit
from taqsit.models import Merchant
from taqsit.money import ZERO

DESCRIPTION_MAX_LENGTH = PlanItem._meta.get_field("description").max_length


def plan_preview(*, merchant: Merchant, **terms: Any) -> PlanTerms | None:
    """The schedule ``terms`` (``plan_terms_build``'s) would give and its cost of credit, nothing saved; None until
    a price (total or items) and a number or amount of installments are given. Raises ``plan_terms_build``'s
    ValidationError."""
    started = (terms.get("total_amount") or terms.get("items")) and (
        terms.get("number_of_installments") or terms.get("installment_amount")
    )
    if not started:
        return None
    return plan_terms_build(merchant=merchant, **terms)


def application_terms(
    *,
    merchant: Merchant,
    items: list[dict] | None = None,
    total_amount: Any = None,
    down_payment: Any = ZERO,
    number_of_installments: int | None = None,
    installment_frequency: str = "",
    start_date: date | None = None,
    description: str = "",
) -> dict[str, Any]:
    """``plan_terms_build``'s keyword arguments for a customer's application (``plan_apply`` and the portal's
    preview): a description without items becomes the sale's one line, at the total; the start date defaults to
    the merchant's today; no finance charge (a merchant has no default finance charge to apply to a customer's
    own request)."""
    description = (description or "").strip()
    if not items and description and _is_amount(total_amount, merchant.currency):
        items = [{"product": None, "description": description, "quantity": 1, "unit_price": total_amount}]
    return {
        "items": items or [],
        "total_amount": total_amount,
        "down_payment": ZERO if down_payment in (None, "") else down_payment,
        "number_of_installments": number_of_installments,
        "installment_frequency": installment_frequency,
        "start_date": start_date or merchant_today(merchant),
        "finance_charge_method": FinanceChargeMethod.NONE,
        "interest_rate": None,
    }


def _is_amount(value: Any, currency: str) -> bool:
    """A total the line can carry; a bad one is left to ``plan_terms_build``, which names ``total_amount``."""
    problems: dict = {}
    _money_check(problems, "total_amount", value, currency)
    return not problems


def _description_check(errors: dict, *, items: list[dict] | None, description: str) -> None:
    """What is applied for: products or lines in ``items``, or a description of it, one or the other."""
    description = (description or "").strip()
    if items and description:
        errors["description"] = [_("Describe what you want in the items, or give a description, not both.")]
    elif not items and not description:
        errors["description"] = [_("Describe what you want to buy, or choose a product.")]
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [
            ngettext(
                "Describe it in at most %(limit)d character.",
                "Describe it in at most %(limit)d characters.",
                DESCRIPTION_MAX_LENGTH,
            )
            % {"limit": DESCRIPTION_MAX_LENGTH}
        ]


def _open_applications_check(customer: Customer) -> None:
    limit = settings.PORTAL_OPEN_APPLICATIONS_MAX
    waiting = InstallmentPlan.objects.filter(
        merchant_id=customer.merchant_id,
        customer=customer,
        status=Status.PENDING,
        origin=InstallmentPlan.Origin.PORTAL,
    ).count()
    if waiting >= limit:
        raise ValidationError(
            {
                "customer": ngettext(
                    "You already have %(count)d application waiting for the shop's answer: wait for it before "
                    "applying again.",
                    "You already have %(count)d applications waiting for the shop's answer: wait for one of them "
                    "before applying again.",
                    waiting,
                )
                % {"count": waiting}
            }
        )


@audit.action("plan.apply")
@transaction.atomic
def plan_apply(
    *,
    customer: Customer,
    items: list[dict] | None = None,
    total_amount: Any = None,
    down_payment: Any = ZERO,
    number_of_installments: int | None = None,
    installment_frequency: str = "",
    start_date: date | None = None,
    description: str = "",
) -> InstallmentPlan:
    """The customer applies for a plan: the same terms and rules as ``plan_create``, always saved pending (the
    approval queue), origin portal, created by nobody on the staff. No down payment is recorded: approving it
    records the down payment as expected (``plan_approve``). At most PORTAL_OPEN_APPLICATIONS_MAX applications
    of one customer wait at once."""
    # Read the merchant afresh: it may have been deactivated since ``customer`` was loaded.
    merchant = Merchant.objects.get(pk=customer.merchant_id)
    if not merchant.is_active:
        raise ValidationError(
            {"merchant": _("%(shop)s is not taking applications at the moment.") % {"shop": merchant.name}}
        )
    errors: dict[str, list[str]] = {}
    _description_check(errors, items=items, description=description)
    terms = application_terms(
        merchant=merchant,
        items=items,
        total_amount=total_amount,
        down_payment=down_payment,
        number_of_installments=number_of_installments,
        installment_frequency=installment_frequency,
        start_date=start_date,
        description=description,
    )
    try:
        plan_terms = plan_terms_build(merchant=merchant, **terms)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    schedule = plan_terms.schedule
    # The merchant row's lock hands out gapless plan numbers, and makes the customer's applications one at a
    # time: two sent at the same second cannot both slip under the limit.
    Merchant.objects.filter(pk=merchant.pk).update(last_plan_number=F("last_plan_number") + 1)
    merchant.refresh_from_db(fields=["last_plan_number"])
    _open_applications_check(customer)
    plan = InstallmentPlan.objects.create(
        merchant=merchant,
        number=merchant.last_plan_number,
        customer=customer,
        status=Status.PENDING,
        origin=InstallmentPlan.Origin.PORTAL,
        total_amount=schedule.total_amount,
        down_payment=schedule.down_payment,
        finance_charge_method=plan_terms.finance_charge_method,
        interest_rate=plan_terms.interest_rate,
        finance_charge=schedule.finance_charge,
        apr=plan_terms.disclosure.apr,
        total_payable=schedule.total_payable,
        installment_amount=schedule.installment_amount,
        number_of_installments=schedule.number_of_installments,
        installment_frequency=terms["installment_frequency"],
        start_date=terms["start_date"],
        first_due_date=None,
        due_date=schedule.last_due_date,
        created_by=None,
    )
    with plan_totals_tracked(plan=plan, created=True):
        _items_create(plan, plan_terms.items)
        _installments_create(plan, schedule.rows)
    merchant_stats_invalidate(merchant.pk)
    event_emit(event_type="plan.created", obj=plan)
    return plan
