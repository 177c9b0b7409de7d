"""The cost of credit: the APR by the actuarial method (Regulation Z, Appendix J) against hand-computed cases and
against numpy_financial's rate and irr of the same cash flows for random plans of every frequency and finance
charge method; the disclosure figures; the label as each country names it, in each language; the plan keeps the
APR it was signed with."""

import math
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from installments.disclosure import apr_compute, apr_label, payment_time, plan_disclosure, schedule_apr
from installments.schedule import schedule_build
from installments.schedule_terms import PERIODS_PER_YEAR
from installments.services import plan_reschedule
from installments.tests.factories import plan_make

D = Decimal
START = date(2026, 1, 31)  # a month end: the regular schedule is clamped (28 Feb, 31 Mar, 30 Apr...)


def build(method="none", rate=None, n=12, frequency="monthly", total="1000.00", down="0", first=None, currency="USD"):
    return schedule_build(
        currency=currency,
        total_amount=total,
        down_payment=down,
        frequency=frequency,
        start_date=START,
        number_of_installments=n,
        finance_charge_method=method,
        interest_rate=rate,
        first_due_date=first,
    )


def apr_of(schedule, frequency="monthly"):
    return schedule_apr(schedule=schedule, start_date=START, frequency=frequency)


# The cases the issue names ----------------------------------------------------------------------------------


def test_a_flat_12_percent_over_12_monthly_installments_on_1000_is_21_46():
    schedule = build("flat", "12", 12)
    assert (schedule.finance_charge, schedule.rows[0].amount, schedule.rows[-1].amount) == (
        D("120.00"),
        D("93.33"),
        D("93.37"),
    )
    assert apr_of(schedule) == D("21.46")
    assert str(apr_of(schedule)) == "21.46"


def test_a_plan_without_a_finance_charge_is_0_00():
    assert str(apr_of(build("none", None, 12))) == "0.00"
    assert str(apr_of(build("none", None, 7, "weekly", total="999.99", down="100"), "weekly")) == "0.00"


def test_a_declining_balance_plan_is_its_own_rate():
    assert apr_of(build("declining_balance", "12", 12)) == D("12.00")
    assert apr_of(build("declining_balance", "18.5", 26, "biweekly"), "biweekly") == D("18.50")
    assert apr_of(build("declining_balance", "7.25", 8, "quarterly"), "quarterly") == D("7.25")


def test_the_down_payment_is_not_financed():
    # 1200.00 with 200.00 down is the same credit as 1000.00 with none.
    assert apr_of(build("flat", "12", 12, total="1200.00", down="200.00")) == D("21.46")


# Odd first periods, by hand ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "start", "due", "expected"),
    [
        # Months counted back from the payment date, the days left over / 30.
        ("monthly", date(2026, 1, 1), date(2026, 1, 16), (0, D(15) / 30)),
        ("monthly", date(2026, 1, 1), date(2026, 2, 16), (1, D(15) / 30)),
        ("monthly", date(2026, 1, 10), date(2026, 4, 5), (2, D(26) / 30)),
        # From a month end, to month ends; the schedule's own clamped dates are whole periods.
        ("monthly", date(2026, 1, 31), date(2026, 2, 28), (1, D(0))),
        ("monthly", date(2026, 1, 31), date(2026, 4, 30), (3, D(0))),
        ("monthly", date(2026, 1, 30), date(2026, 2, 28), (1, D(0))),
        # Weeks and fortnights by days.
        ("weekly", date(2026, 1, 5), date(2026, 1, 15), (1, D(3) / 7)),
        ("biweekly", date(2026, 1, 5), date(2026, 1, 15), (0, D(10) / 14)),
        # Quarters: 30 days a month counted back plus the days left, / 90.
        ("quarterly", date(2026, 1, 1), date(2026, 3, 1), (0, D(60) / 90)),
        ("quarterly", date(2026, 1, 1), date(2026, 5, 16), (1, D(45) / 90)),
        ("quarterly", date(2026, 1, 1), date(2026, 4, 1), (1, D(0))),
    ],
)
def test_the_time_to_a_payment_is_whole_periods_and_a_fraction(frequency, start, due, expected):
    assert payment_time(start_date=start, due_date=due, frequency=frequency) == expected


