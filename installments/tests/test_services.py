"""The plan lifecycle services, late fees and the overdue/summary selectors, on PostgreSQL with exact values.

The clock is frozen at 2026-03-01 (the ``today`` fixture): a ``plan_make`` plan (1000.00, 200.00 down, four
monthly 200.00 from 2026-01-15) is due 2026-02-15, 03-15, 04-15 and 05-15, so its first installment is overdue.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import translation

from customers.tests.factories import CustomerFactory
from installments.jobs import late_fees_apply
from installments.models import Installment, InstallmentPlan, LateFee, Product
from installments.selectors import (
    installments_overdue,
    installments_unpaid,
    overdue_cutoff,
    plan_is_overdue,
    plan_list,
    plan_summary,
)
from installments.services import (
    late_fee_charge,
    plan_approve,
    plan_cancel,
    plan_delete,
    plan_mark_defaulted,
    plan_reject,
    plan_reschedule,
    plan_update,
    product_create,
    product_update,
)
from installments.tests.factories import ProductFactory, late_fee_make, plan_make
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post
from taqsit.models import Merchant, Role
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]


# Reads only these tests made (the pages and the API read through filter sets and the selectors these compose).


def product_list(*, merchant: Merchant, search: str = "", active_only: bool = False) -> QuerySet[Product]:
    """The merchant's products, by name."""
    queryset = Product.objects.for_merchant(merchant)
    if active_only:
        queryset = queryset.filter(is_active=True)
    term = (search or "").strip()
    if term:
        queryset = queryset.filter(Q(name__icontains=term) | Q(sku__icontains=term))
    return queryset.order_by("name", "id")


def product_get(*, merchant: Merchant, pk) -> Product:
    return Product.objects.for_merchant(merchant).get(pk=pk)


def installment_list(
    *,
    merchant: Merchant,
    status: str | None = None,
    due_before: date | None = None,
    due_after: date | None = None,
    today: date | None = None,
) -> QuerySet[Installment]:
    """Installments across the merchant's plans; ``status='overdue'`` is computed from dates."""
    queryset = Installment.objects.for_merchant(merchant).current().select_related("plan", "plan__customer")
    if status == Installment.Status.OVERDUE:
        # The collections list's rows, filtered in place (not ``pk IN (...)``) so the unpaid-by-due-date index
        # serves both the filter and the order.
        queryset = (
            installments_unpaid(merchant=merchant)
            .filter(due_date__lt=overdue_cutoff(merchant, today=today))
            .select_related("plan", "plan__customer")
        )
    elif status:
        queryset = queryset.filter(status=status)
    if due_before:
        queryset = queryset.filter(due_date__lt=due_before)
    if due_after:
        queryset = queryset.filter(due_date__gte=due_after)
    return queryset.order_by("due_date", "plan__number", "number")


def plan_get(*, merchant: Merchant, pk) -> InstallmentPlan:
    """One plan of the merchant; another merchant's is ``InstallmentPlan.DoesNotExist``."""
    return InstallmentPlan.objects.for_merchant(merchant).select_related("customer", "merchant").get(pk=pk)


def plans_overdue(*, merchant: Merchant, today: date | None = None) -> QuerySet[InstallmentPlan]:
    """Plans with at least one overdue installment."""
    return plan_list(merchant=merchant).filter(plan_is_overdue(merchant=merchant, today=today))


Status = InstallmentPlan.Status


@pytest.fixture(autouse=True)
def _ledger_holds_after_every_test(ledger_assert):
    """Whatever a test did through the services, every plan's ledger still adds up afterwards."""
    yield
    for plan in InstallmentPlan.objects.all():
        ledger_assert(plan)


def _schedule(plan):
    """(number, due date, amount due, principal, interest, amount paid, status) of the current rows."""
    return [
        (row.number, row.due_date, row.amount_due, row.principal, row.interest, row.amount_paid, row.status)
        for row in Installment.objects.current().filter(plan=plan).order_by("number")
    ]


def _approval_required(merchant, required=True):
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=required)
    merchant.refresh_from_db()


def _flat_plan(owner, customer, **overrides):
    """1000.00, 200.00 down, 12% flat over four months: rows of 208.00 = 200.00 principal + 8.00 interest."""
    terms = {"finance_charge_method": "flat", "interest_rate": Decimal("12")}
    terms.update(overrides)
    return plan_make(actor=owner, customer=customer, **terms)


# Products -------------------------------------------------------------------------------------------------


def test_product_create(clerk, merchant):
    product = product_create(actor=clerk, name="  Washing machine ", sku=" WM-7 ", price="349.90")

    product.refresh_from_db()
    assert product.merchant == merchant
    assert (product.name, product.sku, product.price, product.is_active) == (
        "Washing machine",
        "WM-7",
        Decimal("349.90"),
        True,
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"price": Decimal("0")}, "price", "0.00 must be greater than zero."),
        ({"price": Decimal("-1.00")}, "price", "-1.00 must be greater than zero."),
        ({"price": "abc"}, "price", "'abc' is not an amount."),
        ({"price": None}, "price", "This field is required."),
        ({"price": Decimal("9.999")}, "price", "9.999 has more decimal places than USD allows (2)."),
        ({"name": "  "}, "name", "This field cannot be blank."),
        ({"sku": "TV-1"}, "sku", "The SKU TV-1 is already used by Television."),
        ({"merchant_id": None}, "merchant_id", "Unknown field."),
    ],
)
def test_product_create_refuses_bad_input(clerk, merchant, fields, field, message):
    ProductFactory(merchant=merchant, name="Television", sku="TV-1")
    before = Product.objects.count()
    arguments = {"name": "Radio", "sku": "", "price": Decimal("20.00")}
    arguments.update(fields)

    with pytest.raises(ValidationError) as excinfo:
        product_create(actor=clerk, **arguments)

    assert excinfo.value.message_dict == {field: [message]}
    assert Product.objects.count() == before


def test_the_same_sku_is_allowed_in_another_merchant_and_blank_skus_never_collide(clerk, merchant, other_owner):
    ProductFactory(merchant=merchant, name="Television", sku="TV-1")

    theirs = product_create(actor=other_owner, name="Their TV", sku="TV-1", price=Decimal("10.00"))
    product_create(actor=clerk, name="Cable", price=Decimal("1.00"))
    product_create(actor=clerk, name="Plug", price=Decimal("1.00"))

    assert theirs.sku == "TV-1"
    assert Product.objects.filter(merchant=merchant, sku="").count() == 2


def test_a_viewer_may_not_create_or_edit_products(viewer, merchant):
    product = ProductFactory(merchant=merchant, name="Television")

    with pytest.raises(PermissionDenied):
        product_create(actor=viewer, name="Radio", price=Decimal("20.00"))
    with pytest.raises(PermissionDenied):
        product_update(actor=viewer, product=product, price=Decimal("1.00"))

    assert Product.objects.count() == 1
    product.refresh_from_db()
    assert product.price == Decimal("500.00")


