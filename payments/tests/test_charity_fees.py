"""Murabaha terms: late fees booked for charity are charity fees (fixed when charged, allocated as ``charity_fee``,
reversed the same way, never counted as income in the statistics or the export), given away by recorded
disbursements; fees never compound; the settings refuse terms murabaha does not allow; a plan under murabaha is
flat or free of charge and a reschedule adds no markup."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.jobs import late_fees_apply
from installments.models import Installment, LateFee
from installments.selectors import late_fee_amount
from installments.services import plan_reschedule
from installments.services.plans import plan_terms_build
from installments.tests.factories import plan_make
from payments.models import PaymentAllocation
from payments.selectors import charity_fees_totals
from payments.services import charity_disbursement_record, payment_post, payment_refund
from payments.stats import merchant_stats_compute
from taqsit.models import Merchant, Role
from taqsit.services import merchant_update
from taqsit.tests.factories import MerchantFactory, UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def murabaha(db):
    """A murabaha shop charging a fixed 5.00 late fee for charity, no grace days."""
    return MerchantFactory(
        sale_terms=Merchant.SaleTerms.MURABAHA,
        late_fee_method=Merchant.LateFeeMethod.FIXED,
        late_fee_amount=D("5.00"),
        late_fee_booking=Merchant.LateFeeBooking.CHARITY,
        grace_days=0,
    )


@pytest.fixture
def boss(murabaha):
    return UserFactory(merchant=murabaha, role=Role.OWNER, username="boss")


@pytest.fixture
def plan(murabaha, boss, today):
    """plan_make's flat 12% plan (4 x 208.00 from 2026-01-15, 200.00 down): row 1 due 02-15 is overdue on 03-01."""
    return plan_make(
        actor=boss, customer=CustomerFactory(merchant=murabaha), finance_charge_method="flat", interest_rate=D("12")
    )


def test_the_daily_job_charges_a_charity_fee_and_it_is_paid_as_such(plan, murabaha, boss, today, ledger_assert):
    assert late_fees_apply(merchant=murabaha, today=today) == (1, D("5.00"))
    fee = LateFee.objects.get(plan=plan)
    assert fee.is_charity is True
    row = Installment.objects.get(plan=plan, number=1)
    assert (row.late_fee, row.charity_fee) == (D("5.00"), D("5.00"))
    payment = payment_post(actor=boss, plan=plan, amount=D("20.00"), payment_date=today)
    assert [(line.kind, line.amount) for line in payment.allocations.order_by("kind")] == [
        ("charity_fee", D("5.00")),
        ("interest", D("8.00")),
        ("principal", D("7.00")),
    ]
    ledger_assert(plan)
    # Changing the booking later does not rewrite the fee charged: it stays a charity fee.
    Merchant.objects.filter(pk=murabaha.pk).update(late_fee_booking=Merchant.LateFeeBooking.INCOME)
    assert LateFee.objects.get(pk=fee.pk).is_charity is True
    # A refund reverses it as a charity fee.
    payment_refund(actor=boss, payment=payment, reason="Wrong plan")
    reversal = PaymentAllocation.objects.get(payment=payment, kind="charity_fee", amount__lt=0)
    assert reversal.amount == D("-5.00")
    row.refresh_from_db()
    assert (row.late_fee_paid, row.charity_fee_paid) == (D("0.00"), D("0.00"))
    ledger_assert(plan)


def test_income_and_charity_fees_on_one_row_are_allocated_each_as_its_kind(plan, murabaha, boss, today, ledger_assert):
    """A 5.00 fee booked as income (charged before the switch), then a 5.00 charity fee: the 7.00 paid goes 5.00
    to the income fee, then 2.00 to the charity fee."""
    Merchant.objects.filter(pk=murabaha.pk).update(late_fee_booking=Merchant.LateFeeBooking.INCOME)
    from installments.services import late_fee_charge

    row = Installment.objects.get(plan=plan, number=1)
    late_fee_charge(installment=row, period=date(2026, 2, 16))
    Merchant.objects.filter(pk=murabaha.pk).update(late_fee_booking=Merchant.LateFeeBooking.CHARITY)
    late_fee_charge(installment=row, period=date(2026, 2, 17))
    payment = payment_post(actor=boss, plan=plan, amount=D("7.00"), payment_date=today)
    assert sorted((line.kind, line.amount) for line in payment.allocations.all()) == [
        ("charity_fee", D("2.00")),
        ("late_fee", D("5.00")),
    ]
    ledger_assert(plan)


