"""The payoff quote: what closes a plan if paid on a date, in 2-, 3- and 0-decimal currencies, as the selector, the
API (``GET /api/installments/plans/{id}/payoff/``) and the plan page's panel give it; the quoted amount, posted
on that date, completes the plan."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.selectors import PayoffQuote, plan_payoff_quote
from installments.services import plan_cancel, plan_reschedule
from installments.tests.factories import late_fee_make, plan_make
from installments.tests.test_schedule_adds_up import _plan, _step, steps, terms
from payments.services import payment_post
from taqsit.models import Role
from taqsit.money import quantum
from taqsit.tests.factories import MerchantFactory, UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db
D = Decimal
PLANS = "/api/installments/plans/"


def _balance(plan: InstallmentPlan) -> Decimal:
    """The remaining balance as the plan's own totals give it (total payable + fees charged - paid)."""
    plan.refresh_from_db()
    return plan.total_payable + plan.late_fees - plan.amount_paid


def _assert_closes(plan: InstallmentPlan, quote: PayoffQuote, *, actor, ledger_assert) -> None:
    """Posting the quoted amount on the quote's date completes the plan with nothing left to pay."""
    payment_post(actor=actor, plan=plan, amount=quote.amount, payment_date=quote.date)
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.COMPLETED
    assert plan.remaining_balance == 0
    assert not Installment.objects.current().filter(plan=plan, status__in=["pending", "partially_paid"]).exists()
    ledger_assert(plan)


@pytest.fixture
def usd_plan(owner, customer, today):
    """USD, 1000.00 with 200.00 down, 4 monthly rows from 2026-01-15 at a flat 12%: each row 200.00 principal and
    8.00 interest, due 02-15, 03-15, 04-15, 05-15. 100.00 paid on 02-20 (8.00 interest, 92.00 principal of #1) and
    a late fee of 15.00 charged on #1."""
    plan = plan_make(
        actor=owner,
        customer=customer,
        finance_charge_method="flat",
        interest_rate=D("12"),
        start_date=date(2026, 1, 15),
    )
    payment_post(actor=owner, plan=plan, amount=D("100.00"), payment_date=date(2026, 2, 20))
    first = Installment.objects.get(plan=plan, number=1)
    late_fee_make(installment=first, period=date(2026, 2, 25), amount=D("15.00"))
    plan.refresh_from_db()
    return plan


# The selector -------------------------------------------------------------------------------------------------


def test_usd_quote_is_the_remaining_balance_to_the_cent(usd_plan, owner, ledger_assert):
    quote = plan_payoff_quote(plan=usd_plan, on=date(2026, 3, 1))
    assert quote == PayoffQuote(
        date=date(2026, 3, 1),
        principal=D("708.00"),  # 800.00 - 92.00
        interest=D("24.00"),  # #2, #3 and #4 (8.00 each), none due yet on 03-01
        fees=D("15.00"),
        rebate=D("0.00"),
        amount=D("747.00"),
        currency="USD",
        interest_not_yet_due=D("24.00"),
    )
    assert str(quote.amount) == "747.00" and str(quote.rebate) == "0.00"
    assert quote.amount == _balance(usd_plan) == D("1032.00") + D("15.00") - D("300.00")
    _assert_closes(usd_plan, quote, actor=owner, ledger_assert=ledger_assert)


def test_usd_quote_after_some_due_dates_charges_the_same_and_says_less_is_not_yet_due(usd_plan):
    before = plan_payoff_quote(plan=usd_plan, on=date(2026, 2, 1))
    after = plan_payoff_quote(plan=usd_plan, on=date(2026, 4, 15))  # #2 and #3 due by then, #4 not
    assert (before.principal, before.interest, before.fees, before.amount) == (
        D("708.00"),
        D("24.00"),
        D("15.00"),
        D("747.00"),
    )
    assert before.interest_not_yet_due == D("24.00")
    assert (after.principal, after.interest, after.fees, after.amount) == (
        D("708.00"),
        D("24.00"),
        D("15.00"),
        D("747.00"),
    )
    assert after.interest_not_yet_due == D("8.00")
    assert after.date == date(2026, 4, 15)


