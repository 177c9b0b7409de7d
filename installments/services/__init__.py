"""Products and the plan lifecycle, by subdomain: ``products``, ``plans`` (terms, create, update, delete),
``apply`` (a customer's application, the live preview), ``lifecycle`` (approve, reject, cancel, mark defaulted,
reschedule) and ``fees`` (late fees); import from here."""

from installments.services.apply import application_terms, plan_apply, plan_preview
from installments.services.contract import contract_sign, signature_image_validate
from installments.services.fees import late_fee_charge
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
)
from installments.services.products import (
    PRODUCT_FIELDS,
    product_create,
    product_update,
    product_validate,
    sku_taken_message,
)

__all__ = [
    "PRODUCT_FIELDS",
    "ItemInput",
    "PlanTerms",
    "application_terms",
    "contract_sign",
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
    "product_create",
    "product_update",
    "product_validate",
    "signature_image_validate",
    "sku_taken_message",
]
