"""Guarantors: who answers for a plan if its customer does not pay. Given when the plan is created (the merchant's
policy may require one above an amount financed), added later by a manager, removed only while the plan is an
application: once a plan is active the customer signed with its guarantors, and they stay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from installments.locks import plan_lock
from installments.models import Guarantor, InstallmentPlan
from installments.services._common import Status, _same_merchant
from taqsit import audit
from taqsit.models import Merchant, User
from taqsit.money_format import money_figure
from taqsit.permissions import Action, permission_require
from taqsit.phone import phone_normalize

GUARANTOR_FIELDS = ("name", "phone", "national_id", "address", "relation")
_MAX_LENGTHS = {
    name: Guarantor._meta.get_field(name).max_length for name in ("name", "national_id", "address", "relation")
}


def guarantor_parse(*, merchant: Merchant, data: dict[str, Any], customer: Customer | None = None) -> dict[str, str]:
    """One guarantor's fields, trimmed, the phone in E.164 in the merchant's country; a ValidationError per field.
    The customer cannot answer for their own plan."""
    values = {name: str(data.get(name) or "").strip() for name in GUARANTOR_FIELDS}
    errors: dict[str, list[str]] = {}
    if not values["name"]:
        errors["name"] = [_("Give the guarantor's name.")]
    for name, limit in _MAX_LENGTHS.items():
        if len(values[name]) > limit:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    try:
        values["phone"] = phone_normalize(values["phone"], region=merchant.country)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    if customer is not None and not errors:
        same_id = values["national_id"] and values["national_id"].upper() == (customer.national_id or "").upper()
        if same_id or values["phone"] == customer.phone:
            errors["name"] = [
                _("%(name)s is the customer: a guarantor must be someone else.") % {"name": customer.name}
            ]
    if errors:
        raise ValidationError(errors)
    return values


def guarantors_parse(
    *, merchant: Merchant, guarantors: list[dict] | None, customer: Customer | None = None
) -> tuple[list[dict[str, str]], dict]:
    """A plan's guarantors, each parsed; problems as ``{"guarantors": ["Guarantor 2: phone: ..."]}``."""
    parsed: list[dict[str, str]] = []
    problems: list[str] = []
    for index, raw in enumerate(guarantors or [], start=1):
        try:
            parsed.append(guarantor_parse(merchant=merchant, data=raw, customer=customer))
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                problems += [
                    _("Guarantor %(number)s: %(problem)s") % {"number": index, "problem": message}
                    for message in messages
                ]
    return parsed, ({"guarantors": problems} if problems else {})


def guarantor_required(*, merchant: Merchant, amount_financed: Decimal) -> bool:
    """The merchant's policy: a plan financing more than ``guarantor_required_above`` needs a guarantor."""
    limit = merchant.guarantor_required_above
    return limit is not None and amount_financed > limit


def guarantor_required_message(merchant: Merchant) -> str:
    return _("A plan financing more than %(limit)s needs a guarantor: add at least one.") % {
        "limit": money_figure(merchant.guarantor_required_above, merchant.currency)
    }


def guarantor_policy_check(*, merchant: Merchant, amount_financed: Decimal, count: int) -> dict:
    """The policy's refusal as an error dict (empty when the plan may go ahead)."""
    if count == 0 and guarantor_required(merchant=merchant, amount_financed=amount_financed):
        return {"guarantors": [guarantor_required_message(merchant)]}
    return {}


def guarantors_create(*, plan: InstallmentPlan, guarantors: list[dict[str, str]], actor: User | None) -> None:
    """The parsed guarantors of a new plan (``guarantors_parse``), in one INSERT."""
    Guarantor.objects.bulk_create(
        [Guarantor(merchant_id=plan.merchant_id, plan=plan, added_by=actor, **values) for values in guarantors]
    )


@audit.action("guarantor.add")
@transaction.atomic
def guarantor_add(*, actor: User, plan: InstallmentPlan, **fields: Any) -> Guarantor:
    """Add a guarantor to a plan still owed: to an application by whoever may create plans, to an active or
    defaulted plan by a manager only (the customer signed without them: it is a decision). Not to a closed plan."""
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    if plan.status not in InstallmentPlan.SERIAL_HOLDING_STATUSES:
        raise ValidationError(
            {
                "plan": _("Plan %(plan)s is %(status)s: it takes no new guarantor.")
                % {"plan": plan.reference, "status": plan.get_status_display().lower()}
            }
        )
    permission_require(actor, Action.PLAN_CREATE if plan.status == Status.PENDING else Action.PLAN_DECIDE)
    values = guarantor_parse(merchant=plan.merchant, data=fields, customer=plan.customer)
    return Guarantor.objects.create(merchant_id=plan.merchant_id, plan=plan, added_by=actor, **values)


@audit.action("guarantor.remove")
@transaction.atomic
def guarantor_remove(*, actor: User, guarantor: Guarantor) -> None:
    """Remove a guarantor from an application (a mistake before approval); a plan that is or was collected keeps
    its guarantors: they are part of what the customer signed."""
    permission_require(actor, Action.PLAN_CREATE)
    _same_merchant(actor, guarantor)
    plan = plan_lock(plan_id=guarantor.plan_id, no_key=True)
    if plan.status != Status.PENDING:
        raise ValidationError(
            {
                "guarantor": _(
                    "Plan %(plan)s is %(status)s: its guarantors stay on it; only an application's can be removed."
                )
                % {"plan": plan.reference, "status": plan.get_status_display().lower()}
            }
        )
    Guarantor.objects.filter(pk=guarantor.pk).delete()