def test_paying_only_the_interest_already_due_leaves_the_plan_open(usd_plan, owner):
    """Why the quote charges interest not yet due: the ledger completes a plan only at a zero balance, and the
    allocation takes each row's interest before its principal, so principal + interest due + fees falls short by
    exactly the interest not yet due."""
    quote = plan_payoff_quote(plan=usd_plan, on=date(2026, 3, 1))
    short = quote.principal + (quote.interest - quote.interest_not_yet_due) + quote.fees
    payment_post(actor=owner, plan=usd_plan, amount=short, payment_date=date(2026, 3, 1))
    usd_plan.refresh_from_db()
    assert usd_plan.status == InstallmentPlan.Status.ACTIVE
    assert usd_plan.remaining_balance == quote.interest_not_yet_due == D("24.00")


def test_kwd_declining_balance_quote_to_the_fils(owner, today, ledger_assert):
    merchant = MerchantFactory(currency="KWD", country="KW")
    actor = UserFactory(merchant=merchant, role=Role.OWNER)
    plan = plan_make(
        actor=actor,
        customer=CustomerFactory(merchant=merchant),
        total_amount=D("1000.000"),
        down_payment=D("100.000"),
        number_of_installments=6,
        finance_charge_method="declining_balance",
        interest_rate=D("18"),
        start_date=date(2026, 1, 10),
    )
    # Rows of 157.973 (the last 157.972), interest 13.500, 11.333, 9.133, 6.901, 4.635, 2.335; due the 10th.
    payment_post(actor=actor, plan=plan, amount=D("200.000"), payment_date=date(2026, 2, 12))
    late_fee_make(installment=Installment.objects.get(plan=plan, number=2), period=date(2026, 3, 1), amount=D("1.250"))
    quote = plan_payoff_quote(plan=plan, on=date(2026, 3, 1))
    # 200.000 paid #1 (13.500 + 144.473) and #2's interest 11.333 with 30.694 of its principal.
    assert quote.principal == D("724.833")  # 900.000 - 144.473 - 30.694
    assert quote.interest == D("23.004")  # 9.133 + 6.901 + 4.635 + 2.335
    assert quote.interest_not_yet_due == D("23.004")
    assert quote.fees == D("1.250")
    assert str(quote.rebate) == "0.000"
    assert str(quote.amount) == "749.087"
    assert quote.amount == _balance(plan) == D("1047.837") + D("1.250") - D("300.000")
    _assert_closes(plan, quote, actor=actor, ledger_assert=ledger_assert)


def test_jpy_quote_in_whole_yen(today, ledger_assert):
    merchant = MerchantFactory(currency="JPY", country="JP")
    actor = UserFactory(merchant=merchant, role=Role.OWNER)
    plan = plan_make(
        actor=actor,
        customer=CustomerFactory(merchant=merchant),
        total_amount=D("100000"),
        down_payment=D("10000"),
        number_of_installments=3,
        finance_charge_method="flat",
        interest_rate=D("10"),
    )
    # Rows of 30750 (750 interest), due 02-15, 03-15, 04-15; 20000 paid on 02-16 leaves 10750 of #1 open.
    payment_post(actor=actor, plan=plan, amount=D("20000"), payment_date=date(2026, 2, 16))
    late_fee_make(installment=Installment.objects.get(plan=plan, number=1), period=date(2026, 2, 20), amount=D("500"))
    quote = plan_payoff_quote(plan=plan, on=date(2026, 2, 28))
    assert quote == PayoffQuote(
        date=date(2026, 2, 28),
        principal=D("70750"),  # 90000 - 19250
        interest=D("1500"),  # #2 and #3, not yet due on 02-28
        fees=D("500"),
        rebate=D("0"),
        amount=D("72750"),
        currency="JPY",
        interest_not_yet_due=D("1500"),
    )
    assert str(quote.amount) == "72750"
    assert quote.amount == _balance(plan) == D("102250") + D("500") - D("30000")
    _assert_closes(plan, quote, actor=actor, ledger_assert=ledger_assert)


