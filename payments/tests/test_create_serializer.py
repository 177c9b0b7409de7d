"""The payment's request serializer binds shallow copies of its declared fields (taqsit/serializers.py,
``DeclaredFieldsOnceMixin``): each request's fields its own, the class's prototypes never bound, the same answers
and errors as DRF's deep copies."""

from __future__ import annotations

import uuid
from decimal import Decimal

from payments.serializers import PaymentCreateSerializer


def test_each_serializer_binds_its_own_fields_and_leaves_the_prototypes_unbound():
    first, second = PaymentCreateSerializer(data={}), PaymentCreateSerializer(data={})

    assert list(first.fields) == [
        "plan",
        "amount",
        "payment_date",
        "payment_method",
        "payment_number",
        "reference",
        "notes",
        "status",
    ]
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field is not PaymentCreateSerializer._declared_fields[name]
        assert (field.parent, field.field_name) == (first, name)
        assert second.fields[name].parent is second
        assert PaymentCreateSerializer._declared_fields[name].field_name is None


def test_requests_one_after_another_validate_each_their_own_body():
    plan = uuid.uuid4()
    valid = PaymentCreateSerializer(data={"plan": str(plan), "amount": "250.00", "payment_method": "card"})
    refused = PaymentCreateSerializer(data={"plan": "nope", "amount": "1e3", "status": "refunded", "extra": 1})
    again = PaymentCreateSerializer(data={"plan": str(plan), "amount": "0.50"})

    assert valid.is_valid(), valid.errors
    assert not refused.is_valid()
    assert again.is_valid(), again.errors
    assert valid.validated_data == {
        "plan": plan,
        "amount": Decimal("250.00"),
        "payment_method": "card",
        "reference": "",
        "notes": "",
        "status": "completed",
    }
    assert again.validated_data["amount"] == Decimal("0.50")
    assert again.validated_data["payment_method"] == "cash"
    assert sorted(refused.errors) == ["amount", "extra", "plan", "status"]
    assert refused.errors["plan"] == ["Must be a valid UUID."]
    assert refused.errors["status"] == ['"refunded" is not a valid choice.']
