"""The borrower API's payments: the customer's history, and reporting a transfer with its proof (multipart)."""

from datetime import date
from decimal import Decimal

import pytest

from auditlog.models import Entry
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from payments.models import Payment, PaymentProof
from payments.services import payment_fail, payment_post
from payments.tests.reports import EXE, PDF, PNG, TEXT, files_under, report, upload
from portal.tests.borrower import bearer

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/portal/payments/"


@pytest.fixture
def plan(customer, owner, today):
    """1000.00, 200.00 down (payment 1), 4 monthly installments of 200.00 due from 2026-02-15."""
    return plan_make(actor=owner, customer=customer)


@pytest.fixture
def client(api_client, customer, today):
    return bearer(api_client, customer)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _report_body(target, **overrides) -> dict:
    body = {
        "plan": str(target.pk),
        "amount": "200.00",
        "payment_date": "2026-02-27",
        "payment_method": "bank_transfer",
        "reference": "TRF-9001",
        "proof": upload(PNG, "transfer.png", "image/png"),
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def test_the_history_lists_the_customers_payments_newest_first(client, customer, owner, plan):
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=date(2026, 2, 16))
    failed = report(customer=customer, plan=plan, amount="50.00")
    payment_fail(actor=owner, payment=failed, reason="No transfer TRF-2231 reached our account.")

    response = client.get(PAYMENTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(p["payment_number"], p["amount"], p["status"], p["failure_reason"]) for p in body["results"]] == [
        (3, "50.00", "failed", "No transfer TRF-2231 reached our account."),
        (2, "200.00", "completed", ""),
        (1, "200.00", "completed", ""),
    ]
    received = body["results"][1]
    assert (received["balance_after"], received["next_due_date_after"], received["next_amount_due_after"]) == (
        "600.00",
        "2026-03-15",
        "200.00",
    )
    assert body["results"][0]["balance_after"] is None
    # Who at the shop took or settled a payment, and its notes, stay the shop's.
    text = response.content.decode()
    assert "received_by" not in text and "settled_by" not in text and "notes" not in text


def test_the_history_filters_by_plan_and_status(client, customer, owner, plan):
    other_plan = plan_make(actor=owner, customer=customer, down_payment=Decimal("100.00"))
    reported = report(customer=customer, plan=plan)

    by_plan = client.get(PAYMENTS, {"plan": str(other_plan.pk)}).json()
    pending = client.get(PAYMENTS, {"status": "pending"}).json()

    assert [(p["plan"], p["amount"]) for p in by_plan["results"]] == [(str(other_plan.pk), "100.00")]
    assert [p["id"] for p in pending["results"]] == [str(reported.pk)]


def test_one_payment(client, customer, plan):
    reported = report(customer=customer, plan=plan)

    response = client.get(f"{PAYMENTS}{reported.pk}/")

    assert response.status_code == 200
    assert (response.json()["reference"], response.json()["has_proof"]) == ("TRF-2231", True)


def test_reporting_a_transfer_makes_a_pending_payment_with_its_proof(client, customer, plan, media):
    response = client.post(PAYMENTS, _report_body(plan), format="multipart")

    assert response.status_code == 201, response.json()
    payment = Payment.objects.get(pk=response.json()["id"])
    assert response.json() == {
        "id": str(payment.pk),
        "plan": str(plan.pk),
        "plan_reference": "P-000001",
        "payment_number": 2,
        "amount": "200.00",
        "payment_date": "2026-02-27",
        "payment_method": "bank_transfer",
        "reference": "TRF-9001",
        "status": "pending",
        "is_down_payment": False,
        "origin": "portal",
        "has_proof": True,
        "failure_reason": "",
        "balance_after": None,
        "next_due_date_after": None,
        "next_amount_due_after": None,
        "created_at": "2026-03-01T12:00:00Z",
        "allocations": [],
    }
    assert (payment.status, payment.origin, payment.received_by, payment.allocations.count()) == (
        "pending",
        "portal",
        None,
        0,
    )
    proof = payment.proof
    assert (proof.content_type, proof.size, proof.original_name) == ("image/png", len(PNG), "transfer.png")
    assert proof.file.read() == PNG
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")  # nothing moves until the shop confirms it


def test_a_pdf_proof_is_taken(client, plan, media):
    response = client.post(
        PAYMENTS, _report_body(plan, proof=upload(PDF, "proof.pdf", "application/pdf")), format="multipart"
    )

    assert response.status_code == 201
    assert PaymentProof.objects.get(payment_id=response.json()["id"]).content_type == "application/pdf"


