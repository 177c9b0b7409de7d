"""Products and the plan lifecycle, by subdomain: ``products``, ``plans`` (terms, items and their serials,
create, update, delete), ``guarantors`` (policy, add, remove), ``apply`` (a customer's application, the live
preview), ``lifecycle`` (approve, reject, cancel, mark defaulted, reschedule) and ``fees`` (late fees); import from
here."""

from installments.services.apply import application_terms, plan_apply, plan_preview
from installments.services.contract import contract_sign, signature_image_validate
from installments.services.fees import late_fee_charge
from installments.services.guarantors import (
    GUARANTOR_FIELDS,
    guarantor_add,
    guarantor_parse,
    guarantor_remove,
    guarantor_required,
    guarantor_required_message,
)
from installments.services.imports import PlanOpening, plans_opening_build, plans_opening_save
from installments.services.lifecycle import (
    installment_status_for,
    plan_approve,
    plan_cancel,
    plan_mark_defaulted,
    plan_reject,
    plan_reschedule,
)
from installments.services.plans import (
    ItemInput,
    PlanTerms,
    plan_create,
    plan_create_with_customer,
    plan_delete,
    plan_terms_build,
    plan_update,
    serial_normalize,
    serial_taken_message,
    serials_problems,
)
from installments.services.products import (
    PRODUCT_FIELDS,
    product_create,
    product_update,
    product_validate,
    products_import,
    sku_taken_message,
)

__all__ = [
    "GUARANTOR_FIELDS",
    "PRODUCT_FIELDS",
    "ItemInput",
    "PlanOpening",
    "PlanTerms",
    "application_terms",
    "contract_sign",
    "guarantor_add",
    "guarantor_parse",
    "guarantor_remove",
    "guarantor_required",
    "guarantor_required_message",
    "installment_status_for",
    "late_fee_charge",
    "plan_apply",
    "plan_approve",
    "plan_cancel",
    "plan_create",
    "plan_create_with_customer",
    "plan_delete",
    "plan_mark_defaulted",
    "plan_preview",
    "plan_reject",
    "plan_reschedule",
    "plan_terms_build",
    "plan_update",
    "plans_opening_build",
    "plans_opening_save",
    "product_create",
    "product_update",
    "product_validate",
    "products_import",
    "serial_normalize",
    "serial_taken_message",
    "serials_problems",
    "signature_image_validate",
    "sku_taken_message",
]
