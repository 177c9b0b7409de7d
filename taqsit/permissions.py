"""The role table of DESIGN.md as code: one place decides who may do what."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from taqsit.models import Role, User


class Action(StrEnum):
    READ = "read"
    CUSTOMER_WRITE = "customer.write"
    PRODUCT_WRITE = "product.write"
    PLAN_CREATE = "plan.create"
    PLAN_DECIDE = "plan.decide"  # approve, reject, cancel, reschedule, mark defaulted
    PAYMENT_RECORD = "payment.record"
    PAYMENT_REVERSE = "payment.reverse"  # refund, void
    STAFF_MANAGE = "staff.manage"  # staff and merchant settings
    AUDIT_READ = "audit.read"
    COLLECTION_ASSIGN = "collection.assign"  # give overdue plans to a collector (collectors/)
    COLLECTION_RECORD = "collection.record"  # record a contact or a promise to pay
    DATA_IMPORT = "data.import"  # spreadsheet imports: upload, preview, confirm


_ALL = frozenset(Role)
_WRITERS = frozenset({Role.OWNER, Role.MANAGER, Role.CLERK})
_MANAGERS = frozenset({Role.OWNER, Role.MANAGER})

ROLE_TABLE: dict[Action, frozenset[Role]] = {
    Action.READ: _ALL,
    Action.CUSTOMER_WRITE: _WRITERS,
    Action.PRODUCT_WRITE: _WRITERS,
    Action.PLAN_CREATE: _WRITERS,
    Action.PLAN_DECIDE: _MANAGERS,
    Action.PAYMENT_RECORD: _WRITERS,
    Action.PAYMENT_REVERSE: _MANAGERS,
    Action.STAFF_MANAGE: frozenset({Role.OWNER}),
    Action.AUDIT_READ: _MANAGERS,
    Action.COLLECTION_ASSIGN: _MANAGERS,
    Action.COLLECTION_RECORD: _WRITERS,
    Action.DATA_IMPORT: _MANAGERS,
}


def user_can(user: User | None, action: Action) -> bool:
    """True when ``user`` may perform ``action``: an active merchant member whose role allows it.

    Platform admins (active superusers) may do everything; they act on a merchant's rows through the admin.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if user.merchant_id is None:
        return False
    return user.role in ROLE_TABLE[action]


def permission_require(user: User | None, action: Action) -> None:
    """Raise PermissionDenied unless ``user`` may perform ``action`` (services call this first)."""
    if not user_can(user, action):
        role = getattr(user, "role", None)
        # The role's name in the active language; in English it reads as the stored value ("clerk").
        role_text = Role(role).label.lower() if role in Role.values else _("anonymous")
        raise PermissionDenied(
            _("The %(role)s role may not perform %(action)s.") % {"role": role_text, "action": action.value}
        )
