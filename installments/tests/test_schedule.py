"""The schedule engine: exact values worked out by hand, every validation rule, and properties for any input.

The engine is pure (no database), so these tests need no database marker.
"""

from __future__ import annotations

import calendar
import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from installments.schedule import (
    FREQUENCY_FIELD,
    MAX_INSTALLMENTS,
    PERIODS_PER_YEAR,
    FinanceChargeMethod,
    Frequency,
    Schedule,
    ScheduleRow,
    due_date_for,
    schedule_build,
    schedule_split,
)
from installments.schedule_terms import MAX_INTEREST_RATE

D = Decimal


def build(**kwargs) -> Schedule:
    """schedule_build with a USD monthly plan starting 15 Jan 2024 unless told otherwise."""
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("frequency", Frequency.MONTHLY)
    kwargs.setdefault("start_date", date(2024, 1, 15))
    return schedule_build(**kwargs)


def build_errors(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        build(**kwargs)
    return info.value.message_dict


def split_errors(**kwargs) -> dict[str, list[str]]:
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("frequency", Frequency.MONTHLY)
    kwargs.setdefault("start_date", date(2024, 1, 15))
    with pytest.raises(ValidationError) as info:
        schedule_split(**kwargs)
    return info.value.message_dict


def column(schedule: Schedule | tuple[ScheduleRow, ...], name: str) -> list:
    rows = schedule.rows if isinstance(schedule, Schedule) else schedule
    return [getattr(row, name) for row in rows]


# Amounts ---------------------------------------------------------------------------------------------------


def test_plain_monthly_plan():
    schedule = build(total_amount=D("1000.00"), down_payment=D("200.00"), number_of_installments=4)

    assert schedule.currency == "USD"
    assert schedule.total_amount == D("1000.00")
    assert schedule.down_payment == D("200.00")
    assert schedule.financed == D("800.00")
    assert schedule.finance_charge == D("0.00")
    assert schedule.total_payable == D("1000.00")
    assert schedule.installment_amount == D("200.00")
    assert schedule.number_of_installments == 4
    assert column(schedule, "number") == [1, 2, 3, 4]
    assert column(schedule, "amount") == [D("200.00")] * 4
    assert column(schedule, "principal") == [D("200.00")] * 4
    assert column(schedule, "interest") == [D("0.00")] * 4
    assert column(schedule, "due_date") == [date(2024, 2, 15), date(2024, 3, 15), date(2024, 4, 15), date(2024, 5, 15)]
    assert schedule.last_due_date == date(2024, 5, 15)


def test_amounts_as_int_or_str_are_normalised_to_the_unit():
    schedule = build(total_amount=1000, down_payment="200", number_of_installments=4)

    assert str(schedule.total_amount) == "1000.00"
    assert str(schedule.down_payment) == "200.00"
    assert [str(amount) for amount in column(schedule, "amount")] == ["200.00"] * 4


def test_equal_split_remainder_goes_to_the_last_row():
    schedule = build(total_amount=D("100.00"), number_of_installments=3)

    assert column(schedule, "amount") == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(column(schedule, "amount")) == D("100.00")
    assert schedule.installment_amount == D("33.33")


def test_flat_charge_is_spread_like_the_amounts():
    # financed 1000.00 at 10% a year flat over 7 months: charge = 1000 x 0.10 x 7/12 = 58.333... -> 58.33.
    # owed 1058.33 / 7 = 151.19 exactly. Interest 58.33 / 7 = 8.332... -> 8.33 x 6, last 58.33 - 49.98 = 8.35.
    # Principal = amount - interest: 142.86 x 6, last 151.19 - 8.35 = 142.84 (6 x 142.86 + 142.84 = 1000.00).
    schedule = build(
        total_amount=D("1000.00"),
        number_of_installments=7,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("10"),
    )

    assert schedule.finance_charge == D("58.33")
    assert schedule.total_payable == D("1058.33")
    assert column(schedule, "amount") == [D("151.19")] * 7
    assert column(schedule, "interest") == [D("8.33")] * 6 + [D("8.35")]
    assert column(schedule, "principal") == [D("142.86")] * 6 + [D("142.84")]


def test_flat_charge_rounds_half_up():
    # 100.00 x 1.5% x 1/12 = 0.125 exactly: half up gives 0.13 (half to even would give 0.12).
    schedule = build(
        total_amount=D("100.00"),
        number_of_installments=1,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("1.5"),
    )

    assert schedule.finance_charge == D("0.13")
    assert schedule.rows[0].amount == D("100.13")
    assert schedule.rows[0].interest == D("0.13")
    assert schedule.rows[0].principal == D("100.00")


def test_flat_with_down_payment_and_weekly_periods():
    # financed 1300.00 - 300.00 = 1000.00 at 26% a year flat over 10 weeks: 1000 x 0.26 x 10/52 = 50.00.
    schedule = build(
        total_amount=D("1300.00"),
        down_payment=D("300.00"),
        number_of_installments=10,
        frequency=Frequency.WEEKLY,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("26"),
    )

    assert schedule.finance_charge == D("50.00")
    assert schedule.total_payable == D("1350.00")
    assert column(schedule, "amount") == [D("105.00")] * 10
    assert column(schedule, "interest") == [D("5.00")] * 10
    assert column(schedule, "principal") == [D("100.00")] * 10


def test_declining_balance_table_by_hand():
    # financed 1000.00 at 12% a year monthly over 12: r = 0.01,
    # payment = 1000 x 0.01 / (1 - 1.01^-12) = 88.8487886... -> 88.85.
    # row  interest = round(balance x 0.01)  principal = 88.85 - interest  balance after
    #  1   10.00                             78.85                       921.15
    #  2    9.2115 -> 9.21                   79.64                       841.51
    #  3    8.4151 -> 8.42                   80.43                       761.08
    #  4    7.6108 -> 7.61                   81.24                       679.84
    #  5    6.7984 -> 6.80                   82.05                       597.79
    #  6    5.9779 -> 5.98                   82.87                       514.92
    #  7    5.1492 -> 5.15                   83.70                       431.22
    #  8    4.3122 -> 4.31                   84.54                       346.68
    #  9    3.4668 -> 3.47                   85.38                       261.30
    # 10    2.6130 -> 2.61                   86.24                       175.06
    # 11    1.7506 -> 1.75                   87.10                        87.96
    # 12    0.8796 -> 0.88; principal = the remaining 87.96; amount 88.84.
    # finance charge = sum of the interest = 66.19; 11 x 88.85 + 88.84 = 1066.19.
    schedule = build(
        total_amount=D("1000.00"),
        number_of_installments=12,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("12"),
    )

    assert schedule.installment_amount == D("88.85")
    assert column(schedule, "amount") == [D("88.85")] * 11 + [D("88.84")]
    assert column(schedule, "interest") == [
        D(x) for x in ("10.00", "9.21", "8.42", "7.61", "6.80", "5.98", "5.15", "4.31", "3.47", "2.61", "1.75", "0.88")
    ]
    assert column(schedule, "principal") == [
        D(x)
        for x in (
            "78.85",
            "79.64",
            "80.43",
            "81.24",
            "82.05",
            "82.87",
            "83.70",
            "84.54",
            "85.38",
            "86.24",
            "87.10",
            "87.96",
        )
    ]
    assert schedule.finance_charge == D("66.19")
    assert schedule.total_payable == D("1066.19")


def test_declining_payment_rounds_the_exact_value_half_up():
    # One installment of 100.00 at 7.5% a year monthly: r = 0.00625, payment = 100 x 1.00625 = 100.625 exactly,
    # so half up gives 100.63. (A 50-digit r = 0.000625 rounded to 50 digits is not exact and gives 100.62.)
    schedule = build(
        total_amount=D("100.00"),
        number_of_installments=1,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("7.5"),
    )

    assert schedule.rows[0].amount == D("100.63")
    assert schedule.rows[0].interest == D("0.63")
    assert schedule.rows[0].principal == D("100.00")
    assert schedule.installment_amount == D("100.63")


def test_declining_quarterly():
    # 2000.00 at 8% a year quarterly over 4: r = 0.02, payment = 2000 x 0.02 / (1 - 1.02^-4) = 525.2475... -> 525.25.
    # 1: interest 40.00, principal 485.25, balance 1514.75; 2: 30.295 -> 30.30, 494.95, 1019.80;
    # 3: 20.396 -> 20.40, 504.85, 514.95; 4: 10.299 -> 10.30, principal 514.95, amount 525.25.
    schedule = build(
        total_amount=D("2000.00"),
        number_of_installments=4,
        frequency=Frequency.QUARTERLY,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("8"),
    )

    assert column(schedule, "amount") == [D("525.25")] * 4
    assert column(schedule, "interest") == [D("40.00"), D("30.30"), D("20.40"), D("10.30")]
    assert column(schedule, "principal") == [D("485.25"), D("494.95"), D("504.85"), D("514.95")]
    assert schedule.finance_charge == D("101.00")


def test_kwd_uses_three_decimals():
    schedule = build(currency="KWD", total_amount=D("100.000"), number_of_installments=3)

    assert column(schedule, "amount") == [D("33.333"), D("33.333"), D("33.334")]
    assert str(schedule.installment_amount) == "33.333"


def test_kwd_declining_balance():
    # 500.000 KWD at 6% a year monthly over 2: r = 0.005, payment = 500 x 0.005 / (1 - 1.005^-2)
    # = 2.5250625 / 0.010025 = 251.87656... -> 251.877; row 1 interest 2.500, principal 249.377, balance 250.623;
    # row 2 interest 250.623 x 0.005 = 1.253115 -> 1.253, principal 250.623, amount 251.876.
    schedule = build(
        currency="KWD",
        total_amount=D("500.000"),
        number_of_installments=2,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("6"),
    )

    assert column(schedule, "amount") == [D("251.877"), D("251.876")]
    assert column(schedule, "interest") == [D("2.500"), D("1.253")]
    assert column(schedule, "principal") == [D("249.377"), D("250.623")]
    assert schedule.finance_charge == D("3.753")


def test_jpy_has_no_decimals():
    schedule = build(currency="JPY", total_amount=D("10000"), down_payment=D("1000"), number_of_installments=4)

    assert column(schedule, "amount") == [D("2250")] * 4
    schedule = build(currency="JPY", total_amount=10000, number_of_installments=3)
    assert column(schedule, "amount") == [D("3333"), D("3333"), D("3334")]
    assert str(schedule.installment_amount) == "3333"


def test_jpy_flat():
    # 100000 yen at 15% flat over 12 months: charge = 100000 x 0.15 = 15000; owed 115000 / 12 = 9583.33
    # -> 9583 x 11, last 115000 - 105413 = 9587; interest 15000 / 12 = 1250 each.
    schedule = build(
        currency="JPY",
        total_amount=100000,
        number_of_installments=12,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=15,
    )

    assert schedule.finance_charge == D("15000")
    assert column(schedule, "amount") == [D("9583")] * 11 + [D("9587")]
    assert column(schedule, "interest") == [D("1250")] * 12
    assert column(schedule, "principal") == [D("8333")] * 11 + [D("8337")]


# Installment amount given ----------------------------------------------------------------------------------


def test_installment_amount_alone_finds_the_number():
    schedule = build(total_amount=D("1000.00"), down_payment=D("200.00"), installment_amount=D("200.00"))

    assert schedule.number_of_installments == 4
    assert column(schedule, "amount") == [D("200.00")] * 4


def test_installment_amount_and_number_that_agree():
    schedule = build(
        total_amount=D("1000.00"),
        down_payment=D("200.00"),
        installment_amount=D("200.00"),
        number_of_installments=4,
    )

    assert schedule.number_of_installments == 4


def test_installment_amount_and_number_that_disagree():
    errors = build_errors(
        total_amount=D("1000.00"),
        down_payment=D("200.00"),
        installment_amount=D("250.00"),
        number_of_installments=4,
    )

    assert errors == {
        "installment_amount": [
            "Down payment 200.00 + 4 × 250.00 = 1200.00 does not equal the total 1000.00. "
            "4 installments of 200.00 would."
        ]
    }


def test_installment_amount_for_an_uneven_split_points_to_the_number_alone():
    errors = build_errors(total_amount=D("100.00"), installment_amount=D("33.33"), number_of_installments=3)

    assert errors == {
        "installment_amount": [
            "Down payment 0.00 + 3 × 33.33 = 99.99 does not equal the total 100.00. "
            "For 3 installments leave the installment amount empty: 2 of 33.33 and a last one of 33.34."
        ]
    }


def test_installment_amount_disagreeing_with_a_flat_plan_names_the_charge():
    # 1000.00 at 12% flat over 10 months: charge 100.00, owed 1100.00.
    errors = build_errors(
        total_amount=D("1000.00"),
        installment_amount=D("100.00"),
        number_of_installments=10,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("12"),
    )

    assert errors == {
        "installment_amount": [
            "Down payment 0.00 + 10 × 100.00 = 1000.00 does not equal the total 1000.00 plus the finance charge "
            "100.00 (1100.00). 10 installments of 110.00 would."
        ]
    }


def test_installment_amount_not_a_whole_number_suggests_both_neighbours():
    errors = build_errors(total_amount=D("1050.00"), installment_amount=D("200.00"))

    assert errors == {
        "installment_amount": [
            "1050.00 is not a whole number of installments of 200.00: try 5 installments of 210.00 or 6 of 175.00."
        ]
    }


def test_installment_amount_larger_than_the_total_suggests_one_installment():
    errors = build_errors(total_amount=D("150.00"), installment_amount=D("200.00"))

    assert errors == {
        "installment_amount": ["150.00 is not a whole number of installments of 200.00: try 1 installment of 150.00."]
    }


@pytest.mark.parametrize(
    ("language", "total", "expected"),
    [
        (
            "es",
            "1050.00",
            "1050.00 no es un número entero de cuotas de 200.00: pruebe 5 cuotas de 210.00 o 6 de 175.00.",
        ),
        ("es", "150.00", "150.00 no es un número entero de cuotas de 200.00: pruebe 1 cuota de 150.00."),
        (
            "ar",
            "1050.00",
            "1050.00 لا يساوي عددًا صحيحًا من الأقساط بقيمة 200.00: جرّب 5 أقساط بقيمة 210.00 أو 6 بقيمة 175.00.",
        ),
        ("ar", "150.00", "150.00 لا يساوي عددًا صحيحًا من الأقساط بقيمة 200.00: جرّب 1 قسط بقيمة 150.00."),
    ],
)
def test_the_suggested_installments_are_worded_in_the_clerks_language(language, total, expected):
    with translation.override(language):
        errors = build_errors(total_amount=D(total), installment_amount=D("200.00"))

    assert errors == {"installment_amount": [expected]}


def test_installment_amount_needing_more_than_the_maximum():
    errors = build_errors(total_amount=D("1000.00"), installment_amount=D("1.00"))

    assert errors == {
        "installment_amount": [
            "Installments of 1.00 do not pay off 1000.00 financed within 600 installments, the most allowed: "
            "try 600 installments (599 of 1.66 and a last one of 5.66)."
        ]
    }


def test_flat_installment_amount_alone_finds_the_number():
    # 1000.00 at 12% flat monthly: owed(n) = 1000 + 10n; 110.00 x n = 1000 + 10n gives n = 10.
    schedule = build(
        total_amount=D("1000.00"),
        installment_amount=D("110.00"),
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("12"),
    )

    assert schedule.number_of_installments == 10
    assert schedule.finance_charge == D("100.00")
    assert column(schedule, "amount") == [D("110.00")] * 10
    assert column(schedule, "interest") == [D("10.00")] * 10


def test_flat_installment_amount_with_no_whole_number():
    errors = build_errors(
        total_amount=D("1000.00"),
        installment_amount=D("90.00"),
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("12"),
    )

    assert errors == {
        "installment_amount": [
            "No number of installments of 90.00 adds up to 1000.00 financed plus its flat finance charge at 12% "
            "a year: try 12 installments (11 of 93.33 and a last one of 93.37) or 13 (12 of 86.92 and a last "
            "one of 86.96)."
        ]
    }


def test_declining_installment_amount_alone_finds_the_number():
    schedule = build(
        total_amount=D("1000.00"),
        installment_amount=D("88.85"),
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("12"),
    )

    assert schedule.number_of_installments == 12
    assert schedule.finance_charge == D("66.19")


def test_declining_installment_amount_must_be_the_annuity_payment():
    errors = build_errors(
        total_amount=D("1000.00"),
        installment_amount=D("88.84"),
        number_of_installments=12,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("12"),
    )

    assert errors == {
        "installment_amount": [
            "The installment 88.84 does not match the payment 88.85 for 1000.00 financed at 12% a year over 12 "
            "monthly installments."
        ]
    }


def test_declining_installment_amount_with_no_whole_number():
    errors = build_errors(
        total_amount=D("1000.00"),
        installment_amount=D("90.00"),
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("12"),
    )

    assert errors == {
        "installment_amount": [
            "90.00 is not the installment for 1000.00 financed at 12% a year for any number of monthly "
            "installments from 1 to 600: try 11 installments of 96.45 or 12 of 88.85."
        ]
    }


def test_declining_installment_amount_below_the_interest_never_pays_off():
    # 1000.00 at 12% monthly accrues 10.00 a month: 9.00 a month never repays it.
    errors = build_errors(
        total_amount=D("1000.00"),
        installment_amount=D("9.00"),
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("12"),
    )

    assert list(errors) == ["installment_amount"]
    assert errors["installment_amount"][0].startswith(
        "Installments of 9.00 do not pay off 1000.00 financed with its finance charge within 600 installments"
    )


# Due dates -------------------------------------------------------------------------------------------------


def dates_of(**kwargs) -> list[date]:
    kwargs.setdefault("total_amount", D("1000.00"))
    return column(build(**kwargs), "due_date")


def test_weekly_and_biweekly_dates():
    start = date(2024, 12, 20)
    assert dates_of(frequency=Frequency.WEEKLY, start_date=start, number_of_installments=3) == [
        date(2024, 12, 27),
        date(2025, 1, 3),
        date(2025, 1, 10),
    ]
    assert dates_of(frequency=Frequency.BIWEEKLY, start_date=start, number_of_installments=3) == [
        date(2025, 1, 3),
        date(2025, 1, 17),
        date(2025, 1, 31),
    ]


def test_quarterly_dates():
    assert dates_of(frequency=Frequency.QUARTERLY, start_date=date(2024, 1, 15), number_of_installments=4) == [
        date(2024, 4, 15),
        date(2024, 7, 15),
        date(2024, 10, 15),
        date(2025, 1, 15),
    ]


def test_start_on_31_january_of_a_leap_year():
    assert dates_of(start_date=date(2024, 1, 31), number_of_installments=4) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_start_on_31_january_of_a_common_year():
    assert dates_of(start_date=date(2023, 1, 31), number_of_installments=4) == [
        date(2023, 2, 28),
        date(2023, 3, 31),
        date(2023, 4, 30),
        date(2023, 5, 31),
    ]


def test_start_on_29_february():
    due = dates_of(start_date=date(2024, 2, 29), number_of_installments=12)
    assert due[:2] == [date(2024, 3, 29), date(2024, 4, 29)]
    assert due[-1] == date(2025, 2, 28)
    assert dates_of(start_date=date(2024, 2, 29), frequency=Frequency.QUARTERLY, number_of_installments=4) == [
        date(2024, 5, 29),
        date(2024, 8, 29),
        date(2024, 11, 29),
        date(2025, 2, 28),
    ]


def test_start_on_30_november_crosses_the_year():
    assert dates_of(start_date=date(2024, 11, 30), number_of_installments=4) == [
        date(2024, 12, 30),
        date(2025, 1, 30),
        date(2025, 2, 28),
        date(2025, 3, 30),
    ]


def test_start_on_31_december_quarterly():
    assert dates_of(start_date=date(2023, 12, 31), frequency=Frequency.QUARTERLY, number_of_installments=5) == [
        date(2024, 3, 31),
        date(2024, 6, 30),
        date(2024, 9, 30),
        date(2024, 12, 31),
        date(2025, 3, 31),
    ]


def test_first_due_date_anchors_the_later_dates():
    assert dates_of(start_date=date(2024, 1, 10), first_due_date=date(2024, 1, 31), number_of_installments=3) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
    ]
    assert dates_of(
        start_date=date(2024, 1, 10),
        first_due_date=date(2024, 1, 12),
        frequency=Frequency.WEEKLY,
        number_of_installments=3,
    ) == [date(2024, 1, 12), date(2024, 1, 19), date(2024, 1, 26)]


