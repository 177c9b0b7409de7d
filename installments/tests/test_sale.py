"""Issue 15, the sale on the plan: serial numbers (refused twice among open plans, freed when a plan closes,
by the service and by the database), the sale reference, guarantors and their policy, and the exposure a clerk
sees before creating a plan. The clock is frozen at 2026-03-01 (``today``): a ``plan_make`` plan's first
installment (due 2026-02-15) is overdue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from customers.tests.factories import CustomerFactory
from installments.models import Guarantor, InstallmentPlan, PlanItem
from installments.selectors import Party, RoleExposure, exposure_list, plan_list
from installments.services import (
    guarantor_add,
    guarantor_remove,
    plan_approve,
    plan_cancel,
    plan_mark_defaulted,
    plan_reject,
)
from installments.tests.factories import plan_make
from payments.services import payment_post

pytestmark = pytest.mark.django_db


def phone_item(serial: str, **extra) -> dict:
    return {"description": "Phone", "unit_price": Decimal("500.00"), "serial_number": serial, **extra}


def sold(actor, customer, *serials: str, **overrides) -> InstallmentPlan:
    """A plan of the given phones (500.00 each), 100.00 down, four monthly installments."""
    terms = {"items": [phone_item(serial) for serial in serials], "total_amount": None, "down_payment": "100.00"}
    return plan_make(actor=actor, customer=customer, **{**terms, **overrides})


# Serial numbers ---------------------------------------------------------------------------------------------


def test_a_serial_is_kept_without_spaces_in_upper_case(owner, customer, today):
    plan = sold(owner, customer, " 35 2099 abc\t01 ", sale_reference="  POS-7781 ")

    assert list(plan.items.values_list("serial_number", "is_open", "merchant_id")) == [
        ("352099ABC01", True, customer.merchant_id)
    ]
    assert plan.sale_reference == "POS-7781"


def test_a_serial_held_by_an_open_plan_is_refused_naming_that_plan(owner, merchant, customer, today, row_counts):
    first = sold(owner, customer, "352099ABC01")
    other = CustomerFactory(merchant=merchant)
    before = row_counts()

    with pytest.raises(ValidationError) as refused:
        sold(owner, other, "3520 99abc 01")

    assert refused.value.message_dict == {
        "items": [f"The serial number 352099ABC01 is already on plan {first.reference}, which is still open."]
    }
    assert row_counts() == before


def test_a_serial_given_twice_in_one_sale_is_refused(owner, customer, today):
    with pytest.raises(ValidationError) as refused:
        sold(owner, customer, "IMEI-1", "imei-1", "IMEI-2")

    assert refused.value.message_dict == {"items": ["The serial number IMEI-1 is given twice."]}


def test_a_pending_application_holds_its_serial(owner, merchant, customer, today):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    pending = sold(owner, customer, "SN-1")
    assert pending.status == InstallmentPlan.Status.PENDING

    with pytest.raises(ValidationError, match=f"already on plan {pending.reference}"):
        sold(owner, CustomerFactory(merchant=merchant), "SN-1")


@pytest.mark.parametrize("close", ["cancel", "reject", "complete"])
def test_a_closed_plan_frees_its_serial(owner, merchant, customer, today, close):
    if close == "reject":
        merchant.requires_approval = True
        merchant.save(update_fields=["requires_approval"])
    first = sold(owner, customer, "SN-9")
    if close == "cancel":
        plan_cancel(actor=owner, plan=first, reason="Returned.")
    elif close == "reject":
        plan_reject(actor=owner, plan=first, reason="No income.")
    else:
        payment_post(actor=owner, plan=first, amount=first.remaining_balance)
    first.refresh_from_db()
    assert first.status in ("cancelled", "rejected", "completed")
    assert first.items.get().is_open is False

    second = sold(owner, CustomerFactory(merchant=merchant), "SN-9")

    assert list(PlanItem.objects.filter(serial_number="SN-9").order_by("plan__number").values_list("is_open")) == [
        (False,),
        (True,),
    ]
    assert second.status == ("pending" if close == "reject" else "active")


def test_the_same_serial_at_another_merchant_is_its_own(owner, customer, other_owner, other_merchant, today):
    sold(owner, customer, "SN-5")
    other = sold(other_owner, CustomerFactory(merchant=other_merchant), "SN-5")

    assert other.items.get().serial_number == "SN-5"


def test_the_database_refuses_a_serial_held_open_even_without_the_service(owner, merchant, customer, today):
    first = sold(owner, customer, "SN-DB")
    second = sold(owner, CustomerFactory(merchant=merchant), "OTHER")

    with pytest.raises(IntegrityError, match="plan_item_serial_unique_open"), transaction.atomic():
        PlanItem.objects.filter(plan=second).update(serial_number="SN-DB")
    plan_cancel(actor=owner, plan=first, reason="Returned.")
    PlanItem.objects.filter(plan=second).update(serial_number="SN-DB")
    assert PlanItem.objects.filter(serial_number="SN-DB", is_open=True).get().plan_id == second.pk


def test_a_set_based_status_change_moves_the_items_with_it(owner, merchant, customer, today):
    """The trigger follows any UPDATE of the status, not only the services' saves."""
    plans = [sold(owner, CustomerFactory(merchant=merchant), f"SN-{n}") for n in range(3)]
    InstallmentPlan.objects.filter(pk__in=[plans[0].pk, plans[1].pk]).update(status="cancelled")

    assert dict(PlanItem.objects.values_list("serial_number", "is_open")) == {
        "SN-0": False,
        "SN-1": False,
        "SN-2": True,
    }
    InstallmentPlan.objects.filter(pk=plans[0].pk).update(status="defaulted")
    assert PlanItem.objects.get(serial_number="SN-0").is_open is True


