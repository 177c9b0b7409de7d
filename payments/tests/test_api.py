"""The payments API: record (idempotent), read, notes, delete only what never moved money, refund, void."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import RefreshToken

from auditlog.models import Entry
from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.services import plan_cancel
from installments.tests.factories import plan_make
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post, payment_refund
from taqsit.models import IdempotencyRecord, Role
from taqsit.tests.factories import MerchantFactory, UserFactory
from webhooks.receivers import transaction_memo_clear

pytestmark = pytest.mark.django_db

URL = "/api/installments/payments/"


@pytest.fixture
def client(api_client, manager, today):
    api_client.force_authenticate(manager)
    return api_client


@pytest.fixture
def plan(owner, customer):
    """1000.00 with 200.00 down (payment 1), 4 x 200.00 due 2026-02-15 (overdue), 03-15, 04-15, 05-15."""
    return plan_make(actor=owner, customer=customer)


def body(plan, /, **overrides) -> dict:
    data = {
        "plan": str(plan.pk),
        "amount": "250.00",
        "payment_date": "2026-02-20",
        "payment_method": "card",
        "reference": "RCPT-9",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_record_answers_with_the_payment_and_its_allocations(client, plan, manager):
    response = client.post(URL, body(plan), format="json")

    assert response.status_code == 201, response.content
    payment = Payment.objects.get(payment_number=2)
    assert response.json() == {
        "id": str(payment.pk),
        "plan": str(plan.pk),
        "plan_reference": "P-000001",
        "payment_number": 2,
        "amount": "250.00",
        "payment_date": "2026-02-20",
        "payment_method": "card",
        "reference": "RCPT-9",
        "notes": "",
        "status": "completed",
        "is_down_payment": False,
        "origin": "counter",
        "proof": None,
        "received_by": "manager",
        "reversed_at": None,
        "reversal_reason": "",
        "settled_by": None,
        "settled_at": None,
        "created_at": "2026-03-01T12:00:00Z",
        "allocations": [
            {"installment_number": 1, "kind": "principal", "amount": "200.00", "is_reversal": False},
            {"installment_number": 2, "kind": "principal", "amount": "50.00", "is_reversal": False},
        ],
        "settlement": None,
    }
    assert "Idempotent-Replayed" not in response
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.remaining_balance, payment.received_by) == (
        Decimal("450.00"),
        Decimal("550.00"),
        manager,
    )


def test_payment_date_defaults_to_the_merchants_today_and_method_to_cash(client, plan):
    response = client.post(URL, {"plan": str(plan.pk), "amount": "10"}, format="json")

    assert response.status_code == 201
    assert (response.json()["payment_date"], response.json()["payment_method"], response.json()["amount"]) == (
        "2026-03-01",
        "cash",
        "10.00",
    )


def test_paying_the_whole_balance_completes_the_plan(client, plan):
    response = client.post(URL, body(plan, amount="800.00"), format="json")

    assert response.status_code == 201
    plan.refresh_from_db()
    assert (plan.status, plan.remaining_balance) == (InstallmentPlan.Status.COMPLETED, Decimal("0"))
    assert client.post(URL, body(plan, amount="1.00"), format="json").json() == {
        "plan": ["Plan P-000001 is completed: it takes no payments."]
    }


def test_a_pending_payment_allocates_nothing(client, plan):
    response = client.post(URL, body(plan, status="pending"), format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["allocations"]) == ("pending", [])
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")


def test_amounts_in_kuwaiti_dinars_have_three_places(api_client, today):
    kwd = MerchantFactory(currency="KWD", country="KW")
    owner = UserFactory(merchant=kwd, role=Role.OWNER)
    customer = CustomerFactory(merchant=kwd, phone="+96550001234")
    plan = plan_make(actor=owner, customer=customer, total_amount=Decimal("1000"), down_payment=Decimal("200"))
    api_client.force_authenticate(owner)

    response = api_client.post(
        URL, {"plan": str(plan.pk), "amount": "200", "payment_date": "2026-02-20"}, format="json"
    )
    too_fine = api_client.post(URL, {"plan": str(plan.pk), "amount": "1.0005"}, format="json")

    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["allocations"][0]["amount"]) == ("200.000", "200.000")
    assert (too_fine.status_code, too_fine.json()) == (
        400,
        {"amount": ["Ensure that there are no more than 3 decimal places."]},
    )


@pytest.mark.parametrize(
    ("overrides", "status", "errors"),
    [
        (
            {"plan": None, "amount": None},
            400,
            {"plan": ["This field is required."], "amount": ["This field is required."]},
        ),
        ({"amount": "900.00"}, 400, {"amount": ["900.00 exceeds the remaining balance 800.00 of plan P-000001."]}),
        ({"amount": "10.005"}, 400, {"amount": ["10.005 has more decimal places than USD allows (2)."]}),
        ({"amount": "-1"}, 400, {"amount": ["The amount must be greater than zero, not -1.00."]}),
        (
            {"amount": "lots"},
            400,
            {"amount": ["Enter a decimal number such as 1200.50, without exponent, spaces or separators."]},
        ),
        ({"payment_date": "2026-03-02"}, 400, {"payment_date": ["The payment date 2026-03-02 is in the future."]}),
        (
            {"payment_date": "2026-01-14"},
            400,
            {"payment_date": ["The payment date 2026-01-14 is before the plan started (2026-01-15)."]},
        ),
        ({"payment_number": 5}, 400, {"payment_number": ["Payment number 5 is not the next one; the next is 2."]}),
        ({"payment_method": "gold"}, 400, {"payment_method": ['"gold" is not a valid choice.']}),
        ({"status": "refunded"}, 400, {"status": ['"refunded" is not a valid choice.']}),
        ({"plan": "00000000-0000-0000-0000-000000000000"}, 400, {"plan": ["No such plan."]}),
        ({"plan": "P-000001"}, 400, {"plan": ["Must be a valid UUID."]}),
    ],
)
def test_record_refuses_bad_input_naming_the_field_and_records_nothing(client, plan, overrides, status, errors):
    response = client.post(URL, body(plan, **overrides), format="json")

    assert (response.status_code, response.json()) == (status, errors)
    assert list(Payment.objects.values_list("payment_number", flat=True)) == [1]
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.last_payment_number) == (Decimal("200.00"), 1)


def test_record_accepts_the_next_payment_number(client, plan):
    response = client.post(URL, body(plan, payment_number=2), format="json")

    assert (response.status_code, response.json()["payment_number"]) == (201, 2)


def test_record_refuses_another_merchants_plan(client, other_merchant):
    stranger = UserFactory(merchant=other_merchant, role=Role.OWNER)
    their_plan = plan_make(actor=stranger, customer=CustomerFactory(merchant=other_merchant))

    response = client.post(URL, body(their_plan), format="json")

    assert (response.status_code, response.json()) == (400, {"plan": ["No such plan."]})
    assert Payment.objects.filter(plan=their_plan).count() == 1


def test_a_cancelled_plan_takes_no_payments(client, plan):
    client.post(f"/api/installments/plans/{plan.pk}/cancel/", {"reason": "Returned."}, format="json")

    response = client.post(URL, body(plan), format="json")

    assert (response.status_code, response.json()) == (
        409,
        {"plan": ["Plan P-000001 is cancelled: it takes no payments."]},
    )


# Idempotency-Key -----------------------------------------------------------------------------------------


def test_the_same_idempotency_key_replays_the_first_answer_and_records_nothing_new(client, plan):
    first = client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "till-3-0042"})
    allocations = PaymentAllocation.objects.count()

    again = client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "till-3-0042"})

    assert (first.status_code, first["Idempotent-Replayed"]) == (201, "false")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert list(Payment.objects.order_by("payment_number").values_list("payment_number", "amount")) == [
        (1, Decimal("200.000")),
        (2, Decimal("250.000")),
    ]
    assert PaymentAllocation.objects.count() == allocations
    assert IdempotencyRecord.objects.count() == 1
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.last_payment_number) == (Decimal("450.00"), 2)


def test_recording_a_payment_over_a_jwt_sends_a_fixed_list_of_statements(api_client, plan, manager):
    token = RefreshToken.for_user(manager).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    transaction_memo_clear()  # as in a request of its own, the merchant's webhook endpoints are not known yet
    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "till-3-0043"})

    assert response.status_code == 201, response.content
    # Outside a test's own transaction the first SAVEPOINT and its RELEASE are BEGIN and COMMIT, and the audit
    # context is not cleared (the last statement here).
    assert [_statement_shape(query["sql"]) for query in captured.captured_queries] == [
        ("SELECT", "taqsit_user"),  # the token's user, with its merchant
        ("SAVEPOINT", ""),  # the request's transaction
        ("INSERT", "taqsit_idempotencyrecord"),  # the key, claimed in one statement
        # payment_post joins the request's transaction: no savepoint of its own (taqsit/atomic.py)
        ("SELECT", "installments_installmentplan"),  # the plan, the merchant's, locked: read once
        ("SELECT", "installments_installment"),  # the rows to allocate to, locked
        ("INSERT", "payments_payment"),  # with the receipt's figures, worked out on those rows
        ("UPDATE", "installments_installment"),  # one UPDATE per row paid: 250.00 pays the overdue 200.00
        ("UPDATE", "installments_installment"),  # and 50.00 of the next
        ("INSERT", "payments_paymentallocation"),
        ("INSERT", "payments_collectiondaytotal"),  # the statistics' summary rows: collected by day, method, kind
        ("UPDATE", "installments_installmentplan"),  # amount paid, status and payment number in one UPDATE
        ("INSERT", "installments_planstatustotal"),  # the plans by status (amount paid)
        ("INSERT", "installments_duedaytotal"),  # the two rows' due days (paid, left to pay)
        ("WITH", "installments_merchantoverduetotal"),  # what is overdue by customer, as of the kept cutoff
        ("SELECT", "webhooks_webhookendpoint"),  # the merchant's webhook endpoints: none wants payment.posted
        # The answer: the payment and its allocations in hand, nothing read.
        ("UPDATE", "taqsit_idempotencyrecord"),  # the answer, kept for a replay
        ("RELEASE", ""),
        ("SELECT", "set_config"),
    ]


def _statement_shape(sql: str) -> tuple[str, str]:
    """(verb, table) of one statement, after pghistory's context prefix: ("UPDATE", "installments_installment")."""
    sql = re.sub(r"^SELECT set_config\('pghistory\.context_id'.*?true\);\s*", "", sql, flags=re.DOTALL)
    verb = sql.split()[0]
    if verb in ("SAVEPOINT", "RELEASE"):
        return verb, ""
    if sql.startswith("SELECT set_config"):
        return verb, "set_config"
    return verb, re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql).group(1)


