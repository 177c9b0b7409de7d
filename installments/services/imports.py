"""Plans already running at a shop, brought in from a spreadsheet (the imports app): built in memory from the same
terms and schedule engine as ``plan_create`` (``plan_terms_build``), then written set-based, a table at a time.

The payments app records what was paid on them (``payments.services.plans_import``), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from installments.models import Installment, InstallmentPlan, PlanItem
from installments.services._common import Status, _installments_build, _items_build
from installments.services.plans import PlanTerms, plan_from_terms
from taqsit.bulk import rows_insert
from taqsit.models import Merchant, User
from taqsit.money import ZERO


@dataclass(frozen=True)
class PlanOpening:
    """A plan already running at the shop: its customer, its terms as ``plan_terms_build`` validated them, and
    what the customer has paid on the installments so far (the down payment apart) and when they last paid."""

    customer_id: Any
    terms: PlanTerms
    installment_frequency: str
    start_date: date
    sale_reference: str
    notes: str = ""
    paid_so_far: Decimal = ZERO
    last_payment_date: date | None = None


@dataclass
class PlanBuilt:
    """An opening's plan, items and schedule rows, unsaved: the payments app allocates on them in memory first."""

    opening: PlanOpening
    plan: InstallmentPlan
    items: list[PlanItem]
    rows: list[Installment]


def plans_opening_build(*, merchant: Merchant, actor: User, openings: Sequence[PlanOpening]) -> list[PlanBuilt]:
    """Unsaved active plans with their items and rows, numbered after the merchant's last plan: the merchant's
    row is locked and its counter moved by the whole batch in one UPDATE, so numbers stay gapless. No down payment
    is recorded and no signal sent: the caller records the payments and saves (``plans_opening_save``)."""
    Merchant.objects.filter(pk=merchant.pk).update(last_plan_number=F("last_plan_number") + len(openings))
    last = Merchant.objects.values_list("last_plan_number", flat=True).get(pk=merchant.pk)
    now = timezone.now()
    built: list[PlanBuilt] = []
    for offset, opening in enumerate(openings):
        terms, schedule = opening.terms, opening.terms.schedule
        plan = plan_from_terms(
            terms,
            number=last - len(openings) + offset + 1,
            customer_id=opening.customer_id,
            status=Status.ACTIVE,
            status_changed_at=now,
            installment_frequency=opening.installment_frequency,
            start_date=opening.start_date,
            notes=opening.notes,
            sale_reference=opening.sale_reference,
            created_by=actor,
        )
        # The merchant object, not only its id: the receipts' figures read its currency.
        plan.merchant = merchant
        items = _items_build(plan, terms.items)
        rows = _installments_build(plan, schedule.rows)
        built.append(PlanBuilt(opening=opening, plan=plan, items=items, rows=rows))
    return built


def plans_opening_save(built: Sequence[PlanBuilt]) -> None:
    """INSERT the plans, then their items, then their rows, set-based in bounded batches (``rows_insert``: the
    audit trail's statement triggers write one entry per row, as for any insert)."""
    rows_insert(InstallmentPlan, [entry.plan for entry in built])
    for entry in built:
        for child in (*entry.items, *entry.rows):
            child.plan_id = entry.plan.pk
        for item in entry.items:
            # A plan paid off before the import holds no serial (the status trigger fires on updates only).
            item.is_open = entry.plan.status in InstallmentPlan.SERIAL_HOLDING_STATUSES
    rows_insert(PlanItem, [item for entry in built for item in entry.items])
    rows_insert(Installment, [row for entry in built for row in entry.rows])