def test_a_plan_re_opened_after_its_serial_was_sold_again_leaves_it_to_the_later_sale(owner, merchant, customer, today):
    first = sold(owner, customer, "SN-R", "SN-KEEP")
    plan_cancel(actor=owner, plan=first, reason="Returned.")
    second = sold(owner, CustomerFactory(merchant=merchant), "SN-R")

    InstallmentPlan.objects.filter(pk=first.pk).update(status="active")

    assert sorted(PlanItem.objects.values_list("plan__number", "serial_number", "is_open")) == [
        (first.number, "SN-KEEP", True),
        (first.number, "SN-R", False),
        (second.number, "SN-R", True),
    ]


def test_the_plan_list_finds_a_plan_by_serial_sale_reference_or_customer(owner, merchant, customer, today):
    phone = sold(owner, customer, "35209912345678", "35209900000000", sale_reference="POS-1001")
    other = sold(owner, CustomerFactory(merchant=merchant, name="Zaid"), "SN-XYZ", sale_reference="POS-2002")

    def found(term: str) -> list[int]:
        return [plan.number for plan in plan_list(merchant=merchant, search=term)]

    assert found("3520 99") == [phone.number]  # once, though both items match
    assert found("sn-x") == [other.number]
    assert found("pos-2002") == [other.number]
    assert found("POS") == [other.number, phone.number]
    assert found("Zaid") == [other.number]
    assert found(f"P-{phone.number:06d}") == [phone.number]
    assert found("nothing") == []


# Guarantors ------------------------------------------------------------------------------------------------


GUARANTOR = {"name": " Karim Saleh ", "phone": "(415) 555-0199", "national_id": " G-77 ", "relation": "Brother"}


