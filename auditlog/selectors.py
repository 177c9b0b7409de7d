"""Reading the audit trail: a merchant's entries, a plan's or a customer's history, and what an entry changed in
words a person reads (the fields' names and the choices' labels, in the page's language)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from auditlog.capture import TRACKED
from auditlog.models import Entry
from taqsit.audit import Source
from taqsit.money import MoneyField
from taqsit.money_format import money_html


def entry_list(*, merchant_id) -> QuerySet[Entry]:
    """A merchant's entries, newest first, with their actors."""
    return Entry.objects.filter(merchant_id=merchant_id).select_related("actor").order_by("-id")


def plan_history(*, plan) -> QuerySet[Entry]:
    """What was written about a plan: the plan, its items, schedule, late fees, payments and their allocations."""
    return entry_list(merchant_id=plan.merchant_id).filter(plan_id=plan.pk)


def customer_history(*, customer) -> QuerySet[Entry]:
    """What was written about a customer: the customer, its plans and its notifications."""
    return entry_list(merchant_id=customer.merchant_id).filter(customer_id=customer.pk)


def customer_portal_activity(*, customer, limit: int = 20) -> list[Entry]:
    """What happened on the portal for a customer, newest first: what they did there (they are the actor) and
    what was written about them from a portal address (a personal link used), the latest ``limit``."""
    return list(
        entry_list(merchant_id=customer.merchant_id)
        .filter(source=Source.PORTAL)
        .filter(Q(actor_customer_id=customer.pk) | Q(customer_id=customer.pk))[:limit]
    )


def portal_activity_label(entry: Entry) -> str:
    """What a portal entry means, in the page's language: the business action when one was named, a personal
    link opening the portal, else what was written ("Changed: Notification")."""
    if entry.action:
        return action_label(entry.action)
    if entry.object_type == "customers.portallink" and "last_used_at" in (entry.after or {}):
        return str(_("Opened the portal with a personal link"))
    return f"{entry.get_operation_display()}: {object_label(entry)}"


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


def when_text(value: datetime) -> str:
    """A moment as the page's language writes a short date and a time (day/month in Arabic and Spanish), in the
    current time zone."""
    value = timezone.localtime(value)
    return f"{date_format(value, 'SHORT_DATE_FORMAT')} {time_format(value, 'TIME_FORMAT')}"


def _is_user_field(field: models.Field | None) -> bool:
    return isinstance(field, models.ForeignKey) and field.related_model is get_user_model()