@pytest.mark.parametrize(
    ("frequency", "start", "payments", "expected"),
    [
        # 1000 = 1010 / (1 + 15/30 i): i = 2% a month.
        ("monthly", date(2026, 1, 1), [(date(2026, 1, 16), D("1010.00"))], D("24.00")),
        # 1000 = 1015.05 / ((1 + 15/30 i)(1 + i)): i = 1% a month.
        ("monthly", date(2026, 1, 1), [(date(2026, 2, 16), D("1015.05"))], D("12.00")),
        # 1000 = 1020 / (1 + 60/90 i): i = 3% a quarter.
        ("quarterly", date(2026, 1, 1), [(date(2026, 3, 1), D("1020.00"))], D("12.00")),
        # 1000 = 1014 / (1 + 2/7 i): i = 4.9% a week.
        ("weekly", date(2026, 1, 5), [(date(2026, 1, 7), D("1014.00"))], D("254.80")),
        # Two payments a whole month apart after an odd 15 days: checked below by the present value itself.
        ("monthly", date(2026, 1, 1), [(date(2026, 2, 16), D("505.00")), (date(2026, 3, 16), D("510.00"))], None),
    ],
)
def test_an_odd_first_period_by_hand(frequency, start, payments, expected):
    apr = apr_compute(amount_financed=D("1000.00"), payments=payments, start_date=start, frequency=frequency)
    if expected is None:
        # The two-payment case: the present value at the APR found (per period) is the amount financed.
        i = apr / 1200
        value = sum(
            amount / ((1 + f * i) * (1 + i) ** t)
            for (due, amount), (t, f) in (
                (p, payment_time(start_date=start, due_date=p[0], frequency=frequency)) for p in payments
            )
        )
        assert abs(value - D("1000.00")) < D("0.01")
        assert apr == D("8.96")
    else:
        assert apr == expected


def test_a_first_due_date_later_than_one_period_lowers_the_rate_and_an_earlier_one_raises_it():
    regular = apr_of(build("flat", "12", 12))  # first due 28 Feb
    later = apr_of(build("flat", "12", 12, first=date(2026, 3, 15)))
    earlier = apr_of(build("flat", "12", 12, first=date(2026, 2, 10)))
    assert (earlier, regular, later) == (D("24.02"), D("21.46"), D("19.86"))


# Against numpy_financial --------------------------------------------------------------------------------------

plans = st.fixed_dictionaries(
    {
        "currency": st.sampled_from(["USD", "KWD", "JPY"]),
        "financed_units": st.integers(5_000, 5_000_000),
        "n": st.integers(1, 60),
        "frequency": st.sampled_from(["weekly", "biweekly", "monthly", "quarterly"]),
        "method": st.sampled_from(["none", "flat", "declining_balance"]),
        "rate": st.decimals(D("0.5"), D("60"), places=2),
    }
)


def _independent_apr(schedule, frequency, *, guess: float = 0.1) -> float:
    """numpy_financial on the same cash flows, annualised by the frequency, in percent: ``rate`` of the regular
    installment over n periods with the last one's difference as a final extra flow (every schedule is equal rows
    but the last); when few enough rows for polynomial roots to be exact, ``irr`` of the flows must agree."""
    financed = float(schedule.financed)
    amounts = [float(row.amount) for row in schedule.rows]
    assert len(set(amounts[:-1])) <= 1
    per_year = PERIODS_PER_YEAR[frequency]
    arguments = (len(amounts), amounts[0], -financed, amounts[-1] - amounts[0])
    # No finance charge: 0 (numpy's Newton divides by a zero slope there).
    per_period = 0.0 if not schedule.finance_charge else npf.rate(*arguments, guess=guess / per_year, maxiter=1000)
    if math.isnan(per_period):  # numpy's Newton wandered off: start it elsewhere
        per_period = npf.rate(*arguments, guess=1.0, maxiter=1000)
    if len(amounts) <= 24:
        assert abs(float(npf.irr([-financed, *amounts])) - per_period) * per_year * 100 <= 0.005
    return float(per_period) * per_year * 100


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans)
@example(
    plan={
        "currency": "USD",
        "financed_units": 100_000,
        "n": 12,
        "frequency": "monthly",
        "method": "flat",
        "rate": D("12"),
    }
)
@example(
    plan={"currency": "JPY", "financed_units": 99_999, "n": 1, "frequency": "weekly", "method": "flat", "rate": D("60")}
)
def test_the_apr_agrees_with_numpy_financial_to_a_hundredth_of_a_point(plan):
    unit = D(1).scaleb(-{"USD": 2, "KWD": 3, "JPY": 0}[plan["currency"]])
    method = plan["method"]
    try:
        schedule = schedule_build(
            currency=plan["currency"],
            total_amount=plan["financed_units"] * unit,
            frequency=plan["frequency"],
            start_date=START,
            number_of_installments=plan["n"],
            finance_charge_method=method,
            interest_rate=None if method == "none" else plan["rate"],
        )
    except ValidationError:
        assume(False)  # terms the engine refuses (a row of zero) have no schedule to disclose
    apr = apr_of(schedule, plan["frequency"])
    assert apr == apr.quantize(D("0.01"))
    if method == "none":
        assert apr == D("0.00")
    expected = _independent_apr(schedule, plan["frequency"], guess=float(plan["rate"]) / 100)
    assert abs(float(apr) - expected) <= 0.01, (apr, expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(
    n=st.integers(1, 600),
    frequency=st.sampled_from(["weekly", "biweekly", "monthly", "quarterly"]),
    method=st.sampled_from(["flat", "declining_balance"]),
    rate=st.decimals(D("1"), D("999"), places=0),
)
def test_long_and_costly_plans_are_solved_and_agree_with_numpy(n, frequency, method, rate):
    """Up to 600 installments and 999 % a year: the solver still converges and agrees with numpy."""
    try:
        schedule = build(method, rate, n, frequency, total="1000000.00")
    except ValidationError:
        assume(False)
    apr = apr_of(schedule, frequency)
    expected = _independent_apr(schedule, frequency, guess=float(rate) / 100)
    assert abs(float(apr) - expected) <= 0.01, (apr, expected)


# The label ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "language", "short", "spelled_out"),
    [
        ("US", "en", "APR", "Annual percentage rate (APR)"),
        ("", "en", "APR", "Annual percentage rate (APR)"),
        ("ES", "en", "TAE", "Annual equivalent rate (TAE)"),
        ("MX", "en", "CAT", "Total annual cost (CAT)"),
        ("AR", "en", "CFT", "Total financial cost (CFT)"),
        ("es", "es", "TAE", "Tasa anual equivalente (TAE)"),
        ("MX", "es", "CAT", "Costo anual total (CAT)"),
        ("AR", "es", "CFT", "Costo financiero total (CFT)"),
        ("US", "es", "TPA", "Tasa de porcentaje anual (TPA)"),
        ("US", "ar", "معدل النسبة السنوي", "معدل النسبة السنوي (APR)"),
        ("SA", "ar", "معدل النسبة السنوي", "معدل النسبة السنوي (APR)"),
        ("ES", "ar", "معدل النسبة السنوي", "معدل النسبة السنوي (TAE)"),
        ("MX", "ar", "معدل النسبة السنوي", "معدل النسبة السنوي (CAT)"),
        ("AR", "ar", "معدل النسبة السنوي", "معدل النسبة السنوي (CFT)"),
    ],
)
def test_the_rate_is_named_as_the_country_names_it_in_the_active_language(country, language, short, spelled_out):
    with translation.override(language):
        assert apr_label(country=country) == short
        assert apr_label(country=country, spelled_out=True) == spelled_out


