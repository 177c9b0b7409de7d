"""Early settlement: the rebate of each rule against hand-computed cases in 2-, 3- and 0-decimal currencies,
``plan_settle`` (the rebate as its own allocation lines, the plan completed, the quote on the receipt), its refund,
the API and the page; and a property: whatever happened to a plan, settling it leaves nothing owed and the ledger
sound.

Every case settles on the frozen today, 2026-03-01, plans starting 2026-01-15 with monthly rows due on the 15th:
row 1's period (01-15, 02-15] is over, row 2's (02-15, 03-15] is running (14 of its 28 days left), rows 3... have
not begun. So for the rule of 78 k = n - 2 whole periods remain, and the actuarial rebate is half of row 2's
actuarial interest plus all of the later rows'.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.selectors import plan_payoff_quote
from installments.settlement import SettlementRow, actuarial_rate
from installments.tests.factories import plan_make
from installments.tests.test_schedule_adds_up import _plan, _step, steps, terms
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post, payment_refund, payment_void, plan_settle
from taqsit.models import Merchant, Role
from taqsit.tests.factories import MerchantFactory, UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db
D = Decimal
Rule = Merchant.SettlementRebate
ON = date(2026, 3, 1)


def _shop(currency: str, rule: str, *, sale_terms: str = Merchant.SaleTerms.CONVENTIONAL):
    merchant = MerchantFactory(currency=currency, early_settlement_rebate=rule, sale_terms=sale_terms)
    owner = UserFactory(merchant=merchant, role=Role.OWNER, username=f"owner-{currency}-{rule}")
    return merchant, owner


def _usd_flat(rule: str, **shop):
    """USD 1000.00, 200.00 down, 4 monthly rows at a flat 12%: charge = 800 x 0.12 x 4/12 = 32.00, each row 200.00
    principal + 8.00 interest = 208.00, due 02-15, 03-15, 04-15, 05-15."""
    merchant, owner = _shop("USD", rule, **shop)
    plan = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        finance_charge_method="flat",
        interest_rate=D("12"),
    )
    return plan, owner


def _kwd_flat(rule: str):
    """KWD 1000.000, 100.000 down, 3 monthly rows at a flat 10%: charge = 900 x 0.10 x 3/12 = 22.500, each row
    300.000 + 7.500 = 307.500, due 02-15, 03-15, 04-15."""
    merchant, owner = _shop("KWD", rule)
    plan = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=D("1000.000"),
        down_payment=D("100.000"),
        number_of_installments=3,
        finance_charge_method="flat",
        interest_rate=D("10"),
    )
    return plan, owner


def _jpy_flat(rule: str):
    """JPY 100000, 10000 down, 6 monthly rows at a flat 15%: charge = 90000 x 0.15 x 6/12 = 6750, each row
    15000 + 1125 = 16125, due 02-15 ... 07-15."""
    merchant, owner = _shop("JPY", rule)
    plan = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=D("100000"),
        down_payment=D("10000"),
        number_of_installments=6,
        finance_charge_method="flat",
        interest_rate=D("15"),
    )
    return plan, owner


# The rebate of each rule, by hand ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "rule", "principal", "interest", "rebate", "amount"),
    [
        # No rebate: all remaining interest is due.
        (_usd_flat, Rule.NONE, "800.00", "32.00", "0.00", "832.00"),
        (_kwd_flat, Rule.NONE, "900.000", "22.500", "0.000", "922.500"),
        (_jpy_flat, Rule.NONE, "90000", "6750", "0", "96750"),
        # Rule of 78, k = n - 2: USD 32.00 x (2x3/2)/(4x5/2) = 32.00 x 3/10 = 9.60;
        # KWD 22.500 x (1x2/2)/(3x4/2) = 22.500 / 6 = 3.750;
        # JPY 6750 x (4x5/2)/(6x7/2) = 6750 x 10/21 = 3214.285... -> 3214.
        (_usd_flat, Rule.RULE_OF_78, "800.00", "32.00", "9.60", "822.40"),
        (_kwd_flat, Rule.RULE_OF_78, "900.000", "22.500", "3.750", "918.750"),
        (_jpy_flat, Rule.RULE_OF_78, "90000", "6750", "3214", "93536"),
        # Actuarial, flat plans at the schedule's own periodic rate r (sum A/(1+r)^j = principal):
        # USD r = 0.0158749908 (208.00 x a(4, r) = 800.00); a_j = B x r: 12.699993, 9.599607, 6.450002,
        #     3.250398; unearned = 9.599607 / 2 + 6.450002 + 3.250398 = 14.500204 -> 14.50.
        # KWD r = 0.0124486638 (307.500 x a(3, r) = 900.000); a_j: 11.203797, 7.515306, 3.780897;
        #     unearned = 7.515306 / 2 + 3.780897 = 7.538550 -> 7.539.
        # JPY r = 0.0210628075 (16125 x a(6, r) = 90000); a_j: 1895.652677, 1595.942673, 1289.919935,
        #     977.451499, 658.401601, 332.631616; unearned = 1595.942673 / 2 + the last four = 4056.376 -> 4056.
        (_usd_flat, Rule.ACTUARIAL, "800.00", "32.00", "14.50", "817.50"),
        (_kwd_flat, Rule.ACTUARIAL, "900.000", "22.500", "7.539", "914.961"),
        (_jpy_flat, Rule.ACTUARIAL, "90000", "6750", "4056", "92694"),
    ],
)
def test_rebate_by_rule_against_hand_computed_cases(
    today, ledger_assert, make, rule, principal, interest, rebate, amount
):
    plan, owner = make(rule)
    quote = plan_payoff_quote(plan=plan, on=ON)
    assert (quote.rule, quote.principal, quote.interest, quote.fees) == (rule, D(principal), D(interest), D(0))
    assert (quote.rebate, quote.amount) == (D(rebate), D(amount))
    assert str(quote.amount) == amount  # in the currency's unit, exactly
    payment = plan_settle(actor=owner, plan=plan, on=ON)
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.COMPLETED
    assert plan.remaining_balance == 0
    assert (plan.amount_paid - plan.down_payment, plan.rebates) == (D(amount), D(rebate))
    assert payment.amount == D(amount)
    assert payment.settlement == {
        "date": "2026-03-01",
        "rule": rule,
        "principal": principal,
        "interest": interest,
        "interest_not_yet_due": quote.interest_not_yet_due.to_eng_string(),
        "fees": str(quote.fees),
        "rebate": rebate,
        "amount": amount,
        "reason": "",
    }
    assert not Installment.objects.filter(plan=plan).exclude(status="paid").exists()
    ledger_assert(plan)


def test_actuarial_rate_is_the_rate_at_which_the_payments_repay_the_principal():
    # 4 x 208.00 at r = 0.0158749908: 208 x (1 - 1.0158749908^-4) / 0.0158749908 = 800.00.
    rows = [
        SettlementRow(key=j, due_date=ON, amount_due=D("208"), principal=D("200"), interest=D("8"), interest_paid=D(0))
        for j in range(4)
    ]
    rate = actuarial_rate(rows)
    assert rate.quantize(D("1E-10")) == D("0.0158749908")
    present = sum(D("208") / (1 + rate) ** j for j in range(1, 5))
    assert abs(present - D("800")) < D("1E-20")


def test_actuarial_on_a_declining_balance_plan_uses_its_own_interest_column(today, ledger_assert):
    """USD 1200.00, nothing down, 4 monthly rows, declining 12%: r = 0.01, payment = round(1200 x 0.01 /
    (1 - 1.01^-4)) = 307.54; interest 12.00, 9.04 (904.46 x 0.01), 6.06 (605.96 x 0.01), 3.04 (304.48 x 0.01),
    charge 30.14. Unearned on 03-01: 9.04 / 2 + 6.06 + 3.04 = 13.62; to pay 1200.00 + 30.14 - 13.62 = 1216.52."""
    merchant, owner = _shop("USD", Rule.ACTUARIAL)
    plan = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=D("1200.00"),
        down_payment=D("0"),
        finance_charge_method="declining_balance",
        interest_rate=D("12"),
    )
    assert [row.interest for row in plan.installments.order_by("number")] == [
        D("12.00"),
        D("9.04"),
        D("6.06"),
        D("3.04"),
    ]
    quote = plan_payoff_quote(plan=plan, on=ON)
    assert (quote.interest, quote.rebate, quote.amount) == (D("30.14"), D("13.62"), D("1216.52"))
    plan_settle(actor=owner, plan=plan, on=ON)
    ledger_assert(plan)


def test_rebate_is_capped_at_the_interest_still_unpaid(today, ledger_assert):
    """Rule of 78 with rows 1 and 2 paid (16.00 of interest paid, 16.00 left): on 02-15, the first due date, k = 3
    (rows 2-4 not begun), 32.00 x 6/10 = 19.20, capped at the 16.00 unpaid; to pay 400.00 + 16.00 - 16.00."""
    plan, owner = _usd_flat(Rule.RULE_OF_78)
    payment_post(actor=owner, plan=plan, amount=D("416.00"), payment_date=date(2026, 2, 15))
    quote = plan_payoff_quote(plan=plan, on=date(2026, 2, 15))
    assert (quote.principal, quote.interest, quote.rebate, quote.amount) == (
        D("400.00"),
        D("16.00"),
        D("16.00"),
        D("400.00"),
    )
    plan_settle(actor=owner, plan=plan, on=date(2026, 2, 15))
    ledger_assert(plan)


# plan_settle: lines, receipt, refund --------------------------------------------------------------------------


def test_settlement_lines_rebate_forgives_the_latest_rows_first(today, ledger_assert):
    """Rule of 78, 9.60: row 4's 8.00 and 1.60 of row 3's interest; the 822.40 paid: 8.00 + 200.00 on rows 1 and
    2, 6.40 + 200.00 on row 3, 200.00 on row 4."""
    plan, owner = _usd_flat(Rule.RULE_OF_78)
    payment = plan_settle(actor=owner, plan=plan, on=ON, method="card", reference="POS-1")
    lines = [
        (line.installment.number, line.kind, line.amount)
        for line in PaymentAllocation.objects.filter(payment=payment).select_related("installment")
    ]
    assert sorted(lines) == sorted(
        [
            (4, "rebate", D("8.00")),
            (3, "rebate", D("1.60")),
            (1, "interest", D("8.00")),
            (1, "principal", D("200.00")),
            (2, "interest", D("8.00")),
            (2, "principal", D("200.00")),
            (3, "interest", D("6.40")),
            (3, "principal", D("200.00")),
            (4, "principal", D("200.00")),
        ]
    )
    row4 = Installment.objects.get(plan=plan, number=4)
    assert (row4.interest_paid, row4.interest_rebated, row4.amount_paid, row4.status) == (
        D("8.00"),
        D("8.00"),
        D("208.00"),
        "paid",
    )
    assert (payment.payment_method, payment.reference, payment.balance_after) == ("card", "POS-1", D("0.00"))
    ledger_assert(plan)


def test_refund_of_a_settlement_reverses_the_rebate_and_reopens_the_plan(today, ledger_assert):
    plan, owner = _usd_flat(Rule.RULE_OF_78)
    payment = plan_settle(actor=owner, plan=plan, on=ON)
    payment_refund(actor=owner, payment=payment, reason="Customer changed their mind")
    plan.refresh_from_db()
    assert (plan.status, plan.rebates, plan.remaining_balance) == ("active", D("0.00"), D("832.00"))
    assert not Installment.objects.filter(plan=plan, interest_rebated__gt=0).exists()
    reversed_rebate = PaymentAllocation.objects.filter(payment=payment, kind="rebate", amount__lt=0)
    assert sorted(line.amount for line in reversed_rebate) == [D("-8.00"), D("-1.60")]
    ledger_assert(plan)
    # Settled again after the refund: the same quote, the same close.
    plan_settle(actor=owner, plan=plan, on=ON)
    plan.refresh_from_db()
    assert (plan.status, plan.rebates) == ("completed", D("9.60"))
    ledger_assert(plan)


def test_void_of_a_settlement_reverses_it_too(today, ledger_assert):
    plan, owner = _usd_flat(Rule.ACTUARIAL)
    payment = plan_settle(actor=owner, plan=plan, on=ON)
    payment_void(actor=owner, payment=payment, reason="Recorded on the wrong plan")
    plan.refresh_from_db()
    assert (plan.status, plan.rebates, plan.remaining_balance) == ("active", D("0.00"), D("832.00"))
    ledger_assert(plan)


def test_settlement_pays_open_late_fees_first(today, ledger_assert):
    from installments.tests.factories import late_fee_make

    plan, owner = _usd_flat(Rule.RULE_OF_78)
    late_fee_make(installment=Installment.objects.get(plan=plan, number=1), period=date(2026, 2, 20), amount=D("15.00"))
    quote = plan_payoff_quote(plan=plan, on=ON)
    assert (quote.fees, quote.rebate, quote.amount) == (D("15.00"), D("9.60"), D("837.40"))
    payment = plan_settle(actor=owner, plan=plan, on=ON)
    assert payment.allocations.filter(kind="late_fee").get().amount == D("15.00")
    ledger_assert(plan)


def test_settle_refuses_a_closed_plan_and_a_future_date(today):
    plan, owner = _usd_flat(Rule.NONE)
    with pytest.raises(ValidationError) as exc:
        plan_settle(actor=owner, plan=plan, on=ON + timedelta(days=1))
    assert "date" in exc.value.error_dict
    plan_settle(actor=owner, plan=plan, on=ON)
    with pytest.raises(ValidationError) as exc:
        plan_settle(actor=owner, plan=plan, on=ON)
    assert exc.value.error_dict["plan"][0].messages == [f"Plan {plan.reference} is completed: it takes no payments."]


# Discretionary rebate (murabaha, ibra') -------------------------------------------------------------------------


def test_discretionary_rebate_is_granted_by_a_manager_with_a_reason(today, ledger_assert):
    plan, owner = _usd_flat(Rule.DISCRETIONARY, sale_terms=Merchant.SaleTerms.MURABAHA)
    quote = plan_payoff_quote(plan=plan, on=ON)
    assert (quote.rebate, quote.rebate_max, quote.amount) == (D("0.00"), D("32.00"), D("832.00"))
    clerk = UserFactory(merchant=plan.merchant, role=Role.CLERK, username="clerk-ibra")
    with pytest.raises(PermissionDenied):
        plan_settle(actor=clerk, plan=plan, on=ON, rebate="10.00", reason="Good customer")
    with pytest.raises(ValidationError) as exc:
        plan_settle(actor=owner, plan=plan, on=ON, rebate="10.00")
    assert exc.value.message_dict == {"reason": ["Give the reason for the rebate."]}
    with pytest.raises(ValidationError) as exc:
        plan_settle(actor=owner, plan=plan, on=ON, rebate="32.01", reason="Too much")
    assert exc.value.message_dict == {"rebate": ["The rebate 32.01 exceeds the markup still unpaid, 32.00."]}
    payment = plan_settle(actor=owner, plan=plan, on=ON, rebate="10.00", reason="Paid early, good customer")
    assert payment.amount == D("822.00")  # 832.00 - 10.00
    assert payment.settlement["rebate"] == "10.00"
    assert payment.settlement["reason"] == "Paid early, good customer"
    assert payment.settlement["rule"] == "discretionary"
    ledger_assert(plan)


def test_a_clerk_settles_without_a_rebate_under_the_discretionary_rule(today, ledger_assert):
    plan, _owner = _usd_flat(Rule.DISCRETIONARY, sale_terms=Merchant.SaleTerms.MURABAHA)
    clerk = UserFactory(merchant=plan.merchant, role=Role.CLERK, username="clerk-plain")
    payment = plan_settle(actor=clerk, plan=plan, on=ON)
    assert payment.amount == D("832.00")
    ledger_assert(plan)


# The property ---------------------------------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    terms_=terms,
    steps_=steps,
    days_ago=st.integers(0, 200),
    rule=st.sampled_from([Rule.NONE, Rule.ACTUARIAL, Rule.RULE_OF_78]),
)
def test_settling_after_any_history_leaves_nothing_owed_and_the_ledger_sound(
    owner, merchant, today, ledger_assert, terms_, steps_, days_ago, rule
):
    """Whatever happened to the plan (payments, refunds, voids, late fees, reschedules, in 2-, 3- and 0-decimal
    currencies), settling it under any rule completes it with a balance of exactly 0 and the invariants holding;
    refunding the settlement brings back exactly the balance it closed."""
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(early_settlement_rebate=rule)
        plan = _plan(owner, CustomerFactory(merchant=merchant), today, terms_)
        fee_day = [0]
        for step in steps_:
            try:
                with transaction.atomic():
                    _step(owner, plan, today, step, fee_day)
            except ValidationError:
                pass
        plan = InstallmentPlan.objects.select_related("merchant").get(pk=plan.pk)
        if not plan.is_open:
            event("plan closed before the settlement")
            transaction.set_rollback(True)
            return
        on = max(today - timedelta(days=days_ago), plan.start_date)
        quote = plan_payoff_quote(plan=plan, on=on)
        if quote.amount == 0:
            event("nothing to pay once rebated")
            transaction.set_rollback(True)
            return
        balance = plan.remaining_balance
        assert D(0) <= quote.rebate <= quote.interest
        event(f"rebate: {quote.rebate > 0}")
        payment = plan_settle(actor=owner, plan=plan, on=on)
        plan.refresh_from_db()
        assert plan.status == InstallmentPlan.Status.COMPLETED
        assert plan.remaining_balance == 0
        assert payment.amount + quote.rebate == balance
        assert payment.amount == quote.amount
        ledger_assert(plan)
        payment_refund(actor=owner, payment=payment, reason="Property check")
        plan.refresh_from_db()
        assert plan.remaining_balance == balance
        ledger_assert(plan)
        transaction.set_rollback(True)


# The API and the pages ------------------------------------------------------------------------------------------


def test_api_payoff_shows_the_rule_and_rebate(api_client, today):
    plan, owner = _usd_flat(Rule.RULE_OF_78)
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/installments/plans/{plan.pk}/payoff/", {"date": "2026-03-01"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "date": "2026-03-01",
        "principal": "800.00",
        "interest": "32.00",
        "fees": "0.00",
        "rebate": "9.60",
        "amount": "822.40",
        "rule": "rule_of_78",
        "rebate_max": "0.00",
        "interest_not_yet_due": "24.00",
    }


def test_api_settle_records_the_settlement(api_client, today, ledger_assert):
    plan, _owner = _usd_flat(Rule.RULE_OF_78)
    clerk = UserFactory(merchant=plan.merchant, role=Role.CLERK, username="clerk-api")
    api_client.force_authenticate(clerk)
    response = api_client.post(
        f"/api/installments/plans/{plan.pk}/settle/",
        {"date": "2026-03-01", "payment_method": "cash", "reference": "R-9"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["status"], body["settlement"]["rebate"]) == ("822.40", "completed", "9.60")
    assert sorted(line["amount"] for line in body["allocations"] if line["kind"] == "rebate") == ["1.60", "8.00"]
    plan.refresh_from_db()
    assert plan.status == "completed"
    ledger_assert(plan)
    again = api_client.post(f"/api/installments/plans/{plan.pk}/settle/", {}, format="json")
    assert again.status_code == 409, again.content


def test_api_settle_refuses_a_viewer_and_another_merchants_plan(api_client, today, other_merchant):
    plan, _owner = _usd_flat(Rule.NONE)
    viewer = UserFactory(merchant=plan.merchant, role=Role.VIEWER, username="viewer-api")
    api_client.force_authenticate(viewer)
    assert api_client.post(f"/api/installments/plans/{plan.pk}/settle/", {}, format="json").status_code == 403
    stranger = UserFactory(merchant=other_merchant, role=Role.OWNER, username="stranger")
    api_client.force_authenticate(stranger)
    assert api_client.post(f"/api/installments/plans/{plan.pk}/settle/", {}, format="json").status_code == 404
    assert Payment.objects.filter(plan=plan, settlement__isnull=False).count() == 0


def test_api_discretionary_rebate_needs_a_manager(api_client, today):
    plan, _owner = _usd_flat(Rule.DISCRETIONARY, sale_terms=Merchant.SaleTerms.MURABAHA)
    clerk = UserFactory(merchant=plan.merchant, role=Role.CLERK, username="clerk-api-ibra")
    api_client.force_authenticate(clerk)
    url = f"/api/installments/plans/{plan.pk}/settle/"
    assert api_client.post(url, {"rebate": "5.00", "reason": "x"}, format="json").status_code == 403
    manager = UserFactory(merchant=plan.merchant, role=Role.MANAGER, username="manager-api-ibra")
    api_client.force_authenticate(manager)
    response = api_client.post(url, {"rebate": "5.00", "reason": "Ibra' for paying early"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "827.00"


def _figures(page: str, attribute: str) -> dict[str, str]:
    return dict(re.findall(rf'data-{attribute}="(\w+)">([^<]*)<', page))


def test_settle_page_shows_the_quote_and_records_the_settlement(client, settings, today):
    plan, owner = _usd_flat(Rule.RULE_OF_78)
    web = signed_in(client, settings, owner)
    url = reverse("payments:plan-settle", kwargs={"plan_pk": plan.pk})
    page = html(web.get(url))
    assert _figures(page, "payoff")["rebate"] == "$9.60"
    assert _figures(page, "payoff")["amount"] == "$822.40"
    assert "(Unearned interest, rule of 78)" in page
    partial = html(web.get(url, {"date": "2026-02-15"}, HTTP_HX_REQUEST="true"))
    # On 02-15 k = 3: 32.00 x (3x4/2)/(4x5/2) = 32.00 x 6/10 = 19.20.
    assert _figures(partial, "payoff")["rebate"] == "$19.20"
    detail = html(web.get(reverse("installments:plan-detail", args=[plan.pk])))
    assert f'href="{url}" data-action="settle"' in detail
    response = web.post(url, {"date": "2026-03-01", "payment_method": "cash", "reference": ""})
    assert response.status_code == 302, response.content
    receipt = html(web.get(response["Location"]))
    figures = _figures(receipt, "settlement")
    assert figures["rule"] == "Unearned interest, rule of 78"
    assert (figures["rebate"], figures["amount"], figures["principal"]) == ("$9.60", "$822.40", "$800.00")
    assert _figures(receipt, "receipt")["remaining"] == "$0.00"