def test_first_due_date_must_be_after_the_start():
    for first in (date(2024, 1, 10), date(2024, 1, 9)):
        errors = build_errors(
            total_amount=D("100.00"),
            number_of_installments=2,
            start_date=date(2024, 1, 10),
            first_due_date=first,
        )
        assert errors == {"first_due_date": [f"The first due date {first} must be after the start date 2024-01-10."]}


def test_due_date_must_be_the_last_due_date():
    schedule = build(
        total_amount=D("100.00"), number_of_installments=4, start_date=date(2024, 1, 31), due_date=date(2024, 5, 31)
    )
    assert schedule.last_due_date == date(2024, 5, 31)

    errors = build_errors(
        total_amount=D("100.00"), number_of_installments=4, start_date=date(2024, 1, 31), due_date=date(2024, 5, 30)
    )
    assert errors == {
        "due_date": [
            "The due date 2024-05-30 is not the last installment's due date: with 4 monthly installments it is "
            "2024-05-31."
        ]
    }


def test_due_date_for():
    assert due_date_for(date(2024, 1, 31), Frequency.MONTHLY, 0) == date(2024, 1, 31)
    assert due_date_for(date(2024, 1, 31), Frequency.MONTHLY, 1) == date(2024, 2, 29)
    assert due_date_for(date(2024, 1, 31), Frequency.MONTHLY, 2) == date(2024, 3, 31)
    assert due_date_for(date(2024, 1, 31), Frequency.MONTHLY, 13) == date(2025, 2, 28)
    assert due_date_for(date(2024, 1, 31), Frequency.QUARTERLY, 1) == date(2024, 4, 30)
    assert due_date_for(date(2024, 1, 31), Frequency.WEEKLY, 5) == date(2024, 3, 6)
    assert due_date_for(date(2024, 1, 31), Frequency.BIWEEKLY, 2) == date(2024, 2, 28)
    assert due_date_for(date(2024, 1, 31), "monthly", 1) == date(2024, 2, 29)
    with pytest.raises(ValidationError) as info:
        due_date_for(date(2024, 1, 31), "daily", 1)
    assert list(info.value.message_dict) == [FREQUENCY_FIELD]


