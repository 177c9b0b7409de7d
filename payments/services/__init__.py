"""The ledger, by direction: ``post`` (post, down payment, complete, fail, the receipt's figures), ``reverse``
(refund, void, edit, withdraw) and ``report`` (a transfer a customer reports, pending with its proof);
``allocation`` writes what the pure ``payments.allocation`` splits. Import from here.

Allocation order for a completed payment: late fees first (oldest installment first), then the oldest unpaid
installment, interest before principal, then the next. A refund or void appends reversal lines; nothing that moved
money is updated away or deleted.
"""

from payments.services.charity import charity_disbursement_record
from payments.services.imports import plans_import
from payments.services.post import (
    RECEIPT_FIELDS,
    down_payment_record,
    payment_complete,
    payment_fail,
    payment_post,
)
from payments.services.report import payment_report
from payments.services.reverse import payment_delete, payment_refund, payment_update, payment_void
from payments.services.settle import plan_settle

__all__ = [
    "RECEIPT_FIELDS",
    "charity_disbursement_record",
    "down_payment_record",
    "payment_complete",
    "payment_delete",
    "payment_fail",
    "payment_post",
    "payment_refund",
    "payment_report",
    "payment_update",
    "payment_void",
    "plan_settle",
    "plans_import",
]