def test_product_update(clerk, merchant):
    product = ProductFactory(merchant=merchant, name="Television", sku="TV-1")
    ProductFactory(merchant=merchant, name="Radio", sku="RD-1")

    product_update(actor=clerk, product=product, price=Decimal("450.00"), is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        product_update(actor=clerk, product=product, sku="RD-1")

    assert excinfo.value.message_dict == {"sku": ["The SKU RD-1 is already used by Radio."]}
    product.refresh_from_db()
    assert (product.sku, product.price, product.is_active) == ("TV-1", Decimal("450.00"), False)
    assert [item.name for item in product_list(merchant=merchant, active_only=True)] == ["Radio"]
    assert [item.name for item in product_list(merchant=merchant, search="tv-")] == ["Television"]


def test_another_merchants_product_does_not_exist(clerk, other_merchant, merchant):
    theirs = ProductFactory(merchant=other_merchant, name="Their TV")

    with pytest.raises(Product.DoesNotExist):
        product_update(actor=clerk, product=theirs, price=Decimal("1.00"))
    with pytest.raises(Product.DoesNotExist):
        product_get(merchant=merchant, pk=theirs.pk)

    theirs.refresh_from_db()
    assert theirs.price == Decimal("500.00")


# plan_create ----------------------------------------------------------------------------------------------


def test_plan_create_makes_an_active_plan_and_records_the_down_payment(clerk, customer, row_counts):
    before = row_counts()

    plan = plan_make(actor=clerk, customer=customer, notes="Fridge and oven")

    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert plan.number == 1
    assert plan.reference == "P-000001"
    assert plan.customer == customer
    assert plan.created_by == clerk
    assert plan.notes == "Fridge and oven"
    assert plan.total_amount == Decimal("1000.00")
    assert plan.down_payment == Decimal("200.00")
    assert plan.finance_charge == Decimal("0.00")
    assert plan.total_payable == Decimal("1000.00")
    assert plan.installment_amount == Decimal("200.00")
    assert plan.number_of_installments == 4
    assert plan.due_date == date(2026, 5, 15)
    assert plan.amount_paid == Decimal("200.00")
    assert plan.remaining_balance == Decimal("800.00")
    assert plan.last_payment_number == 1
    assert plan.status_changed_at is not None
    pending = Installment.Status.PENDING
    assert _schedule(plan) == [
        (1, date(2026, 2, 15), Decimal("200.00"), Decimal("200.00"), Decimal("0"), Decimal("0"), pending),
        (2, date(2026, 3, 15), Decimal("200.00"), Decimal("200.00"), Decimal("0"), Decimal("0"), pending),
        (3, date(2026, 4, 15), Decimal("200.00"), Decimal("200.00"), Decimal("0"), Decimal("0"), pending),
        (4, date(2026, 5, 15), Decimal("200.00"), Decimal("200.00"), Decimal("0"), Decimal("0"), pending),
    ]
    [payment] = Payment.objects.filter(plan=plan)
    assert payment.payment_number == 1
    assert payment.is_down_payment is True
    assert payment.amount == Decimal("200.00")
    assert payment.status == Payment.Status.COMPLETED
    assert payment.payment_date == date(2026, 1, 15)
    assert payment.received_by == clerk
    assert [(line.kind, line.installment, line.amount, line.reversal_of) for line in payment.allocations.all()] == [
        (PaymentAllocation.Kind.DOWN_PAYMENT, None, Decimal("200.00"), None)
    ]
    after = row_counts()
    assert after["InstallmentPlan"] == before["InstallmentPlan"] + 1
    assert after["Installment"] == before["Installment"] + 4
    assert after["Payment"] == before["Payment"] + 1
    assert after["PaymentAllocation"] == before["PaymentAllocation"] + 1


def test_a_plan_without_down_payment_records_no_payment(owner, customer):
    plan = plan_make(actor=owner, customer=customer, down_payment=Decimal("0"))

    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert plan.amount_paid == Decimal("0")
    assert plan.last_payment_number == 0
    assert plan.installment_amount == Decimal("250.00")
    assert not Payment.objects.filter(plan=plan).exists()


def test_a_flat_plan_carries_its_finance_charge(owner, customer):
    plan = _flat_plan(owner, customer)

    plan.refresh_from_db()
    assert plan.finance_charge == Decimal("32.00")
    assert plan.total_payable == Decimal("1032.00")
    assert plan.interest_rate == Decimal("12")
    assert [(row[2], row[3], row[4]) for row in _schedule(plan)] == [
        (Decimal("208.00"), Decimal("200.00"), Decimal("8.00"))
    ] * 4


def test_plan_create_is_pending_when_the_merchant_requires_approval(clerk, merchant, customer):
    _approval_required(merchant)

    plan = plan_make(actor=clerk, customer=customer)

    plan.refresh_from_db()
    assert plan.status == Status.PENDING
    assert plan.amount_paid == Decimal("0")
    assert plan.last_payment_number == 0
    assert Installment.objects.filter(plan=plan).count() == 4
    assert not Payment.objects.filter(plan=plan).exists()


def test_approving_a_pending_plan_records_the_down_payment(clerk, manager, merchant, customer):
    _approval_required(merchant)
    plan = plan_make(actor=clerk, customer=customer)

    approved = plan_approve(actor=manager, plan=plan)

    plan.refresh_from_db()
    assert approved.status == Status.ACTIVE
    assert plan.status == Status.ACTIVE
    assert plan.decided_by == manager
    assert plan.decided_at is not None
    assert plan.amount_paid == Decimal("200.00")
    [payment] = Payment.objects.filter(plan=plan)
    assert (payment.payment_number, payment.amount, payment.is_down_payment) == (1, Decimal("200.00"), True)
    assert payment.received_by == manager
    assert payment.allocations.get().kind == PaymentAllocation.Kind.DOWN_PAYMENT


def test_plan_total_comes_from_the_items(clerk, merchant, customer):
    fridge = ProductFactory(merchant=merchant, name="Fridge", price=Decimal("450.00"))

    plan = plan_make(
        actor=clerk,
        customer=customer,
        total_amount=None,
        items=[
            {"product": fridge.pk, "quantity": 2},
            {"product": None, "description": "Delivery", "quantity": 1, "unit_price": "100.00"},
        ],
    )

    plan.refresh_from_db()
    assert plan.total_amount == Decimal("1000.00")
    assert plan.total_payable == Decimal("1000.00")
    assert [
        (item.product, item.description, item.quantity, item.unit_price, item.line_total)
        for item in plan.items.order_by("id")
    ] == [
        (fridge, "Fridge", 2, Decimal("450.00"), Decimal("900.00")),
        (None, "Delivery", 1, Decimal("100.00"), Decimal("100.00")),
    ]


def test_items_and_a_matching_total_are_accepted(clerk, merchant, customer):
    fridge = ProductFactory(merchant=merchant, name="Fridge", price=Decimal("500.00"))

    plan = plan_make(actor=clerk, customer=customer, items=[{"product": fridge, "quantity": 2}])

    assert plan.total_amount == Decimal("1000.00")
    assert plan.items.get().line_total == Decimal("1000.00")


def test_items_that_do_not_match_the_total_are_refused(clerk, merchant, customer, row_counts):
    fridge = ProductFactory(merchant=merchant, name="Fridge", price=Decimal("450.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=clerk, customer=customer, total_amount=Decimal("999.00"), items=[{"product": fridge.pk}])

    assert excinfo.value.message_dict == {
        "total_amount": ["The total 999.00 does not match the items, which add up to 450.00."]
    }
    assert row_counts() == before


@pytest.mark.parametrize("as_instance", [False, True])
def test_another_merchants_product_is_refused(clerk, customer, other_merchant, as_instance, row_counts):
    theirs = ProductFactory(merchant=other_merchant, price=Decimal("1000.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(
            actor=clerk,
            customer=customer,
            total_amount=None,
            items=[{"product": theirs if as_instance else theirs.pk, "quantity": 1}],
        )

    assert excinfo.value.message_dict == {"items": ["Item 1: no such product."]}
    assert row_counts() == before


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"description": "", "unit_price": "10.00"}, "Item 1: describe the item or choose a product."),
        ({"description": "Cable", "quantity": 0, "unit_price": "10.00"}, "Item 1: quantity must be at least 1."),
        (
            {"description": "Cable", "quantity": "two", "unit_price": "10.00"},
            "Item 1: quantity 'two' is not a whole number.",
        ),
        ({"description": "Cable"}, "Item 1: unit price: This field is required."),
        (
            {"description": "Cable", "unit_price": "10.005"},
            "Item 1: unit price: 10.005 has more decimal places than USD allows (2).",
        ),
    ],
)
def test_bad_items_are_refused_on_the_items_field(clerk, customer, item, message, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=clerk, customer=customer, total_amount=None, items=[item])

    assert excinfo.value.message_dict == {"items": [message]}
    assert row_counts() == before