def test_dates_past_the_calendar_are_refused():
    errors = build_errors(total_amount=D("100.00"), number_of_installments=24, start_date=date(9998, 6, 1))

    assert errors == {"start_date": ["24 monthly installments from 9998-06-01 run past the year 9999."]}


# Validation ------------------------------------------------------------------------------------------------


def test_total_amount_must_be_positive():
    for total in (D("0"), D("-10.00")):
        errors = build_errors(total_amount=total, number_of_installments=2)
        assert list(errors) == ["total_amount"]
        assert str(total.quantize(D("0.01"))) in errors["total_amount"][0]


def test_down_payment_cannot_be_negative():
    errors = build_errors(total_amount=D("100.00"), down_payment=D("-1.00"), number_of_installments=2)

    assert errors == {"down_payment": ["The down payment cannot be negative (-1.00)."]}


def test_down_payment_equal_to_the_total_leaves_nothing_to_finance():
    errors = build_errors(total_amount=D("100.00"), down_payment=D("100.00"), number_of_installments=2)

    assert errors == {
        "down_payment": ["The down payment 100.00 is the whole total 100.00: nothing is left to finance."]
    }


def test_down_payment_above_the_total():
    errors = build_errors(total_amount=D("100.00"), down_payment=D("150.00"), number_of_installments=2)

    assert errors == {"down_payment": ["The down payment 150.00 is more than the total 100.00."]}


