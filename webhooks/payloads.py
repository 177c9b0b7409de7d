"""What an event says: the object as the API shows it (each app's API serializer), read once for a set of
objects, and the key that orders an endpoint's deliveries (the plan; the object itself for a customer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from rest_framework import serializers

from customers.models import Customer
from customers.serializers import CustomerSerializer
from installments.models import Installment, InstallmentPlan, LateFee
from installments.selectors import overdue_cutoff
from installments.serializers import CollectionInstallmentSerializer, PlanSerializer
from payments.selectors import payment_list
from payments.serializers import PaymentSerializer
from taqsit.models import Merchant
from taqsit.serializers import MoneyField


class LateFeeSerializer(serializers.ModelSerializer):
    """A late fee charged on an installment (the API shows fees inside plans and installments; this is the fee)."""

    plan_reference = serializers.CharField(source="plan.reference", read_only=True)
    installment_number = serializers.IntegerField(source="installment.number", read_only=True)
    amount = MoneyField()

    class Meta:
        model = LateFee
        fields = [
            "id",
            "plan",
            "plan_reference",
            "installment",
            "installment_number",
            "period",
            "amount",
            "is_charity",
            "created_at",
        ]
        read_only_fields = fields


@dataclass(frozen=True)
class ObjectKind:
    read: Callable[[Merchant, list], Any]  # the objects of these ids, with what their serializer reads
    serialize: Callable[[Merchant, Sequence[Any]], list[dict]]
    ordering_key: Callable[[Any], uuid.UUID]


def _plans(merchant: Merchant, ids: list):
    rows = Prefetch("installments", queryset=Installment.objects.order_by("number"))
    return (
        InstallmentPlan.objects.filter(merchant=merchant, pk__in=ids)
        .select_related("customer")
        .prefetch_related("items", "guarantors", rows)
    )


def _context(merchant: Merchant) -> dict:
    return {"currency": merchant.currency, "overdue_cutoff": overdue_cutoff(merchant)}


KINDS: dict[str, ObjectKind] = {
    "plan": ObjectKind(
        read=_plans,
        serialize=lambda merchant, rows: PlanSerializer(rows, many=True, context=_context(merchant)).data,
        ordering_key=lambda plan: plan.pk,
    ),
    "payment": ObjectKind(
        read=lambda merchant, ids: payment_list(merchant=merchant).filter(pk__in=ids),
        serialize=lambda merchant, rows: PaymentSerializer(rows, many=True, context=_context(merchant)).data,
        ordering_key=lambda payment: payment.plan_id,
    ),
    "installment": ObjectKind(
        read=lambda merchant, ids: Installment.objects.filter(merchant=merchant, pk__in=ids).select_related(
            "plan", "plan__customer"
        ),
        serialize=lambda merchant, rows: (
            CollectionInstallmentSerializer(rows, many=True, context=_context(merchant)).data
        ),
        ordering_key=lambda installment: installment.plan_id,
    ),
    "late_fee": ObjectKind(
        read=lambda merchant, ids: LateFee.objects.filter(merchant=merchant, pk__in=ids).select_related(
            "plan", "installment"
        ),
        serialize=lambda merchant, rows: LateFeeSerializer(rows, many=True, context=_context(merchant)).data,
        ordering_key=lambda fee: fee.plan_id,
    ),
    "customer": ObjectKind(
        read=lambda merchant, ids: Customer.objects.filter(merchant=merchant, pk__in=ids),
        serialize=lambda merchant, rows: CustomerSerializer(rows, many=True).data,
        ordering_key=lambda customer: customer.pk,
    ),
}


def objects_describe(*, event_type: str, merchant: Merchant, ids: list) -> list[tuple[Any, uuid.UUID, dict]]:
    """(id, ordering key, the object as the API shows it) for each of ``ids``, in their order, read at once."""
    kind = KINDS[event_type.split(".", 1)[0]]
    rows = {row.pk: row for row in kind.read(merchant, ids)}
    found = [rows[pk] for pk in ids if pk in rows]
    return [
        (row.pk, kind.ordering_key(row), data) for row, data in zip(found, kind.serialize(merchant, found), strict=True)
    ]
