"""Fixtures shared by the installments suites."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make


@pytest.fixture
def overdue_book(merchant, owner, today):
    """On 2026-03-01: Ali's #1 is 14 days overdue (200.00); Badr's #1 and #2 are 59 and 28 days overdue
    (100.00 each); Chadi's #1 is 14 days overdue (350.00)."""
    ali = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name="Ali", phone="+14155550111"))
    badr = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name="Badr", phone="+14155550122"),
        total_amount=Decimal("500.00"),
        down_payment=Decimal("100.00"),
        start_date=date(2025, 12, 1),
    )
    chadi = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name="Chadi", phone="+14155550133"),
        total_amount=Decimal("1600.00"),
        down_payment=Decimal("200.00"),
    )
    return ali, badr, chadi