def test_an_idempotency_key_reused_with_another_body_is_a_422(client, plan):
    client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "till-3-0042"})

    response = client.post(URL, body(plan, amount="20.00"), format="json", headers={"Idempotency-Key": "till-3-0042"})

    assert response.status_code == 422
    assert response.json() == {
        "idempotency_key": ["The Idempotency-Key 'till-3-0042' was already used with a different request."]
    }
    assert Payment.objects.count() == 2


def test_a_refused_payment_does_not_use_up_its_idempotency_key(client, plan):
    refused = client.post(URL, body(plan, amount="900.00"), format="json", headers={"Idempotency-Key": "k-1"})
    retried = client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "k-1"})

    assert refused.status_code == 400
    assert (retried.status_code, retried["Idempotent-Replayed"], retried.json()["amount"]) == (201, "false", "250.00")


def test_idempotency_keys_are_per_merchant(client, plan, other_merchant):
    stranger = UserFactory(merchant=other_merchant, role=Role.OWNER)
    their_plan = plan_make(actor=stranger, customer=CustomerFactory(merchant=other_merchant))
    client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "shared"})
    client.force_authenticate(stranger)

    response = client.post(URL, body(their_plan), format="json", headers={"Idempotency-Key": "shared"})

    assert (response.status_code, response["Idempotent-Replayed"], response.json()["plan"]) == (
        201,
        "false",
        str(their_plan.pk),
    )