def test_the_same_idempotency_key_returns_the_same_plan_and_creates_nothing(clerk, merchant, customer, row_counts):
    first = plan_make(actor=clerk, customer=customer, idempotency_key="order-42")
    before = row_counts()

    again = plan_make(actor=clerk, customer=customer, idempotency_key="order-42")

    assert again.pk == first.pk
    assert again.number == 1
    assert row_counts() == before
    merchant.refresh_from_db()
    assert merchant.last_plan_number == 1
    assert Payment.objects.filter(plan=first).count() == 1


def test_idempotency_keys_are_per_merchant(clerk, customer, other_owner, other_merchant):
    mine = plan_make(actor=clerk, customer=customer, idempotency_key="order-42")
    theirs = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant), idempotency_key="order-42")

    assert theirs.pk != mine.pk
    assert (mine.reference, theirs.reference) == ("P-000001", "P-000001")


def test_plan_numbers_count_per_merchant(owner, customer, other_owner, other_merchant):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer)
    elsewhere = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    third = plan_make(actor=owner, customer=customer)

    assert [first.reference, second.reference, third.reference] == ["P-000001", "P-000002", "P-000003"]
    assert elsewhere.reference == "P-000001"
    assert str(second) == "P-000002"


def test_a_refused_plan_does_not_use_up_a_plan_number(owner, merchant, customer):
    with pytest.raises(ValidationError):
        plan_make(actor=owner, customer=customer, number_of_installments=0)

    assert plan_make(actor=owner, customer=customer).reference == "P-000001"
    merchant.refresh_from_db()
    assert merchant.last_plan_number == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"total_amount": Decimal("0")}, "total_amount"),
        ({"total_amount": "abc"}, "total_amount"),
        ({"total_amount": Decimal("1000.001")}, "total_amount"),
        ({"total_amount": None}, "total_amount"),
        ({"down_payment": Decimal("1000.00")}, "down_payment"),
        ({"down_payment": Decimal("-1.00")}, "down_payment"),
        ({"number_of_installments": 0}, "number_of_installments"),
        ({"number_of_installments": 601}, "number_of_installments"),
        ({"installment_frequency": "daily"}, "installment_frequency"),
        ({"start_date": None}, "start_date"),
        ({"first_due_date": date(2026, 1, 10)}, "first_due_date"),
        ({"due_date": date(2026, 5, 16)}, "due_date"),
        ({"installment_amount": Decimal("150.00")}, "installment_amount"),
        ({"finance_charge_method": "compound", "interest_rate": Decimal("5")}, "finance_charge_method"),
        ({"finance_charge_method": "flat"}, "interest_rate"),
        ({"interest_rate": Decimal("5")}, "interest_rate"),
    ],
)
def test_plan_create_refuses_bad_terms_and_leaves_nothing(owner, merchant, customer, overrides, field, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=owner, customer=customer, **overrides)

    assert field in excinfo.value.message_dict
    assert row_counts() == before
    merchant.refresh_from_db()
    assert merchant.last_plan_number == 0


def test_plan_create_for_another_merchants_customer_is_refused(other_owner, customer, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=other_owner, customer=customer)

    assert excinfo.value.message_dict == {"customer": ["No such customer."]}
    assert row_counts() == before


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK])
def test_writers_create_plans(merchant, customer, role):
    actor = UserFactory(merchant=merchant, role=role)

    assert plan_make(actor=actor, customer=customer).status == Status.ACTIVE


def test_a_viewer_may_not_create_a_plan(viewer, customer, row_counts):
    before = row_counts()

    with pytest.raises(PermissionDenied):
        plan_make(actor=viewer, customer=customer)

    assert row_counts() == before


def test_a_kwd_plan_end_to_end(db):
    """Three decimals: the split's remainder goes to the last row, payments refuse a fourth decimal."""
    merchant = MerchantFactory(currency="KWD", timezone="Asia/Kuwait", country="KW")
    owner = UserFactory(merchant=merchant, role=Role.OWNER)
    customer = CustomerFactory(merchant=merchant)
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("1000.500"),
        down_payment=Decimal("100.000"),
        number_of_installments=3,
    )

    assert plan.total_payable == Decimal("1000.500")
    assert [(row[0], row[1], row[2]) for row in _schedule(plan)] == [
        (1, date(2026, 2, 15), Decimal("300.166")),
        (2, date(2026, 3, 15), Decimal("300.166")),
        (3, date(2026, 4, 15), Decimal("300.168")),
    ]
    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount="0.0005")
    assert excinfo.value.message_dict == {"amount": ["0.0005 has more decimal places than KWD allows (3)."]}

    payment_post(actor=owner, plan=plan, amount=Decimal("300.167"))
    summary = plan_summary(plan=InstallmentPlan.objects.get(pk=plan.pk), today=date(2026, 3, 1))
    assert summary.amount_paid == Decimal("400.167")
    assert summary.remaining_balance == Decimal("600.333")
    assert str(summary.remaining_balance) == "600.333"
    assert summary.installments_paid == 1
    assert summary.next_payment_due == date(2026, 3, 15)
    assert summary.next_amount_due == Decimal("300.165")
    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("600.334"))
    assert excinfo.value.message_dict == {"amount": ["600.334 exceeds the remaining balance 600.333 of plan P-000001."]}

    payment_post(actor=owner, plan=plan, amount=Decimal("600.333"))
    plan.refresh_from_db()
    assert plan.status == Status.COMPLETED
    assert plan.amount_paid == Decimal("1000.500")
    assert {row[6] for row in _schedule(plan)} == {Installment.Status.PAID}


