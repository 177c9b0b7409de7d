"""Writes compiled once (taqsit/compiled.py): ``row_update``, ``row_insert`` and ``rows_insert`` send the statement
``save(update_fields=...)``, ``save(force_insert=True)`` and ``bulk_create()`` send, with the same parameters, signals
and state, compile it once per shape, and leave what they cannot compile to the ORM."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler, SQLUpdateCompiler

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.tests.factories import plan_make
from payments.models import Payment, PaymentAllocation, PaymentProof
from payments.services import payment_post
from taqsit import compiled
from taqsit.compiled import row_insert, row_update, rows_insert
from taqsit.models import User
from taqsit.tests.test_compiled import _compilations, _recording

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
PAID_FIELDS = ("interest_paid", "principal_paid", "amount_paid", "status", "paid_on", "updated_at")


@pytest.fixture(autouse=True)
def _nothing_compiled(monkeypatch):
    monkeypatch.setattr(compiled, "_WRITES", {})


def _sent_then_undone(write) -> list:
    """The statements ``write()`` sends, in a savepoint rolled back afterwards (so the twin can write the same)."""
    sent: list = []
    with transaction.atomic():
        with _recording(sent):
            write()
        transaction.set_rollback(True)
    return sent


def _signals(model) -> list[tuple]:
    heard: list[tuple] = []

    def pre(sender, instance, **kwargs):
        heard.append(("pre", sender, instance.pk, kwargs["update_fields"], kwargs["raw"], kwargs["using"]))

    def post(sender, instance, created, **kwargs):
        heard.append(("post", sender, instance.pk, created, kwargs["update_fields"], kwargs["raw"], kwargs["using"]))

    pre_save.connect(pre, sender=model, weak=False, dispatch_uid="test-compiled-pre")
    post_save.connect(post, sender=model, weak=False, dispatch_uid="test-compiled-post")
    return heard


@pytest.fixture
def listening():
    yield _signals
    for model in (Installment, Payment, InstallmentPlan):
        pre_save.disconnect(sender=model, dispatch_uid="test-compiled-pre")
        post_save.disconnect(sender=model, dispatch_uid="test-compiled-post")


@pytest.fixture
def plan(merchant, owner):
    return plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))


def _rows(plan) -> list[Installment]:
    return list(Installment.objects.filter(plan=plan).order_by("number"))


def _paid(row: Installment, amount: str) -> Installment:
    row.principal_paid += Decimal(amount)
    row.amount_paid = row.principal_paid + row.interest_paid
    row.status = Installment.Status.PARTIALLY_PAID
    return row


def test_an_update_sends_the_orms_statement_with_its_signals_and_compiles_once(plan, monkeypatch, listening):
    heard = listening(Installment)
    updates = _compilations(monkeypatch, SQLUpdateCompiler)
    first, second, third = _rows(plan)[:3]
    twin = _rows(plan)[0]
    with time_machine.travel(NOW, tick=False):
        theirs = _sent_then_undone(lambda: _paid(first, "10.00").save(update_fields=PAID_FIELDS))
        ours = _sent_then_undone(lambda: row_update(_paid(twin, "10.00"), PAID_FIELDS))
        assert ours == theirs
        assert len(ours) == 1 and ours[0][0].startswith('UPDATE "installments_installment" SET "updated_at" = %s')
        assert heard[0::2] == [("pre", Installment, first.pk, frozenset(PAID_FIELDS), False, "default")] * 2
        assert heard[1::2] == [("post", Installment, first.pk, False, frozenset(PAID_FIELDS), False, "default")] * 2
        row_update(_paid(second, "7.50"), PAID_FIELDS)
        row_update(_paid(third, "0.25"), PAID_FIELDS)

    # The ORM's save compiled once, ours once (the first); the next two rows took the kept statement.
    assert updates == ["Installment", "Installment"]
    stored = {row.pk: row for row in _rows(plan)}
    assert (stored[second.pk].principal_paid, stored[second.pk].amount_paid) == (
        second.principal_paid,
        second.amount_paid,
    )
    assert stored[third.pk].principal_paid == Decimal("0.250")
    assert stored[third.pk].status == Installment.Status.PARTIALLY_PAID
    assert stored[third.pk].updated_at == NOW
    assert second._state.adding is False and second._state.db == "default"


def test_an_expression_goes_to_the_orm_and_leaves_the_kept_statement_alone(plan, monkeypatch):
    updates = _compilations(monkeypatch, SQLUpdateCompiler)
    first, second, third = _rows(plan)[:3]
    row_update(_paid(first, "1.00"), PAID_FIELDS)
    second.principal_paid = F("principal_paid") + Decimal("2.000")
    second.amount_paid = F("amount_paid") + Decimal("2.000")
    row_update(second, PAID_FIELDS)
    row_update(_paid(third, "3.00"), PAID_FIELDS)

    assert updates == ["Installment", "Installment"]
    second.refresh_from_db()
    assert second.principal_paid == Decimal("2.000")
    third.refresh_from_db()
    assert third.principal_paid == Decimal("3.000")


def test_an_update_of_no_row_fails_as_the_orms_and_marks_the_transaction(plan):
    ghost = _rows(plan)[0]
    ghost.pk = uuid.uuid4()
    with transaction.atomic():
        with pytest.raises(DatabaseError, match=r"Save with update_fields did not affect any rows\."):
            row_update(ghost, PAID_FIELDS)
        assert connection.needs_rollback  # as the ORM's save leaves it
        transaction.set_rollback(False)
    with pytest.raises(ValueError, match="The following fields do not exist in this model"):
        row_update(_rows(plan)[0], ("principal_paid", "no_such_field"))


def _payment(plan, owner, *, pk) -> Payment:
    return Payment(
        id=pk,
        merchant_id=plan.merchant_id,
        plan=plan,
        payment_number=plan.last_payment_number + 1,
        amount=Decimal("25.000"),
        payment_date=dt.date(2026, 11, 20),
        payment_method=Payment.Method.CASH,
        reference=" ",
        status=Payment.Status.COMPLETED,
        received_by=owner,
        idempotency_key="k-1",
    )


def test_an_insert_sends_the_orms_statement_and_signals(plan, owner, listening, monkeypatch):
    heard = listening(Payment)
    inserts = _compilations(monkeypatch, SQLInsertCompiler)
    pk = uuid.uuid4()
    with time_machine.travel(NOW, tick=False):
        theirs = _sent_then_undone(lambda: _payment(plan, owner, pk=pk).save(force_insert=True))
        ours = _sent_then_undone(lambda: row_insert(_payment(plan, owner, pk=pk)))
        kept = _payment(plan, owner, pk=uuid.uuid4())
        row_insert(kept)

    assert ours == theirs
    assert ours[0][0].startswith('INSERT INTO "payments_payment" ("created_at", "updated_at", "merchant_id", "id"')
    assert heard == [
        ("pre", Payment, pk, None, False, "default"),
        ("post", Payment, pk, True, None, False, "default"),
    ] * 2 + [
        ("pre", Payment, kept.pk, None, False, "default"),
        ("post", Payment, kept.pk, True, None, False, "default"),
    ]
    assert inserts == ["Payment", "Payment"]
    stored = Payment.objects.get(pk=kept.pk)
    assert (stored.amount, stored.created_at, stored.idempotency_key, stored.received_by_id) == (
        Decimal("25.000"),
        NOW,
        "k-1",
        owner.pk,
    )
    assert kept._state.adding is False
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(_payment(plan, owner, pk=kept.pk))
        pytest.fail("a second row with the same id was inserted")


def _lines(payment, rows, amounts) -> list[PaymentAllocation]:
    return [
        PaymentAllocation(
            merchant_id=payment.merchant_id,
            payment=payment,
            installment=row,
            kind=PaymentAllocation.Kind.PRINCIPAL,
            amount=Decimal(amount),
        )
        for row, amount in zip(rows, amounts, strict=True)
    ]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_bulk_insert_sends_the_orms_statement_and_returns_the_ids(plan, owner, monkeypatch, count):
    payment = _payment(plan, owner, pk=uuid.uuid4())
    payment.save(force_insert=True)
    rows = _rows(plan)[:count]
    amounts = ["1.00", "2.50", "0.01"][:count]
    inserts = _compilations(monkeypatch, SQLInsertCompiler)
    with time_machine.travel(NOW, tick=False):
        theirs = _sent_then_undone(lambda: PaymentAllocation.objects.bulk_create(_lines(payment, rows, amounts)))
        ours = _sent_then_undone(lambda: rows_insert(_lines(payment, rows, amounts)))
        kept = rows_insert(_lines(payment, rows, amounts))
        again = rows_insert(_lines(payment, rows, amounts))

    assert ours == theirs
    assert ("UNNEST" in ours[0][0]) is (count > 1)
    assert inserts == ["PaymentAllocation"] * 2
    assert all(isinstance(line.pk, int) and not line._state.adding for line in kept + again)
    stored = PaymentAllocation.objects.filter(pk__in=[line.pk for line in kept + again]).order_by("pk")
    assert [(line.installment_id, line.amount, line.created_at) for line in stored] == [
        (row.pk, Decimal(amount).quantize(Decimal("0.001")), NOW) for row, amount in zip(rows, amounts, strict=True)
    ] * 2


def test_a_bulk_insert_of_nothing_or_of_rows_with_and_without_ids_is_the_orms(plan, owner):
    payment = _payment(plan, owner, pk=uuid.uuid4())
    payment.save(force_insert=True)
    assert rows_insert([]) == []
    first, second = _lines(payment, _rows(plan)[:2], ["1.00", "2.00"])
    first.pk = 10**12
    rows_insert([first, second])
    assert sorted(PaymentAllocation.objects.filter(payment=payment).values_list("amount", flat=True)) == [
        Decimal("1.000"),
        Decimal("2.000"),
    ]
    assert first.pk == 10**12 and isinstance(second.pk, int)


def test_a_payment_at_the_counter_writes_what_it_wrote_before(plan, owner):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("150.00"))

    plan.refresh_from_db()
    rows = _rows(plan)
    assert plan.amount_paid == Decimal("350.000")
    assert [(line.installment_id, line.kind, line.amount) for line in payment.allocations.all()] == [
        (rows[0].pk, PaymentAllocation.Kind.PRINCIPAL, Decimal("150.000"))
    ]
    assert rows[0].principal_paid == Decimal("150.000")
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("150.000")


def test_models_saved_otherwise_are_left_to_the_orm():
    # A file's pre_save stores the file; a user's model saves through its own save() (the password's hash).
    assert [compiled._plain(model) for model in (Payment, PaymentAllocation, Installment, InstallmentPlan)] == [
        True
    ] * 4
    assert compiled._plain(PaymentProof) is False
    assert compiled._plain(User) is False