def test_an_idempotency_key_longer_than_255_characters_is_refused(client, plan):
    response = client.post(URL, body(plan), format="json", headers={"Idempotency-Key": "k" * 256})

    assert (response.status_code, response.json()) == (
        400,
        {"idempotency_key": ["The Idempotency-Key header is longer than 255 characters."]},
    )
    assert Payment.objects.count() == 1


# Notes, delete, refund, void -----------------------------------------------------------------------------


@pytest.fixture
def paid(owner, plan) -> Payment:
    return payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))


def test_patch_changes_notes_and_reference_only(client, paid):
    response = client.patch(f"{URL}{paid.pk}/", {"notes": "Paid by the son.", "reference": " R-2 "})
    amount = client.patch(f"{URL}{paid.pk}/", {"notes": "Ignored?", "amount": "1"})

    assert (amount.status_code, amount.json()) == (400, {"amount": ["This field is read-only."]})
    assert response.status_code == 200
    assert (response.json()["notes"], response.json()["reference"], response.json()["amount"]) == (
        "Paid by the son.",
        "R-2",
        "250.00",
    )


def test_there_is_no_put(client, paid):
    response = client.put(f"{URL}{paid.pk}/", {"notes": "x"}, format="json")

    assert (response.status_code, response.json()) == (405, {"detail": 'Method "PUT" not allowed.'})