def test_down_payment_none_means_zero():
    assert build(total_amount=D("100.00"), down_payment=None, number_of_installments=2).down_payment == D("0.00")


@pytest.mark.parametrize("n", [0, -1, MAX_INSTALLMENTS + 1])
def test_number_of_installments_out_of_range(n):
    errors = build_errors(total_amount=D("100.00"), number_of_installments=n)

    assert errors == {
        "number_of_installments": [f"The number of installments must be from 1 to {MAX_INSTALLMENTS}, not {n}."]
    }


@pytest.mark.parametrize("n", ["3", True, D("3")])
def test_number_of_installments_must_be_an_int(n):
    errors = build_errors(total_amount=D("100.00"), number_of_installments=n)

    assert list(errors) == ["number_of_installments"]


def test_maximum_number_of_installments_is_allowed():
    schedule = build(total_amount=D("6000.00"), number_of_installments=MAX_INSTALLMENTS)

    assert schedule.number_of_installments == MAX_INSTALLMENTS
    assert schedule.last_due_date == date(2074, 1, 15)


def test_number_or_amount_is_required():
    errors = build_errors(total_amount=D("100.00"))

    assert errors == {"number_of_installments": ["Give the number of installments or the installment amount."]}


@pytest.mark.parametrize("amount", [D("0"), D("-5.00")])
def test_installment_amount_must_be_positive(amount):
    errors = build_errors(total_amount=D("100.00"), installment_amount=amount)

    assert list(errors) == ["installment_amount"]
    assert "must be more than zero" in errors["installment_amount"][0]


