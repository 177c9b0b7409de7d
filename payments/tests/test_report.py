"""A customer reports a transfer with its proof: a pending payment of origin portal, its file private and typed
by content; every refusal names its field and leaves no payment row and no file; staff confirm or reject it."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils import translation

from auditlog.models import Entry
from customers.tests.factories import CustomerFactory
from installments.services import plan_cancel
from installments.tests.factories import plan_make
from payments.models import Payment, PaymentProof
from payments.services import payment_complete, payment_fail
from payments.services.report import size_label
from payments.tests.reports import EXE, JPEG, PDF, PNG, TEXT, WEBP, files_under, report, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    """A MEDIA_ROOT of the test's own, to see every file written there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def plan(owner, customer, today):
    """1000.00, 200.00 down, 4 x 200.00 from 2026-01-15: 800.00 left to pay on 2026-03-01."""
    return plan_make(actor=owner, customer=customer)


def test_a_reported_transfer_is_a_pending_payment_of_the_portal_with_its_proof(
    media, merchant, customer, plan, ledger_assert
):
    payment = report(customer=customer, plan=plan, amount="150.25")

    payment.refresh_from_db()
    assert (
        payment.amount,
        payment.status,
        payment.origin,
        payment.payment_method,
        payment.reference,
        payment.payment_date,
        payment.payment_number,
        payment.received_by,
        payment.merchant_id,
    ) == (
        Decimal("150.250"),
        Payment.Status.PENDING,
        Payment.Origin.PORTAL,
        "bank_transfer",
        "TRF-2231",
        date(2026, 2, 28),
        2,
        None,
        merchant.pk,
    )
    assert payment.allocations.count() == 0
    proof = PaymentProof.objects.get(payment=payment)
    assert (proof.content_type, proof.size, proof.sha256, proof.original_name, proof.merchant_id) == (
        "image/png",
        len(PNG),
        hashlib.sha256(PNG).hexdigest(),
        "receipt.png",
        merchant.pk,
    )
    # Named by the shop and a random uuid, with the extension of what it is: nothing of the customer's name.
    assert re.fullmatch(rf"payment-proofs/{merchant.pk}/[0-9a-f-]{{36}}\.png", proof.file.name)
    assert files_under(media) == [media / proof.file.name]
    assert (media / proof.file.name).read_bytes() == PNG
    assert (media / proof.file.name).stat().st_mode & 0o777 == 0o600
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.last_payment_number) == (Decimal("200.00"), 2)
    ledger_assert(plan)


@pytest.mark.parametrize(
    ("content", "name", "declared", "expected", "extension"),
    [
        (PDF, "statement.pdf", "application/pdf", "application/pdf", "pdf"),
        (JPEG, "photo.jpeg", "image/jpeg", "image/jpeg", "jpg"),
        (WEBP, "screenshot.webp", "image/webp", "image/webp", "webp"),
        # The content decides, not the name or the type the browser declared.
        (PDF, "bank.txt", "text/plain", "application/pdf", "pdf"),
        (PNG, "IMG_0042", "application/octet-stream", "image/png", "png"),
    ],
    ids=["pdf", "jpeg", "webp", "pdf-named-txt", "png-without-extension"],
)
def test_the_proofs_type_is_read_from_its_content(media, customer, plan, content, name, declared, expected, extension):
    payment = report(customer=customer, plan=plan, proof=upload(content, name, declared))

    proof = payment.proof
    assert (proof.content_type, proof.original_name) == (expected, name)
    assert proof.file.name.endswith(f".{extension}")
    assert (media / proof.file.name).read_bytes() == content


def _refused(customer, plan, **overrides) -> dict:
    with pytest.raises(ValidationError) as refusal:
        report(customer=customer, plan=plan, **overrides)
    return refusal.value.message_dict