def test_charity_fees_are_never_income_in_the_statistics(plan, murabaha, boss, today):
    late_fees_apply(merchant=murabaha, today=today)
    payment_post(actor=boss, plan=plan, amount=D("5.00"), payment_date=today)
    stats = merchant_stats_compute(merchant=murabaha, today=today)
    # Down payment 200.00 + 5.00 received; the 5.00 was a charity fee, so collected stays 200.00.
    assert (stats.collected, stats.late_fees_charged, stats.late_fees_due) == (D("200.00"), D("0.00"), D("0.00"))
    assert (stats.charity_fees.collected, stats.charity_fees.given, stats.charity_fees.to_give) == (
        D("5.00"),
        D("0.00"),
        D("5.00"),
    )


def test_disbursements_reduce_what_is_to_give_and_never_exceed_it(plan, murabaha, boss, today):
    late_fees_apply(merchant=murabaha, today=today)
    payment_post(actor=boss, plan=plan, amount=D("5.00"), payment_date=today)
    charity_disbursement_record(actor=boss, amount="3.00", recipient="Orphanage", note="March")
    assert charity_fees_totals(merchant=murabaha) == type(charity_fees_totals(merchant=murabaha))(
        collected=D("5.00"), given=D("3.00"), to_give=D("2.00")
    )
    with pytest.raises(ValidationError) as exc:
        charity_disbursement_record(actor=boss, amount="2.01", recipient="Mosque")
    assert exc.value.message_dict == {"amount": ["2.01 exceeds the charity fees still to give, 2.00."]}
    clerk = UserFactory(merchant=murabaha, role=Role.CLERK, username="clerk-charity")
    with pytest.raises(PermissionDenied):
        charity_disbursement_record(actor=clerk, amount="1.00", recipient="Mosque")


