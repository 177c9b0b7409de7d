"""A customer reports a payment they made by bank transfer or mobile wallet, with a photo or PDF of the proof:
a *pending* payment of origin ``portal`` that staff confirm (``payment_complete``) or reject (``payment_fail``).

Everything is checked before anything is written: a refused report leaves no payment row and no file. The proof
is written once its payment row is in, and removed again if the transaction does not go through.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer
from installments.locks import plan_lock
from installments.models import InstallmentPlan
from payments.models import Payment, PaymentProof
from payments.proofs import PROOF_TYPES
from payments.services._common import money_announce
from payments.services.allocation import _rows_for_allocation
from payments.services.post import (
    _amount_parse,
    _balance_check,
    _closed_plan_message,
    _payment_date_check,
    _payment_number,
    _plan_number_save,
    _receipt_figures,
)
from taqsit import audit
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.metrics import payment_posted

# The methods a customer can report from afar; cash and cards are taken at the counter.
REPORTABLE_METHODS = (Payment.Method.BANK_TRANSFER, Payment.Method.MOBILE_WALLET)
# filetype recognises every type it knows from the first bytes of a file.
_HEAD_BYTES = 8192
_MEGABYTE = 1024 * 1024


def size_label(size: int) -> str:
    """A byte count as the limit is told to the customer: ``5 MB``, ``512 KB``, ``900 bytes``."""
    if size >= _MEGABYTE and size * 10 % _MEGABYTE == 0:
        value = Decimal(size) / _MEGABYTE
        return _("%(size)s MB") % {"size": f"{value.normalize():f}"}
    if size >= 1024:
        return _("%(size)s KB") % {"size": size // 1024}
    return ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": size}


def _proof_check(proof: Any, errors: dict[str, list[str]]) -> str | None:
    """The proof's content type, recognised from its first bytes (its name and declared type are ignored), or
    None with the reason added to ``errors``."""
    if proof is None or not hasattr(proof, "read"):
        errors["proof"] = [_("Attach a photo or PDF of the proof of payment.")]
        return None
    limit = settings.PAYMENT_PROOF_MAX_BYTES
    size = proof.size
    if size is not None and size > limit:
        errors["proof"] = [_("The proof is larger than %(limit)s.") % {"limit": size_label(limit)}]
        return None
    if not size:
        errors["proof"] = [_("The proof is an empty file.")]
        return None
    proof.seek(0)
    head = proof.read(_HEAD_BYTES)
    proof.seek(0)
    kind = filetype.guess(bytes(head)) if head else None
    if kind is None or kind.mime not in PROOF_TYPES:
        errors["proof"] = [_("The proof must be a PDF, JPEG, PNG or WebP file.")]
        return None
    return kind.mime


def _digest(proof: Any) -> str:
    sha256 = hashlib.sha256()
    proof.seek(0)
    for chunk in proof.chunks() if hasattr(proof, "chunks") else iter(lambda: proof.read(65536), b""):
        sha256.update(chunk)
    proof.seek(0)
    return sha256.hexdigest()


def _proof_save(*, payment: Payment, proof: Any, content_type: str, written: list) -> PaymentProof:
    """Write the file (named from its content type, never from the customer's name for it), then its row; the
    file's storage and name go in ``written`` for ``payment_report`` to remove if the transaction fails."""
    row = PaymentProof(
        merchant_id=payment.merchant_id,
        payment=payment,
        content_type=content_type,
        size=proof.size,
        sha256=_digest(proof),
        original_name=PurePosixPath(str(getattr(proof, "name", "") or "").replace("\\", "/")).name[:255],
    )
    row.file.save(f"proof.{PROOF_TYPES[content_type]}", File(proof), save=False)
    written.append((row.file.storage, row.file.name))
    row.save(force_insert=True)
    return row


def _plan_of_customer(plan: Any, customer: Customer) -> InstallmentPlan:
    if not isinstance(plan, InstallmentPlan) or (plan.customer_id, plan.merchant_id) != (
        customer.pk,
        customer.merchant_id,
    ):
        raise ValidationError({"plan": ValidationError(_("No such plan."), code=ErrorCode.INVALID)})
    return plan


@audit.action("payment.report")
def payment_report(
    *,
    customer: Customer,
    plan: InstallmentPlan,
    amount: Any,
    payment_date: date | None,
    payment_method: str,
    reference: str,
    proof: Any,
) -> Payment:
    """Record the transfer ``customer`` says they made on their own open ``plan`` as a pending payment of origin
    ``portal`` (received by nobody: staff confirm it), with its proof. Nothing is written unless every check
    passes: the amount within what the plan still owes, a date not in the future, a transfer or wallet method, a
    reference, and a PDF, JPEG, PNG or WebP proof (by its content) no larger than ``PAYMENT_PROOF_MAX_BYTES``.

    The proof's file is written after its payment row went in, and removed when the transaction fails (the proof's
    row, the commit). Django has no rollback hook: a caller that wraps this in a transaction of its own and rolls
    it back removes the file itself (``payment.proof.file.delete(save=False)``); no entry point does."""
    written: list = []
    try:
        return _payment_report(
            customer=customer,
            plan=plan,
            amount=amount,
            payment_date=payment_date,
            payment_method=payment_method,
            reference=reference,
            proof=proof,
            written=written,
        )
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


@transaction.atomic
def _payment_report(
    *,
    customer: Customer,
    plan: InstallmentPlan,
    amount: Any,
    payment_date: date | None,
    payment_method: str,
    reference: str,
    proof: Any,
    written: list,
) -> Payment:
    plan = _plan_of_customer(plan, customer)
    merchant = plan.merchant
    if not getattr(merchant, "portal_transfer_reports", True):
        raise ValidationError(
            {"payment_method": _("%(shop)s does not take reports of transfers: pay at the shop.") % {"shop": merchant}}
        )
    currency = merchant.currency
    errors: dict[str, list[str]] = {}
    value = None
    try:
        value = _amount_parse(amount, currency)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if payment_method not in REPORTABLE_METHODS:
        errors["payment_method"] = [
            _("Report a bank transfer or a mobile wallet payment, not %(value)s.") % {"value": repr(payment_method)}
        ]
    reference = (reference or "").strip()
    if not reference:
        errors["reference"] = [_("Give the reference of the transfer.")]
    elif len(reference) > 100:
        errors["reference"] = [_("The reference is longer than 100 characters.")]
    today = merchant_today(merchant)
    if not isinstance(payment_date, date):
        errors["payment_date"] = [_("Give the date of the payment.")]
    elif payment_date > today:
        errors["payment_date"] = [_("The payment date %(date)s is in the future.") % {"date": payment_date}]
    else:
        dates_bound_check(errors, today, payment_date=payment_date)
    content_type = _proof_check(proof, errors)
    if errors:
        raise ValidationError(errors)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_plan_message(plan), code=ErrorCode.INVALID_STATUS)})
    _payment_date_check(plan, payment_date)
    _balance_check(plan, value)
    payment = Payment(
        merchant_id=plan.merchant_id,
        plan=plan,
        payment_number=_payment_number(plan, None),
        amount=value,
        payment_date=payment_date,
        payment_method=payment_method,
        reference=reference,
        status=Payment.Status.PENDING,
        origin=Payment.Origin.PORTAL,
        received_by=None,
        **_receipt_figures(plan, _rows_for_allocation(plan, lock=False), amount_paid=plan.amount_paid),
    )
    payment.save(force_insert=True)
    _plan_number_save(plan)
    _proof_save(payment=payment, proof=proof, content_type=content_type, written=written)
    money_announce(payment, "payment.pending")
    transaction.on_commit(lambda: payment_posted(method=payment_method, status=Payment.Status.PENDING))
    return payment