def test_a_jpy_plan_end_to_end(db):
    """No decimals at all: 90000 over 7 is 12857 six times and 12858 last."""
    merchant = MerchantFactory(currency="JPY", timezone="Asia/Tokyo", country="JP")
    owner = UserFactory(merchant=merchant, role=Role.OWNER)
    customer = CustomerFactory(merchant=merchant)
    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=owner, customer=customer, total_amount=Decimal("100000.5"))
    assert excinfo.value.message_dict == {"total_amount": ["100000.5 has more decimal places than JPY allows (0)."]}

    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("100000"),
        down_payment=Decimal("10000"),
        number_of_installments=7,
    )

    amounts = [row[2] for row in _schedule(plan)]
    assert amounts == [Decimal("12857")] * 6 + [Decimal("12858")]
    assert sum(amounts) == Decimal("90000")
    assert plan.installment_amount == Decimal("12857")
    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount="100.5")
    assert excinfo.value.message_dict == {"amount": ["100.5 has more decimal places than JPY allows (0)."]}

    payment_post(actor=owner, plan=plan, amount=Decimal("20000"))
    summary = plan_summary(plan=InstallmentPlan.objects.get(pk=plan.pk), today=date(2026, 3, 1))
    assert summary.amount_paid == Decimal("30000")
    assert str(summary.amount_paid) == "30000"
    assert summary.remaining_balance == Decimal("70000")
    assert summary.next_amount_due == Decimal("5714")

    payment_post(actor=owner, plan=plan, amount=Decimal("70000"))
    plan.refresh_from_db()
    assert plan.status == Status.COMPLETED


# Lifecycle: approve, reject, cancel, mark defaulted --------------------------------------------------------


def _plan_in(status, *, owner, merchant, customer):
    """A plan brought to ``status`` through the services."""
    if status in (Status.PENDING, Status.REJECTED):
        _approval_required(merchant)
        plan = plan_make(actor=owner, customer=customer)
        _approval_required(merchant, required=False)
        if status == Status.REJECTED:
            plan_reject(actor=owner, plan=plan, reason="Income too low")
    else:
        plan = plan_make(actor=owner, customer=customer)
        if status == Status.CANCELLED:
            plan_cancel(actor=owner, plan=plan, reason="Goods returned")
        elif status == Status.DEFAULTED:
            plan_mark_defaulted(actor=owner, plan=plan)
        elif status == Status.COMPLETED:
            payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()
    assert plan.status == status
    return plan


def _reschedule(actor, plan):
    return plan_reschedule(
        actor=actor, plan=plan, number_of_installments=2, installment_frequency="monthly", start_date=date(2026, 3, 1)
    )


TRANSITIONS = {
    "approved": (lambda actor, plan: plan_approve(actor=actor, plan=plan), {Status.PENDING}),
    "rejected": (lambda actor, plan: plan_reject(actor=actor, plan=plan, reason="No"), {Status.PENDING}),
    "cancelled": (
        lambda actor, plan: plan_cancel(actor=actor, plan=plan, reason="Ended"),
        {Status.PENDING, Status.ACTIVE, Status.DEFAULTED},
    ),
    "marked defaulted": (lambda actor, plan: plan_mark_defaulted(actor=actor, plan=plan), {Status.ACTIVE}),
    "rescheduled": (_reschedule, {Status.ACTIVE, Status.DEFAULTED}),
}
REFUSED = [
    (verb, status) for verb, (_service, allowed) in TRANSITIONS.items() for status in Status if status not in allowed
]


@pytest.mark.parametrize(("verb", "status"), REFUSED)
def test_every_wrong_status_transition_is_refused_on_status(owner, merchant, customer, verb, status, row_counts):
    plan = _plan_in(status, owner=owner, merchant=merchant, customer=customer)
    service = TRANSITIONS[verb][0]
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        service(owner, plan)

    label = Status(status).label.lower()
    assert excinfo.value.message_dict == {"status": [f"Plan P-000001 is {label}: it cannot be {verb}."]}
    assert excinfo.value.error_dict["status"][0].code == "invalid_status"
    plan.refresh_from_db()
    assert plan.status == status
    assert row_counts() == before


def test_plan_reject_keeps_the_reason_and_the_manager(manager, clerk, merchant, customer):
    _approval_required(merchant)
    plan = plan_make(actor=clerk, customer=customer)

    plan_reject(actor=manager, plan=plan, reason="  No proof of income  ")

    plan.refresh_from_db()
    assert plan.status == Status.REJECTED
    assert plan.status_reason == "No proof of income"
    assert plan.decided_by == manager
    assert plan.decided_at is not None
    assert not Payment.objects.filter(plan=plan).exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_plan_reject_needs_a_reason(manager, clerk, merchant, customer, reason, row_counts):
    _approval_required(merchant)
    plan = plan_make(actor=clerk, customer=customer)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_reject(actor=manager, plan=plan, reason=reason)

    assert excinfo.value.message_dict == {"reason": ["Say why the application is rejected."]}
    plan.refresh_from_db()
    assert plan.status == Status.PENDING
    assert plan.decided_by is None
    assert row_counts() == before


def test_plan_cancel_keeps_the_payments(manager, clerk, customer):
    plan = plan_make(actor=clerk, customer=customer)

    plan_cancel(actor=manager, plan=plan, reason=" Goods returned ")

    plan.refresh_from_db()
    assert plan.status == Status.CANCELLED
    assert plan.status_reason == "Goods returned"
    assert plan.amount_paid == Decimal("200.00")
    assert Payment.objects.filter(plan=plan, status=Payment.Status.COMPLETED).count() == 1


def test_a_pending_application_can_be_cancelled(owner, merchant, customer):
    plan = _plan_in(Status.PENDING, owner=owner, merchant=merchant, customer=customer)

    plan_cancel(actor=owner, plan=plan, reason="Customer withdrew")

    plan.refresh_from_db()
    assert plan.status == Status.CANCELLED


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_plan_cancel_needs_a_reason(owner, customer, reason, row_counts):
    plan = plan_make(actor=owner, customer=customer)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_cancel(actor=owner, plan=plan, reason=reason)

    assert excinfo.value.message_dict == {"reason": ["Say why the plan is cancelled."]}
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert row_counts() == before


def test_plan_mark_defaulted_by_a_manager_and_by_the_daily_job(manager, owner, customer):
    by_hand = plan_make(actor=owner, customer=customer)
    by_job = plan_make(actor=owner, customer=customer)

    plan_mark_defaulted(actor=manager, plan=by_hand, reason=" Stopped answering ")
    plan_mark_defaulted(actor=None, plan=by_job)

    by_hand.refresh_from_db()
    by_job.refresh_from_db()
    assert (by_hand.status, by_hand.status_reason) == (Status.DEFAULTED, "Stopped answering")
    assert (by_job.status, by_job.status_reason) == (Status.DEFAULTED, "Overdue past the merchant's limit.")


# Roles and tenancy of the lifecycle ------------------------------------------------------------------------

DECISIONS = {
    "approve": lambda actor, plan: plan_approve(actor=actor, plan=plan),
    "reject": lambda actor, plan: plan_reject(actor=actor, plan=plan, reason="No"),
    "cancel": lambda actor, plan: plan_cancel(actor=actor, plan=plan, reason="Ended"),
    "mark_defaulted": lambda actor, plan: plan_mark_defaulted(actor=actor, plan=plan),
    "reschedule": _reschedule,
    "delete": lambda actor, plan: plan_delete(actor=actor, plan=plan),
}


