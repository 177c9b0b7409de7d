"""The payments admin's actions for pending payments: confirm (allocated by the ledger service) and fail (with
the reason), each row through the service, refusals in the service's own words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from auditlog.models import Entry
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.tests.test_admin import action_post, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser, settings):
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(superuser)
    return client


@pytest.fixture
def plan(owner, customer, today):
    """1000.00, 200.00 down, 4 x 200.00 from 2026-01-15."""
    return plan_make(actor=owner, customer=customer)


def _pending(owner, plan, amount: str) -> Payment:
    return payment_post(actor=owner, plan=plan, amount=Decimal(amount), payment_method="cheque", status="pending")


def test_confirming_pending_payments_allocates_each_and_refuses_what_no_longer_fits(
    admin_client, superuser, owner, plan, ledger_assert
):
    small = _pending(owner, plan, "300.00")
    large = _pending(owner, plan, "600.00")  # 800.00 left: both together would overpay

    response = action_post(admin_client, Payment, "complete_payments", [small, large])

    assert messages_of(response) == [
        f"Payment 3 of {plan}: 600.00 exceeds the remaining balance 500.00 of plan {plan.reference}.",
        "Confirmed 1 payment.",
    ]
    small.refresh_from_db()
    large.refresh_from_db()
    assert (small.status, small.settled_by, large.status) == (Payment.Status.COMPLETED, superuser, "pending")
    assert list(small.allocations.order_by("id").values_list("installment__number", "amount")) == [
        (1, Decimal("200.000")),
        (2, Decimal("100.000")),
    ]
    ledger_assert(plan)
    [entry] = Entry.objects.filter(object_id=str(small.pk), operation="update")
    assert (entry.action, entry.source, entry.actor_id, entry.after["status"]) == (
        "payment.complete",
        "admin",
        superuser.pk,
        "completed",
    )


def test_failing_pending_payments_needs_the_reason_and_skips_what_is_not_pending(
    admin_client, superuser, owner, plan, ledger_assert
):
    pending = _pending(owner, plan, "300.00")
    done = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))

    refused = action_post(admin_client, Payment, "fail_payments", [pending])
    response = action_post(admin_client, Payment, "fail_payments", [pending, done], reason="Cheque bounced")

    assert messages_of(refused) == [f"Payment 2 of {plan}: Give the reason."]
    assert messages_of(response) == [
        f"Payment 3 of {plan}: Payment 3 is completed, not pending.",
        "Marked failed 1 payment.",
    ]
    pending.refresh_from_db()
    assert (pending.status, pending.reversal_reason, pending.settled_by) == ("failed", "Cheque bounced", superuser)
    assert pending.allocations.count() == 0
    ledger_assert(plan)