def _display(field: models.Field | None, value: Any, currency: str | None, users: dict[str, str]) -> Any:
    """A stored value as a person reads it: a choice's label, money in the currency, a date and time in the
    current time zone, a member of staff by name."""
    if value is None or field is None:
        return value
    if isinstance(field, MoneyField) and currency:
        return money_html(value, currency)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if _is_user_field(field):
        return users.get(str(value), value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            return when_text(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(field, models.DateField) and isinstance(value, str):
        try:
            return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    if isinstance(value, Decimal | float):
        return str(value)
    return value


def users_named(entries: Iterable[Entry], *, merchant_id) -> dict[str, str]:
    """The merchant's staff that ``entries`` name in a user column (received by, created by...), by id: one
    query, none when no entry names one. Another merchant's user stays an id."""
    ids = set()
    for entry in entries:
        model = _model(entry.object_type)
        if model is None:
            continue
        for field in model._meta.concrete_fields:
            if _is_user_field(field):
                ids.update(side.get(field.column) for side in (entry.before or {}, entry.after or {}))
    ids.discard(None)
    if not ids:
        return {}
    staff = get_user_model().objects.filter(merchant_id=merchant_id, pk__in=ids)
    return {str(user.pk): str(user) for user in staff}


# What the services call their actions (taqsit/audit.py ``@action``), as a person reads them.
ACTION_LABELS = {
    "customer.create": _("Customer added"),
    "customer.import": _("Customers imported"),
    "import.confirm": _("Import confirmed"),
    "import.run": _("Spreadsheet imported"),
    "plan.import": _("Plans imported"),
    "product.import": _("Products imported"),
    "customer.merge": _("Customers merged"),
    "customer.update": _("Customer edited"),
    "installments.mark_overdue": _("Installments marked overdue"),
    "late_fee.charge": _("Late fee charged"),
    "late_fees.apply": _("Late fees applied"),
    "merchant.create": _("Merchant added"),
    "merchant.register": _("Merchant registered"),
    "merchant.update": _("Settings changed"),
    "notification.deliver": _("Message sent"),
    "notification.mark_read": _("Message read"),
    "notifications.dispatch": _("Messages sent"),
    "notifications.mark_all_read": _("All messages read"),
    "notifications.requeue": _("Messages queued again"),
    "payment.complete": _("Payment confirmed"),
    "payment.delete": _("Payment deleted"),
    "payment.fail": _("Payment failed"),
    "payment.post": _("Payment recorded"),
    "payment.refund": _("Payment refunded"),
    "payment.report": _("Payment reported by the customer"),
    "payment.update": _("Payment edited"),
    "payment.void": _("Payment voided"),
    "plan.apply": _("Plan applied for"),
    "plan.approve": _("Plan approved"),
    "plan.cancel": _("Plan cancelled"),
    "plan.create": _("Plan created"),
    "plan.delete": _("Plan deleted"),
    "plan.mark_defaulted": _("Plan defaulted"),
    "plan.reject": _("Plan rejected"),
    "plan.reschedule": _("Plan rescheduled"),
    "plan.update": _("Plan edited"),
    "plans.mark_defaulted": _("Plans defaulted"),
    "plans.restore_active": _("Plans active again"),
    "portal.code_request": _("Log-in code asked for"),
    "portal.code_verify": _("Logged in with a code"),
    "portal.language_set": _("Portal language changed"),
    "portal.link_issue": _("Portal link issued"),
    "portal.link_revoke": _("Portal links revoked"),
    "portal.register": _("Registered on the portal"),
    "product.create": _("Product added"),
    "product.update": _("Product edited"),
    "reminders.queue": _("Reminders queued"),
    "staff_digest.create": _("Staff digest written"),
    "user.create": _("Staff member added"),
    "user.update": _("Staff member edited"),
}


# Columns whose models name them without a translation (Django's default name from the field): their names here.
COLUMN_LABELS = {
    "id": _("Identifier"),
    "last_plan_number": _("Last plan number"),
    "last_payment_number": _("Last payment number"),
    "created_by_id": _("Created by"),
    "decided_by_id": _("Decided by"),
    "charged_by_id": _("Charged by"),
    "status_changed_at": _("Status changed at"),
    "rescheduled_at": _("Rescheduled at"),
    "idempotency_key": _("Idempotency key"),
    "plan_id": _("Plan"),
    "product_id": _("Product"),
    "payment_id": _("Payment"),
    "installment_id": _("Installment"),
    "principal_paid": _("Principal paid"),
    "interest_paid": _("Interest paid"),
    "reversed_by_id": _("Reversed by"),
    "reversal_of_id": _("Reversal of"),
}


def column_label(field: models.Field | None, column: str) -> str:
    """A column's name in the page's language: the field's own when translated, else ours, else the column."""
    if field is not None and isinstance(field.verbose_name, Promise):
        return capfirst(field.verbose_name)
    if column in COLUMN_LABELS:
        return str(COLUMN_LABELS[column])
    return capfirst(field.verbose_name) if field is not None else column


def action_label(action: str) -> str:
    """The action in the page's language ("Payment recorded" for ``payment.post``); an unknown one as stored."""
    return str(ACTION_LABELS.get(action, action))


def entry_changes(entry: Entry, *, currency: str | None = None, users: dict[str, str] | None = None) -> list[Change]:
    """The entry's fields, before and after (one side empty for a creation or a deletion), in the model's order;
    amounts written in ``currency`` (the merchant's) when given, staff named through ``users`` (``users_named``)."""
    before, after = entry.before or {}, entry.after or {}
    model = _model(entry.object_type)
    fields = {field.column: field for field in model._meta.concrete_fields} if model is not None else {}
    order = {column: index for index, column in enumerate(fields)}
    columns = sorted(set(before) | set(after), key=lambda column: (order.get(column, len(order)), column))
    changes = []
    for column in columns:
        field = fields.get(column)
        label = column_label(field, column)
        shown = [_display(field, side.get(column), currency, users or {}) for side in (before, after)]
        changes.append(Change(column, label, *shown))
    return changes