@pytest.mark.parametrize("decision", list(DECISIONS))
@pytest.mark.parametrize("role", [Role.CLERK, Role.VIEWER])
def test_clerks_and_viewers_may_not_decide_on_plans(owner, merchant, customer, decision, role, row_counts):
    status = Status.PENDING if decision in ("approve", "reject", "delete") else Status.ACTIVE
    plan = _plan_in(status, owner=owner, merchant=merchant, customer=customer)
    actor = UserFactory(merchant=merchant, role=role)
    before = row_counts()

    with pytest.raises(PermissionDenied):
        DECISIONS[decision](actor, plan)

    plan.refresh_from_db()
    assert plan.status == status
    assert row_counts() == before


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_another_merchants_plan_does_not_exist_for_a_manager(owner, merchant, customer, other_merchant, decision):
    status = Status.PENDING if decision in ("approve", "reject", "delete") else Status.ACTIVE
    plan = _plan_in(status, owner=owner, merchant=merchant, customer=customer)
    stranger = UserFactory(merchant=other_merchant, role=Role.MANAGER)

    with pytest.raises(InstallmentPlan.DoesNotExist):
        DECISIONS[decision](stranger, plan)

    plan.refresh_from_db()
    assert plan.status == status


@pytest.mark.parametrize("decision", ["approve", "reject", "delete"])
def test_a_platform_admin_decides_on_any_merchants_plan(owner, merchant, customer, superuser, decision):
    plan = _plan_in(Status.PENDING, owner=owner, merchant=merchant, customer=customer)

    DECISIONS[decision](superuser, plan)

    expected = {"approve": Status.ACTIVE, "reject": Status.REJECTED}.get(decision)
    if expected is None:
        assert not InstallmentPlan.objects.filter(pk=plan.pk).exists()
    else:
        assert InstallmentPlan.objects.get(pk=plan.pk).status == expected


# plan_reschedule ------------------------------------------------------------------------------------------


def test_reschedule_spreads_the_unpaid_principal_and_interest_exactly(owner, manager, customer, ledger_assert):
    plan = _flat_plan(owner, customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))  # row 1 paid; row 2: 8.00 interest + 84.00
    old = {row.number: row for row in Installment.objects.filter(plan=plan)}

    result = plan_reschedule(
        actor=manager,
        plan=plan,
        number_of_installments=6,
        installment_frequency="monthly",
        start_date=date(2026, 3, 1),
        reason=" Lost his job ",
    )

    plan.refresh_from_db()
    assert result.pk == plan.pk
    assert plan.status == Status.ACTIVE
    assert plan.status_reason == "Lost his job"
    assert plan.rescheduled_at is not None
    assert plan.number_of_installments == 8
    assert plan.installment_amount == Decimal("88.66")
    assert plan.due_date == date(2026, 9, 1)
    assert plan.installment_frequency == "monthly"
    # Unpaid: principal 116.00 + 200.00 + 200.00 = 516.00, interest 0 + 8.00 + 8.00 = 16.00; 532.00 over six.
    paid, pending = Installment.Status.PAID, Installment.Status.PENDING
    zero = Decimal("0")
    # Row 2 stays in force closed at the 92.00 paid on it (8.00 interest + 84.00 principal); the new rows are
    # numbered from 3 and fall due after it.
    assert _schedule(plan) == [
        (1, date(2026, 2, 15), Decimal("208.00"), Decimal("200.00"), Decimal("8.00"), Decimal("208.00"), paid),
        (2, date(2026, 3, 15), Decimal("92.00"), Decimal("84.00"), Decimal("8.00"), Decimal("92.00"), paid),
        (3, date(2026, 4, 1), Decimal("88.66"), Decimal("86.00"), Decimal("2.66"), zero, pending),
        (4, date(2026, 5, 1), Decimal("88.66"), Decimal("86.00"), Decimal("2.66"), zero, pending),
        (5, date(2026, 6, 1), Decimal("88.66"), Decimal("86.00"), Decimal("2.66"), zero, pending),
        (6, date(2026, 7, 1), Decimal("88.66"), Decimal("86.00"), Decimal("2.66"), zero, pending),
        (7, date(2026, 8, 1), Decimal("88.66"), Decimal("86.00"), Decimal("2.66"), zero, pending),
        (8, date(2026, 9, 1), Decimal("88.70"), Decimal("86.00"), Decimal("2.70"), zero, pending),
    ]
    current = Installment.objects.current().filter(plan=plan)
    new_rows = current.exclude(number__in=(1, 2))
    assert sum(row.principal for row in new_rows) == Decimal("516.00")
    assert sum(row.interest for row in new_rows) == Decimal("16.00")
    # The paid row is the same row, untouched; the partly paid one is the same row, closed on its payment's date.
    kept = current.get(number=1)
    assert kept.pk == old[1].pk
    assert (kept.amount_paid, kept.paid_on, kept.superseded_at) == (Decimal("208.00"), date(2026, 3, 1), None)
    closed = current.get(number=2)
    assert closed.pk == old[2].pk
    assert (closed.interest_paid, closed.principal_paid, closed.paid_on) == (
        Decimal("8.00"),
        Decimal("84.00"),
        date(2026, 3, 1),
    )
    # The old unpaid rows stay for history, superseded, with nothing paid on them.
    superseded = Installment.objects.filter(plan=plan, superseded_at__isnull=False).order_by("number")
    assert [(row.pk, row.number, row.amount_due, row.amount_paid) for row in superseded] == [
        (old[3].pk, 3, Decimal("208.00"), Decimal("0")),
        (old[4].pk, 4, Decimal("208.00"), Decimal("0")),
    ]
    assert {row.superseded_at for row in superseded} == {plan.rescheduled_at}
    # What is owed still adds up to the unit.
    current_due = sum(row.amount_due for row in current)
    paid_on_superseded = sum(row.amount_paid for row in superseded)
    assert current_due + paid_on_superseded + plan.down_payment == plan.total_payable == Decimal("1032.00")
    assert plan.amount_paid == Decimal("500.00")
    assert plan.remaining_balance == Decimal("532.00")
    ledger_assert(plan)

    # Payments now go to the new schedule, interest first.
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    assert [(line.installment.number, line.kind, line.amount) for line in payment.allocations.order_by("id")] == [
        (3, "interest", Decimal("2.66")),
        (3, "principal", Decimal("86.00")),
        (4, "interest", Decimal("2.66")),
        (4, "principal", Decimal("8.68")),
    ]
    ledger_assert(plan)
    payment_post(actor=owner, plan=plan, amount=Decimal("432.00"))
    plan.refresh_from_db()
    assert plan.status == Status.COMPLETED
    ledger_assert(plan)


def test_a_defaulted_plan_rescheduled_is_active_again(owner, manager, customer):
    plan = plan_make(actor=owner, customer=customer)
    plan_mark_defaulted(actor=None, plan=plan)

    plan_reschedule(
        actor=manager,
        plan=plan,
        number_of_installments=3,
        installment_frequency="weekly",
        start_date=date(2026, 3, 1),
    )

    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert plan.status_reason == "Rescheduled."
    assert [(row[0], row[1], row[2]) for row in _schedule(plan)] == [
        (1, date(2026, 3, 8), Decimal("266.66")),
        (2, date(2026, 3, 15), Decimal("266.66")),
        (3, date(2026, 3, 22), Decimal("266.68")),
    ]
    assert Installment.objects.filter(plan=plan, superseded_at__isnull=False).count() == 4