def test_more_decimals_than_the_currency_allows():
    errors = build_errors(
        currency="KWD",
        total_amount=D("10.0005"),
        down_payment="1.0001",
        installment_amount="2.0001",
        number_of_installments=3,
    )
    assert errors == {
        "total_amount": ["10.0005 has more decimal places than KWD allows (3)."],
        "down_payment": ["1.0001 has more decimal places than KWD allows (3)."],
        "installment_amount": ["2.0001 has more decimal places than KWD allows (3)."],
    }

    assert build_errors(total_amount=D("10.005"), number_of_installments=1) == {
        "total_amount": ["10.005 has more decimal places than USD allows (2)."]
    }
    assert build_errors(currency="JPY", total_amount="1000.5", number_of_installments=1) == {
        "total_amount": ["1000.5 has more decimal places than JPY allows (0)."]
    }
    # Trailing zeros are not extra precision.
    assert build(currency="JPY", total_amount=D("1000.00"), number_of_installments=1).total_amount == D("1000")


def test_amounts_that_cannot_be_recorded_are_refused():
    errors = build_errors(total_amount=D("1E+30"), number_of_installments=1)

    assert errors == {"total_amount": ["1E+30 is more than the largest amount that can be recorded (99999999999.999)."]}


def test_total_payable_that_cannot_be_recorded_is_refused():
    errors = build_errors(
        total_amount=D("99999999999.00"),
        number_of_installments=600,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("999"),
    )

    assert list(errors) == ["interest_rate"]
    assert "more than the largest amount that can be recorded" in errors["interest_rate"][0]


def test_not_a_number_is_a_field_error():
    errors = build_errors(total_amount="ten", down_payment="1,000", number_of_installments=1, interest_rate="x")

    assert sorted(errors) == ["down_payment", "interest_rate", "total_amount"]


def test_floats_are_refused():
    with pytest.raises(TypeError):
        build(total_amount=100.0, number_of_installments=1)
    with pytest.raises(TypeError):
        build(
            total_amount=D("100.00"),
            number_of_installments=1,
            finance_charge_method=FinanceChargeMethod.FLAT,
            interest_rate=12.5,
        )


def test_unknown_frequency_and_method():
    errors = build_errors(
        total_amount=D("100.00"), number_of_installments=1, frequency="daily", finance_charge_method="compound"
    )

    assert errors == {
        FREQUENCY_FIELD: ["'daily' is not a frequency: choose one of weekly, biweekly, monthly, quarterly."],
        "finance_charge_method": [
            "'compound' is not a finance charge method: choose one of none, flat, declining_balance."
        ],
    }


def test_unknown_currency():
    errors = build_errors(currency="XYZ", total_amount=D("100.00"), number_of_installments=1)

    assert errors == {"currency": ["'XYZ' is not an ISO 4217 currency code."]}


def test_no_finance_charge_with_a_rate_is_refused():
    errors = build_errors(total_amount=D("100.00"), number_of_installments=1, interest_rate=D("5"))
    assert errors == {
        "interest_rate": [
            "An interest rate of 5% needs a finance charge method (flat or declining balance); with no finance "
            "charge leave the rate empty."
        ]
    }

    # A zero rate is no rate.
    assert build(total_amount=D("100.00"), number_of_installments=1, interest_rate=D("0")).finance_charge == 0


