"""Reading the audit trail: a merchant's entries, a plan's or a customer's history, and what an entry changed in
words a person reads (the fields' names and the choices' labels, in the page's language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from auditlog.capture import TRACKED
from auditlog.models import Entry
from taqsit.money import MoneyField
from taqsit.templatetags.taqsit_tags import money


def entry_list(*, merchant_id) -> QuerySet[Entry]:
    """A merchant's entries, newest first, with their actors."""
    return Entry.objects.filter(merchant_id=merchant_id).select_related("actor").order_by("-id")


def plan_history(*, plan) -> QuerySet[Entry]:
    """What was written about a plan: the plan, its items, schedule, late fees, payments and their allocations."""
    return entry_list(merchant_id=plan.merchant_id).filter(plan_id=plan.pk)


def customer_history(*, customer) -> QuerySet[Entry]:
    """What was written about a customer: the customer, its plans and its notifications."""
    return entry_list(merchant_id=customer.merchant_id).filter(customer_id=customer.pk)


def object_type_choices() -> list[tuple[str, str]]:
    """The object types the database captures (model labels), named as the models name themselves."""
    choices = [(tracked.label, capfirst(apps.get_model(tracked.model)._meta.verbose_name)) for tracked in TRACKED]
    return sorted(choices)


@dataclass(frozen=True)
class Change:
    field: str  # the column, as stored
    label: str  # the field's name, in the active language
    before: Any
    after: Any


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_label(entry: Entry) -> str:
    """``Payment``, ``Installment plan``...: the model's name, or the stored type for what no model describes."""
    model = _model(entry.object_type)
    return capfirst(model._meta.verbose_name) if model is not None else entry.object_type


def _display(field: models.Field | None, value: Any, currency: str | None) -> Any:
    """A stored value as a person reads it: a choice's label, money in the currency, a date and time in the
    current time zone."""
    if value is None or field is None:
        return value
    if isinstance(field, MoneyField) and currency:
        return money(value, currency)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            return timezone.localtime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, Decimal | float):
        return str(value)
    return value


def entry_changes(entry: Entry, *, currency: str | None = None) -> list[Change]:
    """The entry's fields, before and after (one side empty for a creation or a deletion), in the model's order;
    amounts written in ``currency`` (the merchant's) when given."""
    before, after = entry.before or {}, entry.after or {}
    model = _model(entry.object_type)
    fields = {field.column: field for field in model._meta.concrete_fields} if model is not None else {}
    order = {column: index for index, column in enumerate(fields)}
    columns = sorted(set(before) | set(after), key=lambda column: (order.get(column, len(order)), column))
    changes = []
    for column in columns:
        field = fields.get(column)
        label = capfirst(field.verbose_name) if field is not None else column
        shown = [_display(field, side.get(column), currency) for side in (before, after)]
        changes.append(Change(column, label, *shown))
    return changes