def test_a_second_reschedule_keeps_both_histories(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    _reschedule(owner, plan)

    plan_reschedule(
        actor=owner, plan=plan, number_of_installments=4, installment_frequency="monthly", start_date=date(2026, 3, 1)
    )

    plan.refresh_from_db()
    assert [(row[0], row[2]) for row in _schedule(plan)] == [(n, Decimal("200.00")) for n in (1, 2, 3, 4)]
    assert Installment.objects.filter(plan=plan).count() == 10
    assert plan.number_of_installments == 4


def test_late_fees_on_superseded_rows_are_still_collected_first(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    old_first = plan.installments.get(number=1)
    late_fee_make(installment=old_first, period=date(2026, 2, 20), amount=Decimal("10.00"))
    _reschedule(owner, plan)  # 800.00 over two months: 400.00 due 2026-04-01 and 05-01

    payment = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))

    new_first = Installment.objects.current().get(plan=plan, number=1)
    assert [(line.installment_id, line.kind, line.amount) for line in payment.allocations.order_by("id")] == [
        (old_first.pk, "late_fee", Decimal("10.00")),
        (new_first.pk, "principal", Decimal("40.00")),
    ]
    old_first.refresh_from_db()
    assert (old_first.late_fee_paid, old_first.amount_paid) == (Decimal("10.00"), Decimal("0"))
    plan.refresh_from_db()
    assert plan.remaining_balance == Decimal("760.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number_of_installments": 0}, "number_of_installments"),
        ({"number_of_installments": "many"}, "number_of_installments"),
        ({"number_of_installments": 100000}, "number_of_installments"),
        ({"installment_frequency": "daily"}, "installment_frequency"),
        ({"start_date": None}, "start_date"),
        ({"first_due_date": date(2026, 2, 1)}, "first_due_date"),
    ],
)
def test_reschedule_refuses_bad_terms_and_changes_nothing(owner, customer, overrides, field, row_counts):
    plan = plan_make(actor=owner, customer=customer)
    before = row_counts()
    arguments = {"number_of_installments": 3, "installment_frequency": "monthly", "start_date": date(2026, 3, 1)}
    arguments.update(overrides)

    with pytest.raises(ValidationError) as excinfo:
        plan_reschedule(actor=owner, plan=plan, **arguments)

    assert field in excinfo.value.message_dict
    assert row_counts() == before
    assert not Installment.objects.filter(plan=plan, superseded_at__isnull=False).exists()
    plan.refresh_from_db()
    assert (plan.number_of_installments, plan.rescheduled_at) == (4, None)


# plan_update, plan_list, plan_get ---------------------------------------------------------------------------


def test_plan_update_changes_only_the_notes(clerk, customer):
    plan = plan_make(actor=clerk, customer=customer, notes="Old")

    plan_update(actor=clerk, plan=plan, notes="Delivered on Tuesday")

    plan.refresh_from_db()
    assert plan.notes == "Delivered on Tuesday"
    assert plan.total_amount == Decimal("1000.00")


def test_plan_update_roles_and_tenancy(owner, viewer, customer, other_owner):
    plan = plan_make(actor=owner, customer=customer, notes="Old")

    with pytest.raises(PermissionDenied):
        plan_update(actor=viewer, plan=plan, notes="Viewer was here")
    with pytest.raises(InstallmentPlan.DoesNotExist):
        plan_update(actor=other_owner, plan=plan, notes="Stranger was here")

    plan.refresh_from_db()
    assert plan.notes == "Old"


def test_plan_list_and_plan_get_stay_within_the_merchant(owner, merchant, customer, other_merchant):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer)
    plan_cancel(actor=owner, plan=first, reason="Returned")

    assert [plan.reference for plan in plan_list(merchant=merchant)] == ["P-000002", "P-000001"]
    assert [plan.pk for plan in plan_list(merchant=merchant, status="cancelled")] == [first.pk]
    assert [plan.pk for plan in plan_list(merchant=merchant, customer=customer, status="active")] == [second.pk]
    assert plan_get(merchant=merchant, pk=second.pk) == second
    assert list(plan_list(merchant=other_merchant)) == []
    with pytest.raises(InstallmentPlan.DoesNotExist):
        plan_get(merchant=other_merchant, pk=second.pk)


# plan_delete ----------------------------------------------------------------------------------------------


def test_a_plan_with_payments_cannot_be_deleted_cancel_it(owner, customer, row_counts):
    plan = plan_make(actor=owner, customer=customer)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_delete(actor=owner, plan=plan)

    assert excinfo.value.message_dict == {
        "plan": ["Plan P-000001 has payments or fees: cancel it instead of deleting it."]
    }
    assert excinfo.value.error_dict["plan"][0].code == "has_payments"
    assert row_counts() == before


def test_a_plan_with_only_a_late_fee_cannot_be_deleted(owner, customer):
    plan = plan_make(actor=owner, customer=customer, down_payment=Decimal("0"))
    late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("5.00"))

    with pytest.raises(ValidationError) as excinfo:
        plan_delete(actor=owner, plan=plan)

    assert list(excinfo.value.message_dict) == ["plan"]
    assert InstallmentPlan.objects.filter(pk=plan.pk).exists()


def test_a_plan_nothing_was_paid_on_is_deleted_with_its_rows(owner, merchant, customer, row_counts):
    before = row_counts()
    fridge = ProductFactory(merchant=merchant, price=Decimal("1000.00"))
    plan = plan_make(actor=owner, customer=customer, down_payment=Decimal("0"), items=[{"product": fridge}])

    plan_delete(actor=owner, plan=plan)

    after = row_counts()
    assert not InstallmentPlan.objects.filter(pk=plan.pk).exists()
    assert after == before


def test_a_pending_application_is_deleted(owner, merchant, customer):
    plan = _plan_in(Status.PENDING, owner=owner, merchant=merchant, customer=customer)

    plan_delete(actor=owner, plan=plan)

    assert not InstallmentPlan.objects.filter(pk=plan.pk).exists()
    assert not Installment.objects.filter(plan_id=plan.pk).exists()


# late_fee_charge ----------------------------------------------------------------------------------------