def test_deleting_a_completed_payment_is_a_conflict(client, paid):
    response = client.delete(f"{URL}{paid.pk}/")

    assert (response.status_code, response.json()) == (
        409,
        {"status": ["Payment 2 moved money: refund or void it instead."]},
    )
    paid.refresh_from_db()
    assert paid.status == Payment.Status.COMPLETED


def test_deleting_a_pending_payment_withdraws_it_and_keeps_the_row(client, plan):
    pending = client.post(URL, body(plan, status="pending"), format="json").json()

    response = client.delete(f"{URL}{pending['id']}/")

    assert (response.status_code, response.content) == (204, b"")
    assert client.get(f"{URL}{pending['id']}/").json()["status"] == "voided"
    assert Payment.objects.count() == 2


def test_refund_reverses_the_allocations_and_reopens_the_balance(client, paid, plan, manager):
    response = client.post(f"{URL}{paid.pk}/refund/", {"reason": "Goods returned."}, format="json")

    assert response.status_code == 200, response.content
    refund = response.json()
    assert (refund["status"], refund["reversed_at"], refund["reversal_reason"]) == (
        "refunded",
        "2026-03-01T12:00:00Z",
        "Goods returned.",
    )
    assert refund["allocations"] == [
        {"installment_number": 1, "kind": "principal", "amount": "200.00", "is_reversal": False},
        {"installment_number": 2, "kind": "principal", "amount": "50.00", "is_reversal": False},
        {"installment_number": 1, "kind": "principal", "amount": "-200.00", "is_reversal": True},
        {"installment_number": 2, "kind": "principal", "amount": "-50.00", "is_reversal": True},
    ]
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.remaining_balance) == (Decimal("200.00"), Decimal("800.00"))
    paid.refresh_from_db()
    assert paid.reversed_by == manager


def test_refunding_a_refunded_payment_is_a_conflict(client, paid):
    client.post(f"{URL}{paid.pk}/refund/", {"reason": "Goods returned."}, format="json")

    again = client.post(f"{URL}{paid.pk}/refund/", {"reason": "Goods returned."}, format="json")
    void = client.post(f"{URL}{paid.pk}/void/", {"reason": "Typed twice."}, format="json")

    assert (again.status_code, again.json()) == (409, {"status": ["Payment 2 is refunded."]})
    assert (void.status_code, void.json()) == (409, {"status": ["Payment 2 is refunded."]})
    assert PaymentAllocation.objects.filter(payment=paid).count() == 4


def test_a_refund_needs_a_reason(client, paid):
    missing = client.post(f"{URL}{paid.pk}/refund/", {}, format="json")
    blank = client.post(f"{URL}{paid.pk}/refund/", {"reason": ""}, format="json")

    assert (missing.status_code, missing.json()) == (400, {"reason": ["This field is required."]})
    assert (blank.status_code, blank.json()) == (400, {"reason": ["This field may not be blank."]})