@pytest.mark.parametrize("method", [FinanceChargeMethod.FLAT, FinanceChargeMethod.DECLINING_BALANCE])
@pytest.mark.parametrize("rate", [None, D("0"), D("-1"), MAX_INTEREST_RATE + D("0.0001")])
def test_a_finance_charge_needs_a_rate_in_range(method, rate):
    errors = build_errors(
        total_amount=D("100.00"), number_of_installments=2, finance_charge_method=method, interest_rate=rate
    )

    assert list(errors) == ["interest_rate"]
    if rate is not None:
        assert f"not {rate}%" in errors["interest_rate"][0]


def test_the_highest_rate_is_allowed():
    schedule = build(
        total_amount=D("1000.00"),
        number_of_installments=2,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=MAX_INTEREST_RATE,
    )
    # 1000 x 9.999999 x 2/12 = 1666.6665 -> 1666.67
    assert schedule.finance_charge == D("1666.67")


def test_a_rate_with_more_than_four_decimals_is_refused():
    errors = build_errors(
        total_amount=D("100.00"),
        number_of_installments=2,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate="12.00001",
    )

    assert errors == {"interest_rate": ["12.00001% has more than 4 decimal places."]}


def test_rows_of_zero_are_refused():
    errors = build_errors(total_amount=D("0.03"), number_of_installments=4)
    assert errors == {
        "number_of_installments": [
            "The financed amount 0.03 is too small for 4 installments of at least 0.01 each: use at most 3."
        ]
    }

    errors = build_errors(
        total_amount=D("0.01"),
        number_of_installments=2,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("1"),
    )
    assert list(errors) == ["number_of_installments"]


def test_declining_rate_too_high_for_the_term():
    # 999% a year monthly over 360: the interest (832.50 a month) takes the whole payment.
    errors = build_errors(
        total_amount=D("1000.00"),
        number_of_installments=360,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("999"),
    )

    assert errors == {
        "interest_rate": [
            "At 999% a year over 360 monthly installments, installment 1's interest 832.50 takes the whole "
            "payment 832.50 and repays nothing of the 1000.00 owed: lower the rate or the number of installments."
        ]
    }


def test_declining_rounding_that_pays_off_early_is_refused():
    # 3.00 at 1% over 360 months is 0.01 a month, which repays 3.00 by installment 300.
    errors = build_errors(
        total_amount=D("3.00"),
        number_of_installments=360,
        finance_charge_method=FinanceChargeMethod.DECLINING_BALANCE,
        interest_rate=D("1"),
    )

    assert errors == {
        "number_of_installments": [
            "3.00 financed at 1% a year is paid off by installment 300 when every installment is rounded to "
            "0.01, leaving nothing for the last 60: use fewer installments."
        ]
    }


def test_flat_row_with_a_negative_principal_is_refused():
    # 361.00 at 7.77% flat over 360 months: charge 841.49, amounts 3.34 (last 4.09), interest 2.33 (last 2.82);
    # 359 x (3.34 - 2.33) = 362.59 > 361.00, so the last principal would be 361.00 - 362.59 = -1.59.
    errors = build_errors(
        total_amount=D("361.00"),
        number_of_installments=360,
        finance_charge_method=FinanceChargeMethod.FLAT,
        interest_rate=D("7.77"),
    )

    assert errors == {
        "number_of_installments": [
            "361.00 financed is too little to spread over 360 installments with a finance charge of 841.49: "
            "installment 360 would have a negative principal. Use fewer installments."
        ]
    }


def test_independent_errors_are_reported_together():
    errors = build_errors(
        currency="USD",
        total_amount=D("-1.00"),
        down_payment=D("-2.00"),
        installment_amount=D("0.001"),
        number_of_installments=0,
        frequency="yearly",
        finance_charge_method="none",
        interest_rate=D("3"),
        start_date=date(2024, 1, 10),
        first_due_date=date(2024, 1, 1),
    )

    assert sorted(errors) == sorted(
        [
            "total_amount",
            "down_payment",
            "installment_amount",
            "number_of_installments",
            FREQUENCY_FIELD,
            "interest_rate",
            "first_due_date",
        ]
    )


def test_due_date_and_amount_mismatch_are_reported_together():
    errors = build_errors(
        total_amount=D("100.00"),
        installment_amount=D("30.00"),
        number_of_installments=3,
        due_date=date(2024, 1, 1),
    )

    assert sorted(errors) == ["due_date", "installment_amount"]


def test_start_date_must_be_a_date():
    errors = build_errors(total_amount=D("100.00"), number_of_installments=1, start_date=datetime(2024, 1, 1))

    assert list(errors) == ["start_date"]


# schedule_split --------------------------------------------------------------------------------------------


def test_split_spreads_principal_and_interest():
    rows = schedule_split(
        currency="USD",
        principal=D("100.00"),
        interest=D("10.00"),
        number_of_installments=3,
        frequency=Frequency.MONTHLY,
        start_date=date(2024, 1, 31),
    )

    assert column(rows, "number") == [1, 2, 3]
    assert column(rows, "amount") == [D("36.66"), D("36.66"), D("36.68")]
    assert column(rows, "interest") == [D("3.33"), D("3.33"), D("3.34")]
    assert column(rows, "principal") == [D("33.33"), D("33.33"), D("33.34")]
    assert column(rows, "due_date") == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]


def test_split_with_first_due_date_and_only_interest_left():
    rows = schedule_split(
        currency="JPY",
        principal=D("0"),
        interest=D("100"),
        number_of_installments=3,
        frequency=Frequency.WEEKLY,
        start_date=date(2024, 1, 1),
        first_due_date=date(2024, 1, 3),
    )

    assert column(rows, "amount") == [D("33"), D("33"), D("34")]
    assert column(rows, "principal") == [D("0")] * 3
    assert column(rows, "due_date") == [date(2024, 1, 3), date(2024, 1, 10), date(2024, 1, 17)]