def test_late_fee_charge_adds_to_the_installment_and_the_plan(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    first = plan.installments.get(number=1)

    fee = late_fee_make(installment=first, period=date(2026, 2, 20), amount=Decimal("15.00"), actor=owner)

    assert (fee.plan, fee.installment, fee.period, fee.amount, fee.charged_by) == (
        plan,
        first,
        date(2026, 2, 20),
        Decimal("15.00"),
        owner,
    )
    first.refresh_from_db()
    plan.refresh_from_db()
    assert (first.late_fee, first.late_fee_paid) == (Decimal("15.00"), Decimal("0"))
    assert plan.late_fees == Decimal("15.00")
    assert plan.remaining_balance == Decimal("815.00")

    late_fee_make(installment=first, period=date(2026, 2, 27), amount=Decimal("5.00"))

    first.refresh_from_db()
    plan.refresh_from_db()
    assert first.late_fee == Decimal("20.00")
    assert plan.late_fees == Decimal("20.00")


def test_a_second_late_fee_for_the_same_period_is_refused(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    first = plan.installments.get(number=1)
    late_fee_make(installment=first, period=date(2026, 2, 20), amount=Decimal("15.00"))

    with pytest.raises(ValidationError) as excinfo:
        late_fee_make(installment=first, period=date(2026, 2, 20), amount=Decimal("15.00"))

    assert excinfo.value.message_dict == {"period": ["A late fee for 2026-02-20 is already charged on installment 1."]}
    assert excinfo.value.error_dict["period"][0].code == "duplicate"
    first.refresh_from_db()
    plan.refresh_from_db()
    assert first.late_fee == Decimal("15.00")
    assert plan.late_fees == Decimal("15.00")
    assert LateFee.objects.filter(plan=plan).count() == 1


@pytest.mark.parametrize(
    ("policy", "paid", "expected"),
    [
        ({"late_fee_method": "fixed", "late_fee_amount": Decimal("12.50")}, Decimal("0"), Decimal("12.50")),
        # 7.5% of the 200.00 left on the row; then of the 133.33 left once 66.67 is paid: 9.99975 -> 10.00.
        ({"late_fee_method": "percent", "late_fee_percent": Decimal("7.5")}, Decimal("0"), Decimal("15.00")),
        ({"late_fee_method": "percent", "late_fee_percent": Decimal("7.5")}, Decimal("66.67"), Decimal("10.00")),
        (
            {"late_fee_method": "percent", "late_fee_percent": Decimal("7.5"), "late_fee_cap": Decimal("11.00")},
            Decimal("0"),
            Decimal("11.00"),
        ),
    ],
)
def test_late_fee_charge_charges_the_merchants_fee_as_the_daily_job_does(
    owner, merchant, customer, policy, paid, expected
):
    plan = plan_make(actor=owner, customer=customer)
    if paid:
        payment_post(actor=owner, plan=plan, amount=paid)
    Merchant.objects.filter(pk=merchant.pk).update(**policy)
    first = plan.installments.get(number=1)
    # The period the daily job charges: the row's first overdue day.
    period = first.due_date + timedelta(days=merchant.grace_days + 1)

    fee = late_fee_charge(installment=first, period=period)

    assert fee.amount == expected
    plan.refresh_from_db()
    assert plan.late_fees == expected
    # The daily job charges the same fee on the twin row of a twin plan.
    twin = plan_make(actor=owner, customer=customer)
    if paid:
        payment_post(actor=owner, plan=twin, amount=paid)
    assert late_fees_apply(merchant=Merchant.objects.get(pk=merchant.pk), today=date(2026, 3, 1)) == (1, expected)
    assert LateFee.objects.get(plan=twin).amount == expected


def test_late_fee_charge_refuses_when_the_merchant_charges_none(owner, merchant, customer, row_counts):
    plan = plan_make(actor=owner, customer=customer)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        late_fee_charge(installment=plan.installments.get(number=1), period=date(2026, 2, 20))

    assert excinfo.value.message_dict == {
        "installment": ["No late fee is due on installment 1 under Viejos Recuerdos's late fee settings."]
    }
    assert row_counts() == before


def test_no_late_fee_on_a_paid_installment(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))

    with pytest.raises(ValidationError) as excinfo:
        late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("5"))

    assert excinfo.value.message_dict == {"installment": ["Installment 1 is not overdue."]}
    plan.refresh_from_db()
    assert plan.late_fees == Decimal("0")


def test_no_late_fee_on_a_superseded_installment(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    old_first = plan.installments.get(number=1)
    _reschedule(owner, plan)

    with pytest.raises(ValidationError) as excinfo:
        late_fee_make(installment=old_first, period=date(2026, 2, 20), amount=Decimal("5.00"))

    assert list(excinfo.value.message_dict) == ["installment"]


@pytest.mark.parametrize("status", [Status.PENDING, Status.CANCELLED, Status.REJECTED, Status.COMPLETED])
def test_no_late_fee_on_a_plan_not_being_collected(owner, merchant, customer, status):
    plan = _plan_in(status, owner=owner, merchant=merchant, customer=customer)
    row = Installment.objects.filter(plan=plan).order_by("number").first()

    with pytest.raises(ValidationError) as excinfo:
        late_fee_make(installment=row, period=date(2026, 2, 20), amount=Decimal("5.00"))

    # The status as the pages name it ("pending approval"), so it reads in the clerk's language.
    label = Status(status).label.lower()
    assert excinfo.value.message_dict == {"status": [f"Plan P-000001 is {label}: no late fee is charged."]}
    assert not LateFee.objects.exists()


def test_a_defaulted_plan_is_still_charged_late_fees(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    plan_mark_defaulted(actor=None, plan=plan)

    late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("5.00"))

    plan.refresh_from_db()
    assert plan.late_fees == Decimal("5.00")


# Selectors ------------------------------------------------------------------------------------------------


@pytest.fixture
def book(owner, merchant, customer, other_owner, other_merchant):
    """The merchant (five grace days) with plans A, B (open) and C (cancelled); another merchant's plan D.

    A: 200.00 due 02-15, 03-15, 04-15, 05-15; 50.00 paid on row 1 and a 10.00 fee charged on it.
    B: 300.00 due 03-01, 04-01, 05-01 (900.00, nothing down, from 2026-02-01).
    C: like A but cancelled. D: like A, another merchant's.
    """
    Merchant.objects.filter(pk=merchant.pk).update(grace_days=5)
    merchant.refresh_from_db()
    plan_a = plan_make(actor=owner, customer=customer)
    plan_b = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name="Basel Amin"),
        total_amount=Decimal("900.00"),
        down_payment=Decimal("0"),
        number_of_installments=3,
        start_date=date(2026, 2, 1),
    )
    plan_c = plan_make(actor=owner, customer=customer)
    plan_cancel(actor=owner, plan=plan_c, reason="Returned")
    plan_d = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    payment_post(actor=owner, plan=plan_a, amount=Decimal("50.00"))
    late_fee_make(installment=plan_a.installments.get(number=1), period=date(2026, 2, 25), amount=Decimal("10.00"))
    for plan in (plan_a, plan_b, plan_c, plan_d):
        plan.refresh_from_db()
    return {"A": plan_a, "B": plan_b, "C": plan_c, "D": plan_d}


def _rows(queryset):
    return [(row.plan.reference, row.number) for row in queryset]


def test_installments_overdue_respects_the_grace_days(merchant, book):
    # Cut-off 2026-03-15: rows due before it and not fully paid, oldest first.
    overdue = list(installments_overdue(merchant=merchant, today=date(2026, 3, 20)))

    assert [(row.plan_id, row.number, row.due_date, row.remaining) for row in overdue] == [
        (book["A"].pk, 1, date(2026, 2, 15), Decimal("150.00")),
        (book["B"].pk, 1, date(2026, 3, 1), Decimal("300.00")),
    ]
    # Due on 03-15 plus five days of grace: overdue from the 21st.
    assert _rows(installments_overdue(merchant=merchant, today=date(2026, 3, 21))) == [
        ("P-000001", 1),
        ("P-000002", 1),
        ("P-000001", 2),
    ]
    assert _rows(installments_overdue(merchant=merchant, today=date(2026, 2, 20))) == []
    assert _rows(installments_overdue(merchant=merchant, today=date(2026, 2, 21))) == [("P-000001", 1)]