def test_rescheduled_plan_quotes_the_rows_in_force_and_the_superseded_rows_fees(usd_plan, owner, ledger_assert):
    plan_reschedule(
        actor=owner,
        plan=usd_plan,
        number_of_installments=5,
        installment_frequency="monthly",
        start_date=date(2026, 3, 1),
    )
    usd_plan.refresh_from_db()
    quote = plan_payoff_quote(plan=usd_plan, on=date(2026, 3, 1))
    current = Installment.objects.current().filter(plan=usd_plan)
    assert quote.principal == sum((row.principal - row.principal_paid for row in current), D("0"))
    assert quote.fees == D("15.00")  # charged on #1, which the reschedule superseded
    assert quote.amount == _balance(usd_plan) == D("747.00")
    _assert_closes(usd_plan, quote, actor=owner, ledger_assert=ledger_assert)


def test_quote_on_a_day_before_the_plan_started_or_out_of_bounds_names_the_date(usd_plan):
    with pytest.raises(ValidationError) as before:
        plan_payoff_quote(plan=usd_plan, on=date(2026, 1, 14))
    assert before.value.message_dict == {
        "date": [f"The date 2026-01-14 is before plan {usd_plan.reference} started (2026-01-15)."]
    }
    with pytest.raises(ValidationError) as far:
        plan_payoff_quote(plan=usd_plan, on=date(2031, 3, 2))
    assert far.value.message_dict == {
        "date": ["The date 2031-03-02 is out of range: give a date from 2021-03-01 to 2031-03-01."]
    }
    assert plan_payoff_quote(plan=usd_plan, on=date(2031, 3, 1)).amount == D("747.00")
    assert plan_payoff_quote(plan=usd_plan, on=date(2026, 1, 15)).amount == D("747.00")


@pytest.mark.parametrize("status", ["completed", "cancelled", "pending"])
def test_a_plan_not_being_collected_has_no_quote(owner, customer, today, status):
    plan = plan_make(actor=owner, customer=customer)
    if status == "completed":
        payment_post(actor=owner, plan=plan, amount=D("800.00"), payment_date=date(2026, 3, 1))
    elif status == "cancelled":
        plan_cancel(actor=owner, plan=plan, reason="Returned the goods.")
    else:
        InstallmentPlan.objects.filter(pk=plan.pk).update(status=status)
    plan.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        plan_payoff_quote(plan=plan, on=date(2026, 3, 1))
    label = InstallmentPlan.Status(status).label.lower()
    assert refused.value.message_dict == {"status": [f"Plan {plan.reference} is {label}: it has no payoff quote."]}
    assert refused.value.error_dict["status"][0].code == "invalid_status"


def test_a_defaulted_plan_has_a_quote(usd_plan):
    InstallmentPlan.objects.filter(pk=usd_plan.pk).update(status=InstallmentPlan.Status.DEFAULTED)
    usd_plan.refresh_from_db()
    assert plan_payoff_quote(plan=usd_plan, on=date(2026, 3, 1)).amount == D("747.00")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(terms_=terms, steps_=steps, days_ago=st.integers(0, 400))
def test_the_quoted_amount_closes_the_plan_after_any_sequence_of_services(
    owner, merchant, today, ledger_assert, terms_, steps_, days_ago
):
    """Whatever happened to the plan (payments, pending ones cleared, refunds, voids, late fees, reschedules, in 2-,
    3- and 0-decimal currencies), the quote for any day a payment could carry is the remaining balance, its figures
    add up in the currency's unit, and that amount posted on that day completes the plan."""
    with transaction.atomic():
        plan = _plan(owner, CustomerFactory(merchant=merchant), today, terms_)
        fee_day = [0]
        for step in steps_:
            try:
                with transaction.atomic():
                    _step(owner, plan, today, step, fee_day)
            except ValidationError:
                pass
        plan.refresh_from_db()
        if not plan.is_open:
            event("plan closed before the quote")
            transaction.set_rollback(True)
            return
        on = max(today - timedelta(days=days_ago), plan.start_date)
        quote = plan_payoff_quote(plan=plan, on=on)
        unit = quantum(plan.merchant.currency)
        for figure in (quote.principal, quote.interest, quote.fees, quote.rebate, quote.amount):
            assert figure.as_tuple().exponent == unit.as_tuple().exponent
        assert quote.amount == quote.principal + quote.interest + quote.fees - quote.rebate == plan.remaining_balance
        assert Decimal("0") <= quote.interest_not_yet_due <= quote.interest
        event(f"interest not yet due: {quote.interest_not_yet_due > 0}")
        _assert_closes(plan, quote, actor=owner, ledger_assert=ledger_assert)
        transaction.set_rollback(True)