def test_a_pending_payment_cannot_be_refunded_but_can_be_voided(client, plan):
    pending = client.post(URL, body(plan, status="pending"), format="json").json()

    refund = client.post(f"{URL}{pending['id']}/refund/", {"reason": "x"}, format="json")
    void = client.post(f"{URL}{pending['id']}/void/", {"reason": "Cheque bounced."}, format="json")

    assert (refund.status_code, refund.json()) == (409, {"status": ["Payment 2 is pending."]})
    assert (void.status_code, void.json()["status"], void.json()["allocations"]) == (200, "voided", [])


def test_refunding_the_payment_that_completed_a_plan_reopens_it(client, plan):
    final = client.post(URL, body(plan, amount="800.00"), format="json").json()

    response = client.post(f"{URL}{final['id']}/refund/", {"reason": "Chargeback."}, format="json")

    assert response.status_code == 200
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason, plan.remaining_balance) == (
        InstallmentPlan.Status.ACTIVE,
        "Re-opened by a refund.",
        Decimal("800.00"),
    )


def test_void_reverses_a_completed_payment(client, paid, plan):
    response = client.post(f"{URL}{paid.pk}/void/", {"reason": "Typed twice."}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reversal_reason"]) == ("voided", "Typed twice.")
    assert [line["amount"] for line in response.json()["allocations"]] == ["200.00", "50.00", "-200.00", "-50.00"]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")


# Pending payments: complete and fail -----------------------------------------------------------------------


def _pending(client, plan, **overrides) -> dict:
    response = client.post(URL, body(plan, status="pending", payment_method="cheque", **overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_completing_a_cleared_cheque_allocates_it_exactly_as_a_completed_post(
    client, plan, owner, customer, manager, ledger_assert
):
    twin = plan_make(actor=owner, customer=customer)  # the same schedule, paid at once for comparison
    posted = client.post(URL, body(twin), format="json").json()
    pending = _pending(client, plan)

    response = client.post(f"{URL}{pending['id']}/complete/", format="json")

    assert response.status_code == 200, response.content
    completed = response.json()
    assert (completed["status"], completed["settled_by"], completed["settled_at"]) == (
        "completed",
        "manager",
        "2026-03-01T12:00:00Z",
    )
    assert (
        completed["allocations"]
        == posted["allocations"]
        == [
            {"installment_number": 1, "kind": "principal", "amount": "200.00", "is_reversal": False},
            {"installment_number": 2, "kind": "principal", "amount": "50.00", "is_reversal": False},
        ]
    )
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.remaining_balance) == (Decimal("450.00"), Decimal("550.00"))
    payment = Payment.objects.get(pk=pending["id"])
    assert (payment.settled_by, payment.balance_after, payment.next_due_date_after) == (
        manager,
        Decimal("550.00"),
        date(2026, 3, 15),
    )
    ledger_assert(plan)
    ledger_assert(twin)


def test_completing_twice_is_a_conflict_naming_the_status_and_allocates_once(client, plan, ledger_assert):
    pending = _pending(client, plan)
    client.post(f"{URL}{pending['id']}/complete/", format="json")

    again = client.post(f"{URL}{pending['id']}/complete/", format="json")
    fail = client.post(f"{URL}{pending['id']}/fail/", {"reason": "Bounced."}, format="json")

    assert (again.status_code, again.json()) == (409, {"status": ["Payment 2 is completed, not pending."]})
    assert (fail.status_code, fail.json()) == (409, {"status": ["Payment 2 is completed, not pending."]})
    assert PaymentAllocation.objects.filter(payment_id=pending["id"]).count() == 2
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("450.00")
    ledger_assert(plan)


def test_a_pending_payment_that_no_longer_fits_is_refused_with_the_remaining_balance(
    client, plan, row_counts, ledger_assert
):
    pending = _pending(client, plan, amount="500.00")
    client.post(URL, body(plan, amount="400.00"), format="json")
    before = row_counts()

    response = client.post(f"{URL}{pending['id']}/complete/", format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"amount": ["500.00 exceeds the remaining balance 400.00 of plan P-000001."]},
    )
    assert row_counts() == before
    assert Payment.objects.get(pk=pending["id"]).status == Payment.Status.PENDING
    ledger_assert(plan)


def test_a_pending_payment_on_a_cancelled_plan_cannot_be_completed(client, plan, owner, ledger_assert):
    pending = _pending(client, plan)
    plan_cancel(actor=owner, plan=plan, reason="Goods returned")

    response = client.post(f"{URL}{pending['id']}/complete/", format="json")

    assert (response.status_code, response.json()) == (
        409,
        {"plan": ["Plan P-000001 is cancelled: it takes no payments."]},
    )
    ledger_assert(plan)


def test_failing_a_bounced_cheque_needs_a_reason_and_moves_no_money(client, plan, manager, ledger_assert):
    pending = _pending(client, plan)

    missing = client.post(f"{URL}{pending['id']}/fail/", {}, format="json")
    response = client.post(f"{URL}{pending['id']}/fail/", {"reason": "Cheque bounced."}, format="json")
    complete = client.post(f"{URL}{pending['id']}/complete/", format="json")

    assert (missing.status_code, missing.json()) == (400, {"reason": ["This field is required."]})
    assert response.status_code == 200, response.content
    failed = response.json()
    assert (failed["status"], failed["reversal_reason"], failed["settled_by"], failed["allocations"]) == (
        "failed",
        "Cheque bounced.",
        "manager",
        [],
    )
    assert (complete.status_code, complete.json()) == (409, {"status": ["Payment 2 is failed, not pending."]})
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.last_payment_number) == (Decimal("200.00"), 2)
    ledger_assert(plan)


