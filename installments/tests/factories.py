"""Products by factory; plans only through ``plan_create`` so every invariant the service keeps holds."""

import io
from datetime import date
from decimal import Decimal

import factory
from PIL import Image

from installments.models import Installment, InstallmentPlan, LateFee, Product
from installments.services import late_fee_charge, plan_create
from taqsit.models import Merchant, User
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


def late_fee_make(*, installment: Installment, period: date, amount: Decimal, actor: User | None = None) -> LateFee:
    """A late fee of ``amount``, charged by ``late_fee_charge`` under a fixed fee of that amount set for the call
    (the service computes the fee from the merchant's settings; the merchant's own are put back after)."""
    merchants = Merchant.objects.filter(pk=installment.merchant_id)
    settings = merchants.values("late_fee_method", "late_fee_amount").get()
    merchants.update(late_fee_method=Merchant.LateFeeMethod.FIXED, late_fee_amount=amount)
    try:
        return late_fee_charge(installment=installment, period=period, actor=actor)
    finally:
        merchants.update(**settings)


def signature_png(width: int = 300, height: int = 100) -> bytes:
    """A drawn line on a transparent canvas, as the contract's signature pad sends it."""
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    for x in range(20, width - 20):
        image.putpixel((x, height // 2 + (x % 7)), (0, 0, 60, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
