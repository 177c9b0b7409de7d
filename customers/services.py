"""Customers: create and edit, phone numbers normalised to E.164 with the merchant's country."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.events import event_emit, events_emit_many
from taqsit.models import User
from taqsit.permissions import Action, permission_require
from taqsit.phone import phone_normalize
from taqsit.services import fields_refuse, model_save, model_update, model_validate

EDITABLE_FIELDS = (
    "name",
    "phone",
    "email",
    "national_id",
    "address",
    "language",
    "notes",
    "sms_opt_out",
    "email_opt_out",
    "preferred_channel",
)


def phone_taken_message(twin: Customer, phone: str) -> str:
    """The refusal of a phone another customer of the merchant has (the admin's form says it too)."""
    return _("%(name)s already has the phone %(phone)s.") % {"name": twin.name, "phone": phone}


def national_id_taken_message(twin: Customer, national_id: str) -> str:
    """The refusal of a national id another customer of the merchant has."""
    return _("%(name)s already has the national id %(national_id)s.") % {"name": twin.name, "national_id": national_id}


def _customer_check(customer: Customer) -> dict[str, list[str]]:
    """The phone in E.164 and, like the national id, not another customer's of the merchant."""
    errors: dict[str, list[str]] = {}
    try:
        customer.phone = phone_normalize(customer.phone, region=customer.merchant.country)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    customer.name = (customer.name or "").strip()
    customer.national_id = (customer.national_id or "").strip()
    others = Customer.objects.filter(merchant_id=customer.merchant_id).exclude(pk=customer.pk)
    if "phone" not in errors:
        twin = others.filter(phone=customer.phone).first()
        if twin is not None:
            errors["phone"] = [phone_taken_message(twin, customer.phone)]
    if customer.national_id:
        twin = others.filter(national_id__iexact=customer.national_id).first()
        if twin is not None:
            errors["national_id"] = [national_id_taken_message(twin, customer.national_id)]
    return errors


def customer_validate(*, customer: Customer) -> Customer:
    """Normalise ``customer`` in place (phone to E.164 in the merchant's country, names trimmed) and refuse what
    ``customer_create``/``customer_update`` would refuse, each on its field; reads only, writes nothing."""
    return model_validate(instance=customer, validate=_customer_check)


def _customer_conflict(customer: Customer) -> dict[str, str]:
    # Two clerks registering the same phone at the same moment: the unique constraint decides.
    return {"phone": _("A customer with the phone %(phone)s already exists.") % {"phone": customer.phone}}


@audit.action("customer.create")
@transaction.atomic
def customer_create(*, actor: User, merchant=None, **fields: Any) -> Customer:
    """Register a customer of the actor's merchant (platform admins name the merchant)."""
    permission_require(actor, Action.CUSTOMER_WRITE)
    merchant = merchant if actor.is_superuser and merchant is not None else actor.merchant
    if merchant is None:
        raise ValidationError({"merchant": _("Choose the merchant this customer belongs to.")})
    fields_refuse(data=fields, fields=EDITABLE_FIELDS)
    customer = Customer(merchant=merchant, created_by=actor, **fields)
    model_save(instance=customer, validate=_customer_check, conflict=_customer_conflict)
    event_emit(event_type="customer.created", obj=customer)
    return customer


@audit.action("customer.update")
@transaction.atomic
def customer_update(*, actor: User, customer: Customer, **fields: Any) -> Customer:
    """Edit a customer; the phone stays unique within the merchant."""
    permission_require(actor, Action.CUSTOMER_WRITE)
    if not actor.is_superuser and customer.merchant_id != actor.merchant_id:
        raise Customer.DoesNotExist
    customer = model_update(
        instance=Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk),
        fields=EDITABLE_FIELDS,
        data=fields,
        validate=_customer_check,
        conflict=_customer_conflict,
    )
    # The statistics name the customers with the most overdue.
    merchant_stats_invalidate(customer.merchant_id)
    return customer


SELF_REGISTER_FIELDS = ("name", "phone", "email", "national_id", "language")


def customer_self_register_validate(*, merchant, **fields: Any) -> dict[str, Any]:
    """A customer's own registration details (the portal), normalised as a clerk's would be: the phone in E.164
    in the merchant's country, names trimmed, the e-mail checked. Whether another customer has the phone or the
    national id is not checked here: the portal must not tell (``customer_self_register`` refuses a twin)."""
    fields_refuse(data=fields, fields=SELF_REGISTER_FIELDS)
    customer = Customer(merchant=merchant, **fields)
    errors: dict[str, list[str]] = {}
    try:
        customer.phone = phone_normalize(customer.phone, region=merchant.country)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    customer.name = (customer.name or "").strip()
    customer.national_id = (customer.national_id or "").strip()
    customer.email = (customer.email or "").strip().lower()
    try:
        customer.full_clean(exclude=[*errors, "merchant"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return {name: getattr(customer, name) for name in SELF_REGISTER_FIELDS}


@audit.action("customer.self_register")
@transaction.atomic
def customer_self_register(*, merchant, **fields: Any) -> Customer:
    """A customer registers themselves on the merchant's portal (once their phone is proven): the checks of
    ``customer_create``, no staff actor, origin ``portal``; the audit trail credits the customer."""
    fields_refuse(data=fields, fields=SELF_REGISTER_FIELDS)
    customer = Customer(merchant=merchant, created_by=None, origin=Customer.Origin.PORTAL, **fields)
    with audit.context(actor_customer=str(customer.pk), merchant=str(merchant.pk), actor=None, role=None):
        model_save(instance=customer, validate=_customer_check, conflict=_customer_conflict)
        event_emit(event_type="customer.created", obj=customer)
    return customer


@audit.action("customer.import")
@transaction.atomic
def customers_import(*, actor: User, merchant, customers: list[dict[str, Any]]) -> list[Customer]:
    """Register many customers of ``merchant`` at once (a spreadsheet), set-based: each normalised and validated
    as ``customer_create`` would (phone to E.164 in the merchant's country); their phones and national ids are
    checked against the merchant's other customers by the caller, and the unique constraints refuse the whole
    batch if one slipped through."""
    permission_require(actor, Action.CUSTOMER_WRITE)
    if not actor.is_superuser and actor.merchant_id != merchant.pk:
        raise ValidationError({"merchant": _("Choose the merchant this customer belongs to.")})
    rows = []
    for fields in customers:
        fields_refuse(data=fields, fields=EDITABLE_FIELDS)
        customer = Customer(merchant=merchant, created_by=actor, **fields)
        customer.phone = phone_normalize(customer.phone, region=merchant.country)
        customer.name, customer.national_id = customer.name.strip(), customer.national_id.strip()
        customer.full_clean(validate_unique=False, validate_constraints=False)
        rows.append(customer)
    created = Customer.objects.bulk_create(rows, batch_size=2000)
    events_emit_many(event_type="customer.created", objects=created, merchant_id=merchant.pk)
    merchant_stats_invalidate(merchant.pk)
    return created
