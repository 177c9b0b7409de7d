"""Customers: create and edit, phone numbers normalised to E.164 with the merchant's country."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import Customer
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.models import User
from taqsit.permissions import Action, permission_require
from taqsit.phone import phone_normalize

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
)


def _customer_save(customer: Customer) -> Customer:
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
            errors["phone"] = [f"{twin.name} already has the phone {customer.phone}."]
    if customer.national_id:
        twin = others.filter(national_id__iexact=customer.national_id).first()
        if twin is not None:
            errors["national_id"] = [f"{twin.name} already has the national id {customer.national_id}."]
    try:
        # Uniqueness is reported above with the field's name; the database constraints still back it up.
        customer.full_clean(exclude=["phone"] if "phone" in errors else None, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # Two clerks registering the same phone at the same moment: the unique constraint decides.
        raise ValidationError({"phone": f"A customer with the phone {customer.phone} already exists."}) from exc
    return customer


@audit.action("customer.create")
@transaction.atomic
def customer_create(*, actor: User, merchant=None, **fields: Any) -> Customer:
    """Register a customer of the actor's merchant (platform admins name the merchant)."""
    permission_require(actor, Action.CUSTOMER_WRITE)
    merchant = merchant if actor.is_superuser and merchant is not None else actor.merchant
    if merchant is None:
        raise ValidationError({"merchant": "Choose the merchant this customer belongs to."})
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    customer = Customer(merchant=merchant, created_by=actor, **fields)
    return _customer_save(customer)


@audit.action("customer.update")
@transaction.atomic
def customer_update(*, actor: User, customer: Customer, **fields: Any) -> Customer:
    """Edit a customer; the phone stays unique within the merchant."""
    permission_require(actor, Action.CUSTOMER_WRITE)
    if not actor.is_superuser and customer.merchant_id != actor.merchant_id:
        raise Customer.DoesNotExist
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for name, value in fields.items():
        setattr(customer, name, value)
    # The statistics name the customers with the most overdue.
    merchant_stats_invalidate(customer.merchant_id)
    return _customer_save(customer)