NOT_A_PROOF = {"proof": ["The proof must be a PDF, JPEG, PNG or WebP file."]}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"proof": upload(TEXT, "receipt.png", "image/png")}, NOT_A_PROOF),
        ({"proof": upload(EXE, "receipt.pdf", "application/pdf")}, NOT_A_PROOF),
        ({"proof": upload(b"%PD", "tiny.pdf", "application/pdf")}, NOT_A_PROOF),
        (
            {"proof": upload(PNG + b"\x00" * (5 * 1024 * 1024 + 1 - len(PNG)))},
            {"proof": ["The proof is larger than 5 MB."]},
        ),
        ({"proof": upload(b"", "empty.png")}, {"proof": ["The proof is an empty file."]}),
        ({"proof": None}, {"proof": ["Attach a photo or PDF of the proof of payment."]}),
        ({"payment_date": date(2026, 3, 2)}, {"payment_date": ["The payment date 2026-03-02 is in the future."]}),
        (
            {"payment_date": date(2020, 1, 1)},
            {"payment_date": ["The date 2020-01-01 is out of range: give a date from 2021-03-01 to 2031-03-01."]},
        ),
        ({"payment_date": None}, {"payment_date": ["Give the date of the payment."]}),
        (
            {"payment_method": "cash"},
            {"payment_method": ["Report a bank transfer or a mobile wallet payment, not 'cash'."]},
        ),
        ({"reference": "  "}, {"reference": ["Give the reference of the transfer."]}),
        ({"reference": "R" * 101}, {"reference": ["The reference is longer than 100 characters."]}),
        ({"amount": "0"}, {"amount": ["The amount must be greater than zero, not 0.00."]}),
        ({"amount": "10.005"}, {"amount": ["10.005 has more decimal places than USD allows (2)."]}),
        ({"amount": "ten"}, {"amount": ["'ten' is not an amount."]}),
    ],
    ids=[
        "text-named-png",
        "exe-named-pdf",
        "truncated",
        "too-large",
        "empty",
        "no-proof",
        "future-date",
        "date-out-of-range",
        "no-date",
        "cash",
        "no-reference",
        "reference-too-long",
        "zero",
        "three-places",
        "not-a-number",
    ],
)
def test_a_refused_report_names_the_field_and_leaves_no_payment_and_no_file(
    media, customer, plan, row_counts, overrides, expected
):
    before = row_counts()

    assert _refused(customer, plan, **overrides) == expected

    assert row_counts() == before
    assert PaymentProof.objects.count() == 0
    assert not media.exists() or files_under(media) == []
    plan.refresh_from_db()
    assert plan.last_payment_number == 1


def test_every_bad_field_is_named_at_once(media, customer, plan):
    refusal = _refused(
        customer,
        plan,
        amount="-1",
        payment_method="card",
        reference="",
        proof=upload(TEXT, "x.jpg", "image/jpeg"),
    )

    assert sorted(refusal) == ["amount", "payment_method", "proof", "reference"]


def test_more_than_the_plan_still_owes_is_refused_with_the_balance(media, customer, plan, row_counts):
    before = row_counts()

    refusal = _refused(customer, plan, amount="800.01")

    assert refusal == {"amount": [f"800.01 exceeds the remaining balance 800.00 of plan {plan.reference}."]}
    assert row_counts() == before
    assert not media.exists() or files_under(media) == []
    # Exactly what is left is taken.
    assert report(customer=customer, plan=plan, amount="800.00").amount == Decimal("800.00")


def test_a_closed_plan_takes_no_report(media, owner, customer, plan, row_counts):
    plan_cancel(actor=owner, plan=plan, reason="Goods returned.")
    before = row_counts()

    refusal = _refused(customer, plan)

    assert refusal == {"plan": [f"Plan {plan.reference} is cancelled: it takes no payments."]}
    assert row_counts() == before
    assert not media.exists() or files_under(media) == []


def test_a_date_before_the_plan_is_refused(media, customer, plan):
    refusal = _refused(customer, plan, payment_date=date(2026, 1, 14))

    assert refusal == {"payment_date": ["The payment date 2026-01-14 is before the plan started (2026-01-15)."]}
    assert not media.exists() or files_under(media) == []


def test_another_customers_plan_is_refused_as_no_such_plan(
    media, merchant, owner, customer, plan, other_owner, other_merchant, row_counts
):
    neighbour = CustomerFactory(merchant=merchant, name="Omar Said")
    theirs = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant, phone=customer.phone))
    before = row_counts()

    assert _refused(neighbour, plan) == {"plan": ["No such plan."]}
    assert _refused(customer, theirs) == {"plan": ["No such plan."]}
    assert row_counts() == before
    assert not media.exists() or files_under(media) == []