def test_installments_overdue_orders_the_same_day_by_the_largest_remainder(owner, merchant, customer, book):
    plan_e = plan_make(actor=owner, customer=customer, total_amount=Decimal("2000.00"))

    overdue = list(installments_overdue(merchant=merchant, today=date(2026, 2, 21)))

    assert [(row.plan_id, row.remaining) for row in overdue] == [
        (plan_e.pk, Decimal("450.00")),
        (book["A"].pk, Decimal("150.00")),
    ]


def test_installments_overdue_uses_the_merchants_today_by_default(merchant, book):
    # The frozen today is 2026-03-01; with five days of grace the cut-off is 2026-02-24.
    assert _rows(installments_overdue(merchant=merchant)) == [("P-000001", 1)]


def test_installment_list_overdue_is_computed_from_dates(merchant, book):
    rows = installment_list(merchant=merchant, status="overdue", today=date(2026, 3, 21))

    assert _rows(rows) == [("P-000001", 1), ("P-000002", 1), ("P-000001", 2)]
    # Only A's first row was marked by its payment; the list does not rely on the stored status.
    assert [row.status for row in rows] == ["overdue", "pending", "pending"]
    early = installment_list(merchant=merchant, status="overdue", today=date(2026, 3, 21), due_before=date(2026, 3, 2))
    assert _rows(early) == [("P-000001", 1), ("P-000002", 1)]


def test_installment_list_by_stored_status_and_dates(owner, merchant, book):
    payment_post(actor=owner, plan=book["B"], amount=Decimal("300.00"))

    assert _rows(installment_list(merchant=merchant, status="paid")) == [("P-000002", 1)]
    assert _rows(installment_list(merchant=merchant, due_after=date(2026, 5, 1))) == [
        ("P-000002", 3),
        ("P-000001", 4),
        ("P-000003", 4),
    ]
    assert _rows(installment_list(merchant=merchant, due_before=date(2026, 3, 1))) == [
        ("P-000001", 1),
        ("P-000003", 1),
    ]


def test_plans_overdue(merchant, other_merchant, book):
    assert {plan.pk for plan in plans_overdue(merchant=merchant, today=date(2026, 3, 20))} == {
        book["A"].pk,
        book["B"].pk,
    }
    assert [plan.pk for plan in plans_overdue(merchant=merchant, today=date(2026, 3, 1))] == [book["A"].pk]
    assert list(plans_overdue(merchant=merchant, today=date(2026, 2, 20))) == []
    # Another merchant's overdue plan is only theirs (no grace days there).
    assert [plan.pk for plan in plans_overdue(merchant=other_merchant, today=date(2026, 3, 1))] == [book["D"].pk]


def test_plan_summary_exact_values(book):
    summary = plan_summary(plan=book["A"], today=date(2026, 3, 20))

    assert summary.plan_id == book["A"].pk
    assert summary.reference == "P-000001"
    assert summary.currency == "USD"
    assert summary.total_amount == Decimal("1000.00")
    assert summary.down_payment == Decimal("200.00")
    assert summary.finance_charge == Decimal("0.00")
    assert summary.total_payable == Decimal("1000.00")
    assert summary.amount_paid == Decimal("250.00")
    assert summary.late_fees == Decimal("10.00")
    assert summary.remaining_balance == Decimal("760.00")
    assert summary.installments_paid == 0
    assert summary.total_installments == 4
    assert summary.next_payment_due == date(2026, 2, 15)
    assert summary.next_amount_due == Decimal("160.00")
    assert summary.overdue_amount == Decimal("160.00")
    assert summary.status == Status.ACTIVE
    assert str(summary.remaining_balance) == "760.00"


def test_plan_summary_after_payments_and_on_a_later_day(owner, book, ledger_assert):
    payment_post(actor=owner, plan=book["A"], amount=Decimal("360.00"))  # fee 10, row 1 150, row 2 200
    plan = InstallmentPlan.objects.get(pk=book["A"].pk)

    summary = plan_summary(plan=plan, today=date(2026, 4, 25))

    assert summary.amount_paid == Decimal("610.00")
    assert summary.remaining_balance == Decimal("400.00")
    assert summary.installments_paid == 2
    assert summary.next_payment_due == date(2026, 4, 15)
    assert summary.next_amount_due == Decimal("200.00")
    assert summary.overdue_amount == Decimal("200.00")
    ledger_assert(plan)


def test_plan_summary_of_a_completed_plan(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()

    summary = plan_summary(plan=plan, today=date(2026, 6, 1))

    assert summary.status == Status.COMPLETED
    assert summary.amount_paid == Decimal("1000.00")
    assert summary.remaining_balance == Decimal("0.00")
    assert summary.installments_paid == 4
    assert summary.next_payment_due is None
    assert summary.next_amount_due == Decimal("0.00")
    assert summary.overdue_amount == Decimal("0.00")


def test_plan_summary_of_a_pending_application(owner, merchant, customer):
    plan = _plan_in(Status.PENDING, owner=owner, merchant=merchant, customer=customer)

    summary = plan_summary(plan=plan, today=date(2026, 3, 1))

    assert summary.amount_paid == Decimal("0.00")
    assert summary.remaining_balance == Decimal("1000.00")
    assert summary.next_payment_due is None
    assert summary.next_amount_due == Decimal("0.00")
    # An application is not being collected: nothing of it is overdue (as in installments_overdue).
    assert summary.overdue_amount == Decimal("0.00")
    assert summary.status == Status.PENDING


def test_plan_summary_of_a_cancelled_plan_shows_nothing_overdue(merchant, book):
    summary = plan_summary(plan=book["C"], today=date(2026, 6, 1))

    assert summary.status == Status.CANCELLED
    assert summary.amount_paid == Decimal("200.00")
    assert summary.remaining_balance == Decimal("800.00")
    assert summary.next_payment_due is None
    assert summary.overdue_amount == Decimal("0.00")
    assert [plan.reference for plan in plans_overdue(merchant=merchant, today=date(2026, 6, 1))] == [
        "P-000002",
        "P-000001",
    ]


# In the clerk's language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "El plan P-000001 está en estado «activo»: no se puede aprobar."),
        ("ar", "حالة الخطة P-000001 «نشطة»: لا يمكن الموافقة عليها."),
    ],
)
def test_approving_an_active_plan_is_refused_in_the_clerks_language(owner, customer, language, expected):
    plan = plan_make(actor=owner, customer=customer)

    with translation.override(language), pytest.raises(ValidationError) as excinfo:
        plan_approve(actor=owner, plan=plan)

    assert excinfo.value.message_dict == {"status": [expected]}
    assert excinfo.value.error_dict["status"][0].code == "invalid_status"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Ya se cobró un recargo por mora del 2026-02-20 en la cuota 1."),
        ("ar", "فُرضت بالفعل غرامة تأخير عن 2026-02-20 على القسط 1."),
    ],
)
def test_a_late_fee_charged_twice_is_refused_in_the_clerks_language(owner, customer, language, expected):
    plan = plan_make(actor=owner, customer=customer)
    first = plan.installments.get(number=1)
    late_fee_make(installment=first, period=date(2026, 2, 20), amount=Decimal("5.00"))

    with translation.override(language), pytest.raises(ValidationError) as excinfo:
        late_fee_make(installment=first, period=date(2026, 2, 20), amount=Decimal("5.00"))

    assert excinfo.value.message_dict == {"period": [expected]}
    assert excinfo.value.error_dict["period"][0].code == "duplicate"