def test_split_validation():
    assert split_errors(principal=D("-1.00"), interest=D("0.00"), number_of_installments=1) == {
        "principal": ["The principal to reschedule cannot be negative (-1.00)."]
    }
    assert split_errors(principal=D("0.00"), interest=D("0.00"), number_of_installments=1) == {
        "principal": ["Nothing is left to reschedule: the principal and the interest are both zero."]
    }
    assert split_errors(principal=D("0.02"), interest=D("0.00"), number_of_installments=3) == {
        "number_of_installments": [
            "The amount to reschedule 0.02 is too small for 3 installments of at least 0.01 each: use at most 2."
        ]
    }
    # 0.03 in 3 rows of 0.01 each, but interest 0.02 splits 0.00, 0.00, 0.02: the last principal would be -0.01.
    assert split_errors(principal=D("0.01"), interest=D("0.02"), number_of_installments=3) == {
        "number_of_installments": [
            "The principal 0.01 is too small to carry the interest 0.02 over 3 installments (installment 3 would "
            "have a negative principal): use fewer installments."
        ]
    }
    errors = split_errors(
        currency="KWD",
        principal=D("1.0001"),
        interest=D("-1"),
        number_of_installments=0,
        frequency="daily",
        first_due_date=date(2024, 1, 1),
    )
    assert sorted(errors) == sorted(
        ["principal", "interest", "number_of_installments", FREQUENCY_FIELD, "first_due_date"]
    )


def test_periods_per_year():
    assert PERIODS_PER_YEAR == {"weekly": 52, "biweekly": 26, "monthly": 12, "quarterly": 4}


# Properties ------------------------------------------------------------------------------------------------

PLACES = {"USD": 2, "KWD": 3, "JPY": 0}
MONTH_ENDS = [
    date(year, month, calendar.monthrange(year, month)[1]) for year in (2023, 2024, 2100) for month in range(1, 13)
]


def half_up(value: Fraction, unit: Fraction) -> Fraction:
    """Round a non-negative exact value half up to the unit."""
    return math.floor(value / unit + Fraction(1, 2)) * unit


def equal_split(amount: Fraction, n: int, unit: Fraction) -> list[Fraction]:
    share = math.floor(amount / n / unit) * unit
    return [share] * (n - 1) + [amount - share * (n - 1)]


@dataclass
class Expected:
    """What the rules say, computed with exact fractions; error is the field a ValidationError must name."""

    amounts: list[Fraction]
    principals: list[Fraction]
    interests: list[Fraction]
    error: str | None = None


def expected_columns(method: str, financed: Fraction, rate: Fraction, n: int, ppy: int, unit: Fraction) -> Expected:
    if method == FinanceChargeMethod.DECLINING_BALANCE:
        r = rate / 100 / ppy
        payment = half_up(financed * r / (1 - (1 + r) ** -n), unit)
        if payment < unit:
            return Expected([], [], [], error="number_of_installments")
        amounts, principals, interests = [], [], []
        balance = financed
        for _ in range(n - 1):
            interest = half_up(balance * r, unit)
            principal = payment - interest
            if principal <= 0:
                return Expected([], [], [], error="interest_rate")
            if principal >= balance:
                return Expected([], [], [], error="number_of_installments")
            amounts.append(payment)
            interests.append(interest)
            principals.append(principal)
            balance -= principal
        interest = half_up(balance * r, unit)
        return Expected([*amounts, balance + interest], [*principals, balance], [*interests, interest])
    charge = Fraction(0)
    if method == FinanceChargeMethod.FLAT:
        charge = half_up(financed * rate / 100 * n / ppy, unit)
    amounts = equal_split(financed + charge, n, unit)
    interests = equal_split(charge, n, unit)
    principals = [a - i for a, i in zip(amounts, interests, strict=True)]
    error = None
    if amounts[0] < unit or min(principals) < 0:
        error = "number_of_installments"
    return Expected(amounts, principals, interests, error)


def expected_due_date(anchor: date, frequency: str, k: int) -> date:
    """Day arithmetic for weeks; for months, step the (year, month) pair one month at a time and clamp."""
    if frequency in (Frequency.WEEKLY, Frequency.BIWEEKLY):
        return anchor + timedelta(weeks=k * (1 if frequency == Frequency.WEEKLY else 2))
    year, month = anchor.year, anchor.month
    for _ in range(k * (1 if frequency == Frequency.MONTHLY else 3)):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


@st.composite
def amounts_in(draw, places: int, *, low: int = 1) -> Decimal:
    """Realistic amounts: mostly shop-sized, sometimes tiny or large, in whole units of the currency."""
    major = draw(st.one_of(st.integers(0, 50), st.integers(50, 20_000), st.integers(20_000, 5_000_000)))
    minor = draw(st.integers(0, 10**places - 1)) if places else 0
    return max(D(major * 10**places + minor).scaleb(-places), D(low).scaleb(-places))


@st.composite
def plan_inputs(draw) -> dict:
    currency = draw(st.sampled_from(sorted(PLACES)))
    places = PLACES[currency]
    total = draw(amounts_in(places))
    down = D(0)
    if draw(st.booleans()):
        down = D(draw(st.integers(0, int(total.scaleb(places)) - 1))).scaleb(-places)
    method = draw(st.sampled_from(FinanceChargeMethod.values))
    rate = None
    if method != FinanceChargeMethod.NONE:
        rate = D(draw(st.one_of(st.integers(1, 400_000), st.integers(1, 9_999_999)))).scaleb(-4)
    start = draw(st.one_of(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(MONTH_ENDS)))
    first_due = None
    if draw(st.booleans()):
        first_due = start + timedelta(days=draw(st.integers(1, 120)))
    return {
        "currency": currency,
        "total_amount": total,
        "down_payment": down,
        "frequency": draw(st.sampled_from(Frequency.values)),
        "start_date": start,
        "first_due_date": first_due,
        "number_of_installments": draw(st.one_of(st.integers(1, 24), st.integers(1, 360))),
        "finance_charge_method": method,
        "interest_rate": rate,
    }