def test_a_report_is_in_the_audit_trail_as_the_customers_own_act(client, customer, plan, media):
    response = client.post(PAYMENTS, _report_body(plan), format="multipart")

    payment_id = response.json()["id"]
    entries = Entry.objects.filter(object_type="payments.payment", object_id=payment_id)
    assert [(e.operation, e.source, e.action, e.actor_id, e.actor_customer_id) for e in entries] == [
        ("insert", "portal", "payment.report", None, customer.pk)
    ]


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        (upload(TEXT, "receipt.png", "image/png"), "The proof must be a PDF, JPEG, PNG or WebP file."),
        (upload(EXE, "receipt.pdf", "application/pdf"), "The proof must be a PDF, JPEG, PNG or WebP file."),
        (upload(PNG + b"\x00" * 2048, "big.png", "image/png"), "The proof is larger than 2 KB."),
    ],
    ids=["text", "program", "too-large"],
)
def test_a_proof_of_the_wrong_type_or_too_large_is_a_400_naming_proof_and_nothing_is_saved(
    client, plan, media, settings, row_counts, proof, message
):
    settings.PAYMENT_PROOF_MAX_BYTES = 2048
    before = row_counts()

    response = client.post(PAYMENTS, _report_body(plan, proof=proof), format="multipart")

    assert (response.status_code, response.json()) == (400, {"proof": [message]})
    assert row_counts() == before
    assert PaymentProof.objects.count() == 0
    assert files_under(media) == []


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"proof": None}, {"proof": ["No file was submitted."]}),
        ({"payment_method": "cash"}, {"payment_method": ['"cash" is not a valid choice.']}),
        ({"payment_date": "2026-03-02"}, {"payment_date": ["The payment date 2026-03-02 is in the future."]}),
        ({"reference": ""}, {"reference": ["This field may not be blank."]}),
        ({"amount": "900.00"}, None),
        ({"plan": "6f1c1b5e-3c1e-4d43-9d6b-0f6a3c0b9f11"}, {"plan": ["No such plan."]}),
        ({"received_by": "owner"}, {"received_by": ["Unknown field."]}),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field_and_saves_nothing(client, plan, media, row_counts, change, errors):
    before = row_counts()

    response = client.post(PAYMENTS, _report_body(plan, **change), format="multipart")

    assert response.status_code == 400
    if errors is None:
        assert list(response.json()) == ["amount"]
        assert "800.00" in response.json()["amount"][0]
    else:
        assert response.json() == errors
    assert row_counts() == before
    assert files_under(media) == []


def test_a_json_report_without_a_file_names_proof(client, plan, row_counts):
    body = _report_body(plan)
    del body["proof"]

    response = client.post(PAYMENTS, body, format="json")

    assert (response.status_code, response.json()) == (400, {"proof": ["No file was submitted."]})


def test_a_shop_that_takes_no_transfer_reports_refuses_them(client, merchant, plan, media, row_counts):
    merchant.portal_transfer_reports = False
    merchant.save(update_fields=["portal_transfer_reports"])
    before = row_counts()

    response = client.post(PAYMENTS, _report_body(plan), format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["payment_method"]
    assert row_counts() == before


def test_another_customers_plan_is_no_such_plan(client, merchant, owner, plan, media, row_counts):
    neighbour = CustomerFactory(merchant=merchant, name="Bashir Nour")
    theirs = plan_make(actor=owner, customer=neighbour)
    before = row_counts()

    response = client.post(PAYMENTS, _report_body(theirs), format="multipart")

    assert (response.status_code, response.json()) == (400, {"plan": ["No such plan."]})
    assert row_counts() == before


def test_the_history_reads_a_bounded_number_of_queries(client, customer, owner, plan, django_assert_max_num_queries):
    for day in (16, 17, 18):
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_date=date(2026, 2, day))
    report(customer=customer, plan=plan, amount="10.00")

    with django_assert_max_num_queries(8):
        response = client.get(PAYMENTS)

    assert response.json()["count"] == 5


def test_a_photo_of_a_few_megabytes_is_taken_and_one_over_the_limit_is_refused_naming_proof(
    client, plan, media, settings, row_counts
):
    """Django's default body limit (2.5 MB) counts no file: a phone photo under PAYMENT_PROOF_MAX_BYTES (5 MB)
    goes through, and one over it is refused by the report's own check, naming ``proof``."""
    assert (settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.PAYMENT_PROOF_MAX_BYTES) == (2621440, 5242880)
    photo = PNG + b"\x00" * (3 * 1024 * 1024)
    too_big = PNG + b"\x00" * (5 * 1024 * 1024)

    taken = client.post(PAYMENTS, _report_body(plan, proof=upload(photo)), format="multipart")
    before = row_counts()
    refused = client.post(PAYMENTS, _report_body(plan, proof=upload(too_big)), format="multipart")

    assert taken.status_code == 201, taken.json()
    assert PaymentProof.objects.get().size == len(photo)
    assert (refused.status_code, refused.json()) == (400, {"proof": ["The proof is larger than 5 MB."]})
    assert row_counts() == before
