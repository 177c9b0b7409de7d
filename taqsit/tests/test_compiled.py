"""Queries compiled once (taqsit/compiled.py): the statement the ORM would send, the same instances and rows for
any values, compiled on first use only, and refused when an argument is not a parameter of the SQL."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler

from customers.tests.factories import CustomerFactory
from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan
from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit.compiled import CompiledQuery
from taqsit.models import Merchant, User
from taqsit.tenancy import merchant_scope

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in Installment._meta.concrete_fields]


def _rows_of(plan_id):
    return Installment.objects.filter(plan_id=plan_id, amount_due__gt=0).order_by("due_date", "number")


def _recording(sent: list):
    def wrapper(execute, sql, params, many, context):
        sent.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


def _compilations(monkeypatch, compiler: type[SQLCompiler] = SQLCompiler) -> list[str]:
    """The models of the statements ``compiler`` compiles from now on (its subclasses' own ``as_sql`` aside)."""
    compiled: list[str] = []
    original = compiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiler, "as_sql", counting)
    return compiled


@pytest.fixture
def plans(merchant, owner):
    first = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
    second = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
    payment_post(actor=owner, plan=first, amount=Decimal("150.00"))
    return first, second


def test_the_instances_are_the_orms_for_each_value_and_it_compiles_once(plans, monkeypatch):
    query = CompiledQuery(_rows_of)
    compiled = _compilations(monkeypatch)

    for plan in (*plans, plans[0]):
        ours = list(query.instances(plan.pk))
        theirs = list(_rows_of(plan.pk))
        assert len(ours) == 4
        assert [[getattr(row, name) for name in FIELDS] for row in ours] == [
            [getattr(row, name) for name in FIELDS] for row in theirs
        ]
        assert all(type(row) is Installment and row._state.db == "default" and not row._state.adding for row in ours)

    # Compiled on the first run only; the ORM's own three lists compiled three times.
    assert compiled == ["Installment"] * 4
    assert ours[0].amount_paid == Decimal("150.000")


def test_it_sends_the_statement_the_orm_sends(plans):
    query = CompiledQuery(_rows_of)
    list(query.instances(plans[0].pk))
    sent: list = []
    with _recording(sent):
        list(query.instances(plans[1].pk))
        list(_rows_of(plans[1].pk))
    assert len(sent) == 2
    assert sent[0][0] == sent[1][0]
    assert sent[0][1] == sent[1][1]


def test_rows_as_tuples_and_the_lock_and_merchant_in_the_sql(plans, merchant, other_merchant):
    query = CompiledQuery(
        lambda plan_id, merchant_id: (
            InstallmentPlan.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk=plan_id, merchant_id=merchant_id)
            .values_list("pk", "number")
        )
    )
    first, _second = plans
    with transaction.atomic():
        assert query.rows(first.pk, merchant.pk) == [(first.pk, first.number)]
        assert query.rows(first.pk, other_merchant.pk) == []
        assert query.rows(uuid.uuid4(), merchant.pk) == []
    sql = query._compiled["default"].sql
    assert sql.endswith('FOR NO KEY UPDATE OF "installments_installmentplan"')


def test_an_argument_that_is_no_parameter_is_refused():
    query = CompiledQuery(lambda plan_id: Installment.objects.filter(number=1))

    with pytest.raises(ValueError, match="every argument must be a parameter of the SQL"):
        query.rows(uuid.uuid4())
    with pytest.raises(TypeError, match="takes 1 values, not 2"):
        CompiledQuery(_rows_of).rows(uuid.uuid4(), uuid.uuid4())


def test_the_plan_lock_with_the_merchant_in_hand_reads_the_plan_only(plans, merchant, other_merchant, owner):
    first, _second = plans
    with transaction.atomic(), merchant_scope(merchant.pk):
        sent: list = []
        with _recording(sent):
            locked = plan_lock(plan_id=first.pk, no_key=True, merchant=owner.merchant)
        assert locked.merchant is owner.merchant
        assert (locked.pk, locked.amount_paid, locked.status) == (first.pk, Decimal("350.000"), "active")
        assert len(sent) == 1
        assert '"taqsit_merchant"' not in sent[0][0]
        assert sent[0][0].endswith('FOR NO KEY UPDATE OF "installments_installmentplan"')
        with pytest.raises(InstallmentPlan.DoesNotExist):
            plan_lock(plan_id=first.pk, no_key=True, merchant=other_merchant)


def test_select_related_objects_come_attached_as_the_orms(owner, superuser, merchant):
    query = CompiledQuery(lambda user_id: User.objects.select_related("merchant").filter(pk=user_id))
    user_fields = [field.attname for field in User._meta.concrete_fields]
    merchant_fields = [field.attname for field in Merchant._meta.concrete_fields]

    (ours,) = query.instances(owner.pk)
    theirs = User.objects.select_related("merchant").get(pk=owner.pk)
    sent: list = []
    with _recording(sent):
        assert [getattr(ours, name) for name in user_fields] == [getattr(theirs, name) for name in user_fields]
        assert [getattr(ours.merchant, name) for name in merchant_fields] == [
            getattr(theirs.merchant, name) for name in merchant_fields
        ]
        assert ours.merchant.pk == merchant.pk
        # The platform's admin has no merchant: none attached, and none read later either.
        (admin,) = query.instances(superuser.pk)
        assert admin.merchant is None
    assert len(sent) == 1
    assert query.instances(uuid.uuid4()) == []
    with pytest.raises(TypeError, match="selects no model instances"):
        CompiledQuery(lambda user_id: User.objects.filter(pk=user_id).values_list("username")).instances(owner.pk)