def test_a_shop_that_takes_no_transfer_reports_refuses_them(media, customer, plan):
    plan.merchant.portal_transfer_reports = False  # the portal's merchant setting (a field once it lands)

    refusal = _refused(customer, plan)

    assert refusal == {"payment_method": [f"{plan.merchant.name} does not take reports of transfers: pay at the shop."]}
    assert Payment.objects.filter(origin="portal").count() == 0


def test_a_proof_whose_row_fails_is_removed_with_its_payment(media, customer, plan, row_counts, monkeypatch):
    before = row_counts()

    def broken(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(PaymentProof, "save", broken)

    with pytest.raises(DatabaseError):
        report(customer=customer, plan=plan)

    assert row_counts() == before
    assert files_under(media) == []


def test_the_limit_is_a_setting(media, settings, customer, plan):
    settings.PAYMENT_PROOF_MAX_BYTES = 100

    assert _refused(customer, plan, proof=upload(PDF + b" " * 100, "a.pdf")) == {
        "proof": ["The proof is larger than 100 bytes."]
    }
    assert report(customer=customer, plan=plan, proof=upload((PDF + b" " * 100)[:100], "a.pdf")).proof.size == 100


@pytest.mark.parametrize(
    ("size", "label"),
    [(5 * 1024 * 1024, "5 MB"), (int(2.5 * 1024 * 1024), "2.5 MB"), (512 * 1024, "512 KB"), (900, "900 bytes")],
)
def test_the_limit_is_told_in_the_unit_people_read(size, label):
    assert size_label(size) == label


def test_a_mobile_wallet_payment_is_reported_too(media, customer, plan):
    payment = report(customer=customer, plan=plan, payment_method="mobile_wallet", reference="  WAL-77  ")

    assert (payment.payment_method, payment.reference, payment.get_payment_method_display()) == (
        "mobile_wallet",
        "WAL-77",
        "Mobile wallet",
    )


def test_the_report_is_in_the_audit_trail_with_nobody_as_the_staff_actor(media, customer, plan):
    payment = report(customer=customer, plan=plan)

    [created] = Entry.objects.filter(object_id=str(payment.pk), operation="insert")
    assert (created.action, created.actor_id, created.after["origin"], created.after["status"]) == (
        "payment.report",
        None,
        "portal",
        "pending",
    )


# Staff decide: confirm (allocated) or reject (failed, with the reason the customer is told) -------------------


def test_staff_confirm_a_reported_transfer_and_it_is_allocated(media, clerk, customer, plan, ledger_assert):
    payment = report(customer=customer, plan=plan, amount="250.00")

    payment = payment_complete(actor=clerk, payment=payment)

    payment.refresh_from_db()
    assert (payment.status, payment.settled_by, payment.received_by, payment.origin) == (
        Payment.Status.COMPLETED,
        clerk,
        None,
        Payment.Origin.PORTAL,
    )
    assert list(payment.allocations.order_by("id").values_list("installment__number", "kind", "amount")) == [
        (1, "principal", Decimal("200.000")),
        (2, "principal", Decimal("50.000")),
    ]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("450.00")
    assert payment.balance_after == Decimal("550.00")
    ledger_assert(plan)


def test_staff_reject_a_reported_transfer_with_the_reason(media, clerk, customer, plan, ledger_assert):
    payment = report(customer=customer, plan=plan)

    with pytest.raises(ValidationError) as refusal:
        payment_fail(actor=clerk, payment=payment, reason=" ")
    payment = payment_fail(actor=clerk, payment=payment, reason="No transfer TRF-2231 reached our account.")

    assert refusal.value.message_dict == {"reason": ["Give the reason."]}
    payment.refresh_from_db()
    assert (payment.status, payment.reversal_reason, payment.settled_by) == (
        Payment.Status.FAILED,
        "No transfer TRF-2231 reached our account.",
        clerk,
    )
    assert payment.allocations.count() == 0
    # The proof stays with the payment: what the customer sent is kept with the decision.
    assert (media / payment.proof.file.name).read_bytes() == PNG
    ledger_assert(plan)


def test_a_spanish_customer_reads_the_refusal_in_spanish(media, customer, plan):
    with translation.override("es"):
        refusal = _refused(customer, plan, proof=upload(TEXT, "recibo.png"), reference="")

    assert refusal == {
        "proof": ["El comprobante debe ser un archivo PDF, JPEG, PNG o WebP."],
        "reference": ["Indique la referencia de la transferencia."],
    }