# The plan keeps what it was signed with -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_discloses_its_cost_of_credit_and_keeps_the_apr_through_a_reschedule(owner, customer):
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=D("1200.00"),
        down_payment=D("200.00"),
        number_of_installments=12,
        start_date=date(2026, 1, 15),
        finance_charge_method="flat",
        interest_rate=D("12"),
    )
    assert plan.apr == D("21.46")
    cost = plan_disclosure(plan)
    assert (
        cost.cash_price,
        cost.down_payment,
        cost.amount_financed,
        cost.finance_charge,
        cost.total_of_payments,
        cost.credit_price,
        cost.apr,
        cost.apr_label,
    ) == (D("1200.00"), D("200.00"), D("1000.00"), D("120.00"), D("1120.00"), D("1320.00"), D("21.46"), "APR")
    # What the installments add up to is the total of payments.
    assert sum(row.amount_due for row in plan.installments.all()) == cost.total_of_payments

    plan_reschedule(
        actor=owner, plan=plan, number_of_installments=24, installment_frequency="monthly", start_date=date(2026, 2, 1)
    )
    plan.refresh_from_db()
    assert (plan.apr, plan_disclosure(plan).total_of_payments) == (D("21.46"), D("1120.00"))


@pytest.mark.django_db
def test_a_plan_from_before_the_apr_was_kept_reads_it_from_its_rows(owner, customer):
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=D("1000.00"),
        down_payment=D("0"),
        number_of_installments=12,
        start_date=START,
        finance_charge_method="declining_balance",
        interest_rate=D("12"),
    )
    type(plan).objects.filter(pk=plan.pk).update(apr=None)
    plan.refresh_from_db()
    assert plan.apr is None
    assert plan_disclosure(plan).apr == D("12.00")


@pytest.mark.django_db
def test_the_migration_gives_plans_from_before_their_apr_from_their_rows(owner, customer):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    backfill = import_module("installments.migrations.0005_plan_apr").plans_apr_backfill
    flat = plan_make(
        actor=owner,
        customer=customer,
        total_amount=D("1000.00"),
        down_payment=D("0"),
        number_of_installments=12,
        finance_charge_method="flat",
        interest_rate=D("12"),
    )
    plain = plan_make(actor=owner, customer=customer)
    type(flat).objects.update(apr=None)

    backfill(apps, type("SchemaEditor", (), {"connection": connection})())

    assert sorted(type(flat).objects.values_list("number", "apr")) == [
        (flat.number, D("21.46")),
        (plain.number, D("0.00")),
    ]
