"""Products by factory; plans only through ``plan_create`` so every invariant the service keeps holds."""

from datetime import date
from decimal import Decimal

import factory

from installments.models import InstallmentPlan, Product
from installments.services import plan_create
from taqsit.models import User
from taqsit.tests.factories import MerchantFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("500.00")


def plan_make(*, actor: User, customer, **overrides) -> InstallmentPlan:
    """A plan of 1000.00 with 200.00 down, 4 monthly installments of 200.00 from 2026-01-15, unless overridden."""
    terms = {
        "total_amount": Decimal("1000.00"),
        "down_payment": Decimal("200.00"),
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": date(2026, 1, 15),
    }
    terms.update(overrides)
    return plan_create(actor=actor, customer=customer, **terms)