# The API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def client(api_client, clerk):
    api_client.force_authenticate(clerk)
    return api_client


def test_api_quote_is_exact_decimal_strings(client, usd_plan, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(f"{PLANS}{usd_plan.pk}/payoff/", {"date": "2026-04-15"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "date": "2026-04-15",
        "principal": "708.00",
        "interest": "24.00",
        "fees": "15.00",
        "rebate": "0.00",
        "amount": "747.00",
        "rule": "none",
        "rebate_max": "0.00",
        "interest_not_yet_due": "8.00",
    }


def test_api_quote_defaults_to_the_merchants_today(client, usd_plan):
    response = client.get(f"{PLANS}{usd_plan.pk}/payoff/")
    assert response.status_code == 200, response.content
    assert response.json()["date"] == "2026-03-01"
    assert response.json()["amount"] == "747.00"


def test_api_quote_in_kwd_and_jpy_keeps_the_currency_places(api_client, today):
    for currency, country, total, down, expected in (
        ("KWD", "KW", "1000.000", "100.000", "900.000"),
        ("JPY", "JP", "100000", "10000", "90000"),
    ):
        merchant = MerchantFactory(currency=currency, country=country)
        actor = UserFactory(merchant=merchant, role=Role.CLERK)
        plan = plan_make(
            actor=actor, customer=CustomerFactory(merchant=merchant), total_amount=D(total), down_payment=D(down)
        )
        api_client.force_authenticate(actor)
        body = api_client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "2026-03-01"}).json()
        zero = "0.000" if currency == "KWD" else "0"
        assert body == {
            "date": "2026-03-01",
            "principal": expected,
            "interest": zero,
            "fees": zero,
            "rebate": zero,
            "amount": expected,
            "rule": "none",
            "rebate_max": zero,
            "interest_not_yet_due": zero,
        }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ("tomorrow", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ("2031-03-02", "The date 2031-03-02 is out of range: give a date from 2021-03-01 to 2031-03-01."),
        ("2026-01-14", "The date 2026-01-14 is before plan P-000001 started (2026-01-15)."),
    ],
)
def test_api_bad_date_is_a_400_naming_date(client, usd_plan, value, message):
    response = client.get(f"{PLANS}{usd_plan.pk}/payoff/", {"date": value})
    assert response.status_code == 400, response.content
    assert response.json() == {"date": [message.replace("P-000001", usd_plan.reference)]}


def test_api_closed_plan_is_a_409_naming_status(client, owner, usd_plan):
    plan_cancel(actor=owner, plan=usd_plan, reason="Returned the goods.")
    response = client.get(f"{PLANS}{usd_plan.pk}/payoff/", {"date": "2026-03-01"})
    assert response.status_code == 409, response.content
    assert response.json() == {"status": [f"Plan {usd_plan.reference} is cancelled: it has no payoff quote."]}