def test_guarantors_are_kept_with_the_phone_in_e164(owner, customer, today):
    plan = plan_make(actor=owner, customer=customer, guarantors=[GUARANTOR, {"name": "Lina", "phone": "+14155550188"}])

    assert sorted(plan.guarantors.values_list("name", "phone", "national_id", "address", "relation", "added_by")) == [
        ("Karim Saleh", "+14155550199", "G-77", "", "Brother", owner.pk),
        ("Lina", "+14155550188", "", "", "", owner.pk),
    ]


def test_a_bad_guarantor_is_refused_with_its_number(owner, customer, today, row_counts):
    before = row_counts()
    with pytest.raises(ValidationError) as refused:
        plan_make(
            actor=owner,
            customer=customer,
            guarantors=[GUARANTOR, {"name": "", "phone": "12"}, {"name": "Self", "phone": customer.phone}],
        )

    assert refused.value.message_dict == {
        "guarantors": [
            "Guarantor 2: Give the guarantor's name.",
            "Guarantor 2: '12' is not a valid phone number for US.",
            "Guarantor 3: Amina Haddad is the customer: a guarantor must be someone else.",
        ]
    }
    assert row_counts() == before


def test_the_policy_needs_a_guarantor_above_the_amount_financed(owner, merchant, customer, today):
    merchant.guarantor_required_above = Decimal("800.00")
    merchant.save(update_fields=["guarantor_required_above"])

    at_limit = plan_make(actor=owner, customer=customer)  # 1000.00 - 200.00 down = 800.00: not above
    with pytest.raises(ValidationError) as refused:
        plan_make(actor=owner, customer=customer, down_payment=Decimal("199.99"))
    with_one = plan_make(actor=owner, customer=customer, down_payment=Decimal("0"), guarantors=[GUARANTOR])

    assert at_limit.guarantors.count() == 0
    assert refused.value.message_dict == {
        "guarantors": ["A plan financing more than 800.00 needs a guarantor: add at least one."]
    }
    assert with_one.guarantors.count() == 1


def test_the_policy_holds_at_approval(owner, merchant, customer, today):
    """A customer's application (or one made before the policy) comes without a guarantor: approving it waits
    for one."""
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    pending = plan_make(actor=owner, customer=customer)
    merchant.guarantor_required_above = Decimal("500.00")
    merchant.save(update_fields=["guarantor_required_above"])

    with pytest.raises(ValidationError) as refused:
        plan_approve(actor=owner, plan=pending)
    guarantor_add(actor=owner, plan=pending, **GUARANTOR)
    approved = plan_approve(actor=owner, plan=pending)

    assert refused.value.message_dict == {
        "guarantors": ["A plan financing more than 500.00 needs a guarantor: add at least one."]
    }
    assert (approved.status, approved.guarantors.get().name) == ("active", "Karim Saleh")


def test_who_may_add_and_remove_a_guarantor(owner, manager, clerk, merchant, customer, today):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    pending = plan_make(actor=clerk, customer=customer)

    added = guarantor_add(actor=clerk, plan=pending, **GUARANTOR)
    guarantor_remove(actor=clerk, guarantor=added)
    kept = guarantor_add(actor=clerk, plan=pending, name="Lina", phone="+14155550188")
    active = plan_approve(actor=manager, plan=pending)

    with pytest.raises(PermissionDenied):
        guarantor_add(actor=clerk, plan=active, **GUARANTOR)
    later = guarantor_add(actor=manager, plan=active, **GUARANTOR)
    with pytest.raises(ValidationError) as refused:
        guarantor_remove(actor=owner, guarantor=kept)
    plan_cancel(actor=owner, plan=active, reason="Returned.")
    with pytest.raises(ValidationError) as closed:
        guarantor_add(actor=owner, plan=active, name="Omar", phone="+14155550177")

    assert refused.value.message_dict == {
        "guarantor": [
            f"Plan {active.reference} is active: its guarantors stay on it; only an application's can be removed."
        ]
    }
    assert closed.value.message_dict == {"plan": [f"Plan {active.reference} is cancelled: it takes no new guarantor."]}
    assert set(active.guarantors.values_list("pk", flat=True)) == {kept.pk, later.pk}