def test_stats_api_and_export_show_charity_fees_apart(plan, murabaha, boss, today, api_client):
    late_fees_apply(merchant=murabaha, today=today)
    payment_post(actor=boss, plan=plan, amount=D("5.00"), payment_date=today)
    api_client.force_authenticate(boss)
    body = api_client.get("/api/stats/").json()
    assert body["charity_fees"] == {"collected": "5.00", "given": "0.00", "to_give": "5.00"}
    assert (body["collected"], body["late_fees_charged"]) == ("200.00", "0.00")
    created = api_client.post(
        "/api/charity-disbursements/", {"amount": "4.00", "recipient": "Food bank"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["amount"] == "4.00"
    listed = api_client.get("/api/charity-disbursements/").json()
    assert [item["recipient"] for item in listed["results"]] == ["Food bank"]
    export = api_client.get("/api/installments/payments/export/")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    fee_row = next(row for row in rows if row["payment_number"] == "2")
    assert (fee_row["amount"], fee_row["charity_fee"], fee_row["rebate"]) == ("5.00", "5.00", "0.00")


def test_charity_page_and_dashboard(client, settings, plan, murabaha, boss, today):
    late_fees_apply(merchant=murabaha, today=today)
    payment_post(actor=boss, plan=plan, amount=D("5.00"), payment_date=today)
    web = signed_in(client, settings, boss)
    page = html(web.get(reverse("payments:charity-fees")))
    assert 'data-figure="charity-to-give">$5.00<' in page
    response = web.post(
        reverse("payments:charity-fees"), {"amount": "5.00", "given_on": "2026-03-01", "recipient": "Orphanage"}
    )
    assert response.status_code == 302
    page = html(web.get(reverse("payments:charity-fees")))
    assert 'data-figure="charity-to-give">$0.00<' in page and "Orphanage" in page
    dashboard = html(web.get(reverse("taqsit:dashboard")))
    assert "Charity fees collected / to give" in dashboard


def test_late_fees_never_compound(murabaha, boss, today):
    """A 10% fee for charity on row 1 (208.00 unpaid): 20.80, and again 20.80 for the next period, figured on the
    installment, never on the 20.80 already charged (which would be 22.88)."""
    Merchant.objects.filter(pk=murabaha.pk).update(
        late_fee_method=Merchant.LateFeeMethod.PERCENT, late_fee_percent=D("10"), late_fee_amount=D("0")
    )
    murabaha.refresh_from_db()
    plan = plan_make(
        actor=boss, customer=CustomerFactory(merchant=murabaha), finance_charge_method="flat", interest_rate=D("12")
    )
    row = Installment.objects.get(plan=plan, number=1)
    assert late_fees_apply(merchant=murabaha, today=today) == (1, D("20.80"))
    row.refresh_from_db()
    assert row.late_fee == D("20.80")
    assert late_fee_amount(installment=row, merchant=murabaha) == D("20.80")


# Settings and plan terms under murabaha -------------------------------------------------------------------------


def test_settings_refuse_a_percent_fee_booked_as_income_under_murabaha(owner, merchant):
    with pytest.raises(ValidationError) as exc:
        merchant_update(
            actor=owner,
            merchant=merchant,
            sale_terms="murabaha",
            late_fee_method="percent",
            late_fee_percent=D("5"),
            late_fee_booking="income",
        )
    assert list(exc.value.message_dict) == ["late_fee_method"]
    merchant.refresh_from_db()
    assert merchant.sale_terms == "conventional"
    # A fixed (actual cost) fee as income, or a percent one for charity, is accepted.
    merchant_update(
        actor=owner, merchant=merchant, sale_terms="murabaha", late_fee_method="fixed", late_fee_amount=D("3.00")
    )
    merchant_update(
        actor=owner, merchant=merchant, late_fee_method="percent", late_fee_percent=D("5"), late_fee_booking="charity"
    )
    merchant.refresh_from_db()
    assert (merchant.sale_terms, merchant.late_fee_method, merchant.late_fee_booking) == (
        "murabaha",
        "percent",
        "charity",
    )


def test_settings_offer_a_discretionary_rebate_under_murabaha_only(owner, merchant):
    with pytest.raises(ValidationError) as exc:
        merchant_update(actor=owner, merchant=merchant, early_settlement_rebate="discretionary")
    assert exc.value.message_dict == {
        "early_settlement_rebate": ["A discretionary rebate (ibra') is offered under murabaha terms only."]
    }
    merchant_update(actor=owner, merchant=merchant, sale_terms="murabaha", early_settlement_rebate="discretionary")


def test_settings_api_and_page_expose_the_terms(owner, merchant, api_client, client, settings):
    api_client.force_authenticate(owner)
    response = api_client.patch(
        "/api/merchant/",
        {"sale_terms": "murabaha", "late_fee_booking": "charity", "early_settlement_rebate": "rule_of_78"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["sale_terms"], body["late_fee_booking"], body["early_settlement_rebate"]) == (
        "murabaha",
        "charity",
        "rule_of_78",
    )
    web = signed_in(client, settings, owner)
    page = html(web.get(reverse("taqsit:merchant-settings")))
    for name in ("sale_terms", "late_fee_booking", "early_settlement_rebate"):
        assert f'name="{name}"' in page


def test_murabaha_plans_are_flat_or_free_of_charge(murabaha, boss, today):
    terms = {
        "total_amount": D("1000.00"),
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": date(2026, 1, 15),
    }
    with pytest.raises(ValidationError) as exc:
        plan_terms_build(merchant=murabaha, finance_charge_method="declining_balance", interest_rate=D("12"), **terms)
    assert list(exc.value.message_dict) == ["finance_charge_method"]
    assert "fixed when the sale is signed" in exc.value.message_dict["finance_charge_method"][0]
    assert plan_terms_build(merchant=murabaha, finance_charge_method="flat", interest_rate=D("12"), **terms).schedule


def test_api_preview_refuses_declining_balance_under_murabaha(murabaha, boss, api_client, today):
    api_client.force_authenticate(boss)
    response = api_client.post(
        "/api/installments/plans/preview/",
        {
            "total_amount": "1000.00",
            "number_of_installments": 4,
            "installment_frequency": "monthly",
            "start_date": "2026-01-15",
            "finance_charge_method": "declining_balance",
            "interest_rate": "12",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "finance_charge_method" in response.json()


def test_a_reschedule_never_adds_markup(plan, boss, today, api_client):
    with pytest.raises(ValidationError) as exc:
        plan_reschedule(
            actor=boss,
            plan=plan,
            number_of_installments=6,
            installment_frequency="monthly",
            start_date=date(2026, 3, 1),
            interest_rate=D("5"),
        )
    assert "markup was fixed when the sale was signed" in exc.value.message_dict["interest_rate"][0]
    api_client.force_authenticate(boss)
    response = api_client.post(
        f"/api/installments/plans/{plan.pk}/reschedule/",
        {
            "number_of_installments": 6,
            "installment_frequency": "monthly",
            "start_date": "2026-03-01",
            "finance_charge_method": "flat",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "finance_charge_method" in response.json()
    plan.refresh_from_db()
    assert plan.rescheduled_at is None