def test_api_another_merchants_plan_is_a_404(api_client, usd_plan, other_owner):
    api_client.force_authenticate(other_owner)
    response = api_client.get(f"{PLANS}{usd_plan.pk}/payoff/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_api_needs_a_token(api_client, usd_plan):
    assert api_client.get(f"{PLANS}{usd_plan.pk}/payoff/").status_code == 401


def test_api_viewer_may_read_the_quote(api_client, viewer, usd_plan):
    api_client.force_authenticate(viewer)
    assert api_client.get(f"{PLANS}{usd_plan.pk}/payoff/").json()["amount"] == "747.00"


# The plan page ------------------------------------------------------------------------------------------------


FIGURES = ("principal", "interest", "fees", "rebate", "amount")


def _figures(page: str) -> dict[str, str]:
    """The quote's five figures as the panel shows them."""
    return {key: value for key, value in re.findall(r'data-payoff="(\w+)">([^<]*)<', page) if key in FIGURES}


def test_plan_page_shows_the_payoff_panel_for_today(client, settings, clerk, usd_plan):
    web = signed_in(client, settings, clerk)
    page = html(web.get(reverse("installments:plan-detail", args=[usd_plan.pk])))
    assert 'id="payoff"' in page
    assert 'name="date"' in page and 'value="2026-03-01"' in page
    assert f'hx-get="{reverse("installments:plan-payoff", args=[usd_plan.pk])}"' in page
    assert _figures(page) == {
        "principal": "$708.00",
        "interest": "$24.00",
        "fees": "$15.00",
        "rebate": "$0.00",
        "amount": "$747.00",
    }
    assert "The interest includes $24.00 not yet due on that date" in page


def test_plan_page_quote_for_a_date_without_javascript(client, settings, clerk, usd_plan):
    web = signed_in(client, settings, clerk)
    url = reverse("installments:plan-payoff", args=[usd_plan.pk])
    response = web.get(url, {"date": "2026-04-15"})
    detail = reverse("installments:plan-detail", args=[usd_plan.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{detail}?date=2026-04-15#payoff"
    page = html(web.get(f"{detail}?date=2026-04-15"))
    assert 'value="2026-04-15"' in page
    assert _figures(page)["amount"] == "$747.00"
    assert "The interest includes $8.00 not yet due on that date" in page


def test_payoff_partial_for_htmx(client, settings, clerk, usd_plan, django_assert_max_num_queries):
    web = signed_in(client, settings, clerk)
    url = reverse("installments:plan-payoff", args=[usd_plan.pk])
    with django_assert_max_num_queries(8):
        response = web.get(url, {"date": "2026-04-15"}, headers={"HX-Request": "true"})
    page = html(response)
    assert response.status_code == 200
    assert page.startswith('<div id="payoff-quote"')
    assert "<html" not in page
    assert _figures(page) == {
        "principal": "$708.00",
        "interest": "$24.00",
        "fees": "$15.00",
        "rebate": "$0.00",
        "amount": "$747.00",
    }
    assert "To pay on April 15, 2026" in page


def test_payoff_partial_names_a_bad_date(client, settings, clerk, usd_plan):
    web = signed_in(client, settings, clerk)
    url = reverse("installments:plan-payoff", args=[usd_plan.pk])
    page = html(web.get(url, {"date": "2026-01-14"}, headers={"HX-Request": "true"}))
    assert 'data-payoff="errors"' in page
    assert f"Pay on: The date 2026-01-14 is before plan {usd_plan.reference} started (2026-01-15)." in page
    page = html(web.get(url, {"date": "soon"}, headers={"HX-Request": "true"}))
    assert "Pay on: Enter a valid date." in page


def test_payoff_partial_in_arabic_and_spanish(client, settings, clerk, usd_plan):
    web = signed_in(client, settings, clerk)
    url = reverse("installments:plan-payoff", args=[usd_plan.pk])
    for language, title in (("ar", "المبلغ المطلوب للسداد في"), ("es", "A pagar el")):
        web.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = html(web.get(url, {"date": "2026-04-15"}, headers={"HX-Request": "true"}))
        assert title in page
        assert "747" in _figures(page)["amount"]


def test_closed_plan_page_has_no_payoff_panel(client, settings, owner, clerk, usd_plan):
    plan_cancel(actor=owner, plan=usd_plan, reason="Returned the goods.")
    web = signed_in(client, settings, clerk)
    page = html(web.get(reverse("installments:plan-detail", args=[usd_plan.pk])))
    assert 'id="payoff"' not in page
    partial = html(web.get(reverse("installments:plan-payoff", args=[usd_plan.pk]), headers={"HX-Request": "true"}))
    assert f"Plan {usd_plan.reference} is cancelled: it has no payoff quote." in partial


def test_another_merchants_payoff_partial_is_a_404(client, settings, other_owner, usd_plan):
    web = signed_in(client, settings, other_owner)
    response = web.get(reverse("installments:plan-payoff", args=[usd_plan.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 404