# Exposure --------------------------------------------------------------------------------------------------


@pytest.fixture
def book(owner, merchant, other_owner, other_merchant, customer, today):
    """Amina (national id A-1) owes 800.00 on P1 (first row overdue), guaranteed by Chadi (by phone only).
    Badr (B-7) owes 400.00 on P2, defaulted, guaranteed by Amina (her id typed in lower case).
    A cancelled plan of Amina's and another merchant's plans count for nothing."""
    customer.national_id = "A-1"
    customer.save(update_fields=["national_id"])
    badr = CustomerFactory(merchant=merchant, name="Badr", national_id="B-7", phone="+14155550122")
    p1 = plan_make(actor=owner, customer=customer, guarantors=[{"name": "Chadi", "phone": "+14155550133"}])
    p2 = plan_make(
        actor=owner,
        customer=badr,
        total_amount=Decimal("500.00"),
        down_payment=Decimal("100.00"),
        start_date=date(2025, 12, 1),
        guarantors=[{"name": "Amina", "phone": "+14155550144", "national_id": "a-1"}],
    )
    plan_mark_defaulted(actor=owner, plan=p2, reason="Two months late.")
    gone = plan_make(actor=owner, customer=customer, guarantors=[{"name": "Chadi", "phone": "+14155550133"}])
    plan_cancel(actor=owner, plan=gone, reason="Returned.")
    elsewhere = CustomerFactory(merchant=other_merchant, national_id="A-1", phone=customer.phone)
    plan_make(actor=other_owner, customer=elsewhere, guarantors=[{"name": "Chadi", "phone": "+14155550133"}])
    return p1, p2, badr


def test_the_exposure_of_the_customer_and_each_guarantor(book, merchant, customer, django_assert_num_queries):
    _p1, _p2, badr = book
    parties = [
        Party(name=customer.name, customer=customer),
        Party(name="Badr", national_id="b-7", phone="+14155550000"),  # the national id wins over the phone
        Party(name="Chadi", phone="+14155550133"),
        Party(name="Nobody", national_id="Z-0"),
        Party(name="Blank"),
    ]

    with django_assert_num_queries(1):
        exposures = exposure_list(merchant=merchant, parties=parties)

    def figures(role: RoleExposure) -> tuple:
        return (role.open_plans, role.balance, role.overdue_plans, role.defaulted_plans)

    assert [(figures(e.as_customer), figures(e.as_guarantor), e.is_late) for e in exposures] == [
        ((1, Decimal("800.00"), 1, 0), (1, Decimal("400.00"), 1, 1), True),
        ((1, Decimal("400.00"), 1, 1), (0, Decimal("0.00"), 0, 0), True),
        ((0, Decimal("0.00"), 0, 0), (1, Decimal("800.00"), 1, 0), True),
        ((0, Decimal("0.00"), 0, 0), (0, Decimal("0.00"), 0, 0), False),
        ((0, Decimal("0"), 0, 0), (0, Decimal("0"), 0, 0), False),
    ]
    assert exposure_list(merchant=merchant, parties=[Party(customer=badr)])[0].as_customer.is_defaulted is True


def test_a_payment_brings_the_exposure_down(book, owner, merchant, customer):
    p1, _p2, _badr = book
    payment_post(actor=owner, plan=p1, amount=Decimal("250.00"))

    (amina,) = exposure_list(merchant=merchant, parties=[Party(customer=customer)])

    assert (amina.as_customer.balance, amina.as_customer.overdue_plans) == (Decimal("550.00"), 0)


def test_guarantor_rows_are_tenant_rows(book, merchant):
    assert set(Guarantor.objects.values_list("merchant_id", flat=True)) >= {merchant.pk}
    assert all(g.plan.merchant_id == g.merchant_id for g in Guarantor.objects.select_related("plan"))