def exact(values) -> list[Fraction]:
    return [Fraction(value) for value in values]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_inputs())
def test_schedule_properties(inputs):
    currency, n = inputs["currency"], inputs["number_of_installments"]
    unit = Fraction(1, 10 ** PLACES[currency])
    financed = Fraction(inputs["total_amount"]) - Fraction(inputs["down_payment"])
    rate = Fraction(inputs["interest_rate"] or 0)
    expected = expected_columns(
        inputs["finance_charge_method"], financed, rate, n, PERIODS_PER_YEAR[inputs["frequency"]], unit
    )

    try:
        schedule = schedule_build(**inputs)
    except ValidationError as exc:
        # Only where a rule says the plan cannot be built, and on the field that rule names.
        assert expected.error is not None, exc.message_dict
        assert list(exc.message_dict) == [expected.error]
        event(f"refused on {expected.error}")
        return
    assert expected.error is None
    event(f"built ({inputs['finance_charge_method']})")

    rows = schedule.rows
    amounts, principals, interests = (
        column(schedule, "amount"),
        column(schedule, "principal"),
        column(schedule, "interest"),
    )
    assert len(rows) == n
    assert exact(amounts) == expected.amounts
    assert exact(principals) == expected.principals
    assert exact(interests) == expected.interests

    assert sum(amounts) == schedule.financed + schedule.finance_charge
    assert sum(principals) == schedule.financed == inputs["total_amount"] - inputs["down_payment"]
    assert sum(interests) == schedule.finance_charge
    assert schedule.total_payable == schedule.total_amount + schedule.finance_charge
    assert schedule.installment_amount == amounts[0]
    assert all(row.amount == row.principal + row.interest for row in rows)
    assert all(amount > 0 for amount in amounts)
    assert all(principal >= 0 and interest >= 0 for principal, interest in zip(principals, interests, strict=True))
    exponent = -PLACES[currency]
    for value in (*amounts, *principals, *interests, schedule.finance_charge, schedule.installment_amount):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == exponent
    if inputs["finance_charge_method"] == FinanceChargeMethod.DECLINING_BALANCE:
        assert all(amount == amounts[0] for amount in amounts[:-1])
    else:
        assert all(amount == amounts[0] for amount in amounts[:-1])
        assert amounts[-1] >= amounts[0]

    due = column(schedule, "due_date")
    assert column(schedule, "number") == list(range(1, n + 1))
    assert all(earlier < later for earlier, later in itertools.pairwise(due))
    assert due[0] > inputs["start_date"]
    if inputs["first_due_date"] is None:
        assert due == [expected_due_date(inputs["start_date"], inputs["frequency"], k) for k in range(1, n + 1)]
    else:
        assert due == [expected_due_date(inputs["first_due_date"], inputs["frequency"], k) for k in range(n)]

    # The same plan given by its installment amount, or by both, is the same schedule (for a fixed
    # installment: the equal split is exact, or the method is declining balance).
    if inputs["finance_charge_method"] == FinanceChargeMethod.DECLINING_BALANCE or amounts[0] == amounts[-1]:
        again = schedule_build(**{**inputs, "installment_amount": amounts[0], "due_date": due[-1]})
        assert again == schedule
        by_amount = schedule_build(**{**inputs, "number_of_installments": None, "installment_amount": amounts[0]})
        assert by_amount.number_of_installments <= n
        assert by_amount.installment_amount == amounts[0]


@settings(max_examples=300, deadline=None)
@given(
    currency=st.sampled_from(sorted(PLACES)),
    principal_units=st.one_of(st.integers(0, 100), st.integers(0, 10**9)),
    interest_units=st.one_of(st.integers(0, 100), st.integers(0, 10**8)),
    n=st.integers(1, 360),
    frequency=st.sampled_from(Frequency.values),
    start=st.one_of(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(MONTH_ENDS)),
)
def test_split_properties(currency, principal_units, interest_units, n, frequency, start):
    places = PLACES[currency]
    principal, interest = D(principal_units).scaleb(-places), D(interest_units).scaleb(-places)
    unit = Fraction(1, 10**places)
    amounts = equal_split(Fraction(principal + interest), n, unit)
    interests = equal_split(Fraction(interest), n, unit)
    principals = [a - i for a, i in zip(amounts, interests, strict=True)]
    kwargs = {
        "currency": currency,
        "principal": principal,
        "interest": interest,
        "number_of_installments": n,
        "frequency": frequency,
        "start_date": start,
    }

    if principal_units + interest_units == 0:
        assert split_errors(**kwargs) == {
            "principal": ["Nothing is left to reschedule: the principal and the interest are both zero."]
        }
        return
    if amounts[0] < unit or min(principals) < 0:
        assert list(split_errors(**kwargs)) == ["number_of_installments"]
        return
    rows = schedule_split(**kwargs)

    assert sum(column(rows, "principal")) == principal
    assert sum(column(rows, "interest")) == interest
    assert sum(column(rows, "amount")) == principal + interest
    assert exact(column(rows, "amount")) == amounts
    assert exact(column(rows, "interest")) == interests
    assert all(row.amount > 0 and row.principal >= 0 and row.interest >= 0 for row in rows)
    assert all(row.amount == row.principal + row.interest for row in rows)
    assert column(rows, "due_date") == [expected_due_date(start, frequency, k) for k in range(1, n + 1)]
