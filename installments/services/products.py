"""Products sold on installment: their checks, creation and edits."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from installments.models import Product
from installments.services._common import _merchant_for, _money_check, _same_merchant
from taqsit import audit
from taqsit.models import Merchant, User
from taqsit.permissions import Action, permission_require
from taqsit.services import fields_refuse, model_save, model_update, model_validate

PRODUCT_FIELDS = ("name", "sku", "price", "is_active")


def sku_taken_message(sku: str, twin: Product) -> str:
    """The refusal of a SKU another product of the merchant has (the admin's form says it too)."""
    return _("The SKU %(sku)s is already used by %(product)s.") % {"sku": sku, "product": twin.name}


def _product_check(product: Product) -> dict[str, list[str]]:
    """A positive price exact to the currency's unit, and a SKU no other product of the merchant has."""
    errors: dict[str, list[str]] = {}
    product.name = (product.name or "").strip()
    product.sku = (product.sku or "").strip()
    price = _money_check(errors, "price", product.price, product.merchant.currency)
    if price is not None and "price" not in errors:
        product.price = price
    if product.sku:
        twin = Product.objects.filter(merchant_id=product.merchant_id, sku=product.sku).exclude(pk=product.pk).first()
        if twin is not None:
            errors["sku"] = [sku_taken_message(product.sku, twin)]
    return errors


def product_validate(*, product: Product) -> Product:
    """Trim ``product``'s name and SKU in place and refuse what ``product_create``/``product_update`` would: a
    price that is not a positive exact amount, a SKU another product of the merchant has; writes nothing."""
    return model_validate(instance=product, validate=_product_check)


def _product_conflict(product: Product) -> dict[str, str]:
    return {"sku": _("The SKU %(sku)s is already used.") % {"sku": product.sku}}


@audit.action("product.create")
@transaction.atomic
def product_create(*, actor: User, merchant: Merchant | None = None, **fields: Any) -> Product:
    """Register a product sold on installment."""
    permission_require(actor, Action.PRODUCT_WRITE)
    fields_refuse(data=fields, fields=PRODUCT_FIELDS)
    product = Product(merchant=_merchant_for(actor, merchant), **fields)
    return model_save(instance=product, validate=_product_check, conflict=_product_conflict)


@audit.action("product.update")
@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    """Edit a product; plans already sold keep their own item prices."""
    permission_require(actor, Action.PRODUCT_WRITE)
    _same_merchant(actor, product)
    return model_update(
        instance=Product.objects.select_for_update(of=("self",)).get(pk=product.pk),
        fields=PRODUCT_FIELDS,
        data=fields,
        validate=_product_check,
        conflict=_product_conflict,
    )


@audit.action("product.import")
@transaction.atomic
def products_import(*, actor: User, merchant: Merchant, products: list[dict[str, Any]]) -> list[Product]:
    """Register many products of ``merchant`` at once (a spreadsheet), set-based: each with a positive price exact
    to the currency's unit, as ``product_create`` checks; the caller checks their SKUs against the merchant's
    other products, and the unique constraint refuses the whole batch if one slipped through."""
    permission_require(actor, Action.PRODUCT_WRITE)
    merchant = _merchant_for(actor, merchant)
    rows = []
    for fields in products:
        fields_refuse(data=fields, fields=PRODUCT_FIELDS)
        product = Product(merchant=merchant, **fields)
        errors: dict = {}
        product.price = _money_check(errors, "price", product.price, merchant.currency)
        if errors:
            raise ValidationError(errors)
        product.name, product.sku = product.name.strip(), product.sku.strip()
        product.full_clean(validate_unique=False, validate_constraints=False)
        rows.append(product)
    return Product.objects.bulk_create(rows, batch_size=2000)