def test_completing_and_failing_leave_an_audit_trail_naming_the_action_and_the_clerk(
    client, plan, owner, manager, customer
):
    cheque = _pending(client, plan)
    bounced = _pending(client, plan_make(actor=owner, customer=customer))

    client.post(f"{URL}{cheque['id']}/complete/", format="json")
    client.post(f"{URL}{bounced['id']}/fail/", {"reason": "Cheque bounced."}, format="json")

    [completed] = Entry.objects.filter(object_id=cheque["id"], operation="update")
    [failed] = Entry.objects.filter(object_id=bounced["id"], operation="update")
    assert (completed.action, completed.source, completed.actor_id) == ("payment.complete", "api", manager.pk)
    assert (completed.before["status"], completed.after["status"], completed.after["settled_by_id"]) == (
        "pending",
        "completed",
        str(manager.pk),
    )
    allocations = Entry.objects.filter(context_id=completed.context_id, object_type="payments.paymentallocation")
    assert allocations.count() == 2
    assert (failed.action, failed.after["status"], failed.after["reversal_reason"]) == (
        "payment.fail",
        "failed",
        "Cheque bounced.",
    )


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 200), ("manager", 200), ("clerk", 200), ("viewer", 403)], ids=str
)
@pytest.mark.parametrize("verb", ["complete", "fail"])
def test_writers_complete_and_fail_pending_payments_and_viewers_cannot(
    api_client, plan, owner, merchant, today, role, expected, verb
):
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status="pending")
    api_client.force_authenticate(UserFactory(merchant=merchant, role=role, username=f"{role}-2"))

    body = {"reason": "Cheque bounced."} if verb == "fail" else {}
    response = api_client.post(f"{URL}{pending.pk}/{verb}/", body, format="json")

    assert response.status_code == expected, response.content
    pending.refresh_from_db()
    if expected == 403:
        assert (response.json(), pending.status) == ({"detail": "Your role does not allow this."}, "pending")
    else:
        assert pending.status == {"complete": "completed", "fail": "failed"}[verb]


@pytest.mark.parametrize("verb", ["complete", "fail"])
def test_another_merchants_pending_payment_is_not_found(api_client, plan, owner, other_owner, today, verb):
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status="pending")
    api_client.force_authenticate(other_owner)

    response = api_client.post(f"{URL}{pending.pk}/{verb}/", {"reason": "Cheque bounced."}, format="json")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    pending.refresh_from_db()
    assert (pending.status, pending.allocations.count()) == ("pending", 0)


# Lists ---------------------------------------------------------------------------------------------------


@pytest.fixture
def ledger(owner, merchant, customer, plan, other_merchant):
    """P-000001 (Amina): 1 down 200.00 cash 01-15, 2: 250.00 card 02-20 "RCPT-9", 3: 30.00 cheque 02-25 pending.
    P-000002 (Bilal): 1 down 100.00 cash 01-20, 2: 75.50 mobile wallet 02-01, refunded."""
    bilal = CustomerFactory(merchant=merchant, name="Bilal Nasser", phone="+14155550111")
    second = plan_make(
        actor=owner,
        customer=bilal,
        total_amount=Decimal("500.00"),
        down_payment=Decimal("100.00"),
        start_date=date(2026, 1, 20),
    )
    payment_post(
        actor=owner,
        plan=plan,
        amount=Decimal("250.00"),
        payment_date=date(2026, 2, 20),
        payment_method="card",
        reference="RCPT-9",
    )
    payment_post(
        actor=owner,
        plan=plan,
        amount=Decimal("30.00"),
        payment_date=date(2026, 2, 25),
        payment_method="cheque",
        status="pending",
        notes="Post-dated cheque",
    )
    refunded = payment_post(
        actor=owner, plan=second, amount=Decimal("75.50"), payment_date=date(2026, 2, 1), payment_method="mobile_wallet"
    )
    payment_refund(actor=owner, payment=refunded, reason="Wrong plan.")
    stranger = UserFactory(merchant=other_merchant, role=Role.OWNER)
    plan_make(actor=stranger, customer=CustomerFactory(merchant=other_merchant))
    return {"second": second, "bilal": bilal}


def listed(response) -> list[tuple[str, int, str]]:
    assert response.status_code == 200, response.content
    return [(line["plan_reference"], line["payment_number"], line["amount"]) for line in response.json()["results"]]


ALL = [
    ("P-000001", 3, "30.00"),
    ("P-000001", 2, "250.00"),
    ("P-000002", 2, "75.50"),
    ("P-000002", 1, "100.00"),
    ("P-000001", 1, "200.00"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("status=completed", [ALL[1], ALL[3], ALL[4]]),
        ("status=pending", [ALL[0]]),
        ("status=refunded", [ALL[2]]),
        ("payment_method=card", [ALL[1]]),
        ("payment_method=cash", [ALL[3], ALL[4]]),
        ("is_down_payment=true", [ALL[3], ALL[4]]),
        ("is_down_payment=false", ALL[:3]),
        ("date_from=2026-02-01", ALL[:3]),
        ("date_to=2026-01-31", [ALL[3], ALL[4]]),
        ("date_from=2026-02-02&date_to=2026-02-24", [ALL[1]]),
        ("amount_min=100", [ALL[1], ALL[3], ALL[4]]),
        ("amount_max=75.50", [ALL[0], ALL[2]]),
        ("search=rcpt-9", [ALL[1]]),
        ("search=post-dated", [ALL[0]]),
        ("search=bilal", [ALL[2], ALL[3]]),
        ("ordering=amount", [ALL[0], ALL[2], ALL[3], ALL[4], ALL[1]]),
        ("ordering=payment_date&status=completed", [ALL[4], ALL[3], ALL[1]]),
    ],
)
def test_payment_list_filters(client, ledger, query, expected):
    assert listed(client.get(f"{URL}?{query}")) == expected


def test_payment_list_filters_by_plan_and_customer(client, ledger, plan, customer):
    assert listed(client.get(f"{URL}?plan={ledger['second'].pk}")) == [ALL[2], ALL[3]]
    assert listed(client.get(f"{URL}?customer={customer.pk}")) == [ALL[0], ALL[1], ALL[4]]


def test_payment_list_is_paginated(client, ledger):
    body = client.get(f"{URL}?page_size=2&page=2").json()

    assert (body["count"], body["next"], body["previous"]) == (
        5,
        "http://testserver/api/installments/payments/?page=3&page_size=2",
        "http://testserver/api/installments/payments/?page_size=2",
    )
    assert [(line["plan_reference"], line["payment_number"]) for line in body["results"]] == [
        ("P-000002", 2),
        ("P-000002", 1),
    ]


def test_payment_list_refuses_bad_filter_values_naming_them(client, ledger):
    response = client.get(f"{URL}?status=lost&amount_min=lots&date_to=soon")

    assert response.status_code == 400
    assert response.json() == {
        "status": ["Select a valid choice. lost is not one of the available choices."],
        "amount_min": ["Enter a number."],
        "date_to": ["Enter a valid date."],
    }
