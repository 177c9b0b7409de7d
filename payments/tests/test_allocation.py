"""``allocation_split`` for any rows, amount and currency exponent: the ledger's order and nothing over-paid."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from payments.allocation import AllocationLine, AllocationRow, allocation_split
from payments.models import PaymentAllocation

Kind = PaymentAllocation.Kind
OPEN = {Kind.LATE_FEE: "late_fee", Kind.INTEREST: "interest", Kind.PRINCIPAL: "principal"}


@st.composite
def cases(draw):
    """Rows oldest first (open amounts in units of the currency's minor unit) and an amount from zero to a bit
    more than all that is open."""
    places = draw(st.sampled_from([0, 2, 3]))
    unit = Decimal(1).scaleb(-places)
    units = st.integers(min_value=0, max_value=50_000)
    rows = [
        AllocationRow(
            installment_id=f"row-{index}",
            number=index + 1,
            late_fee=draw(st.one_of(st.just(0), units)) * unit,
            interest=draw(units) * unit,
            principal=draw(units) * unit,
            in_force=draw(st.booleans()),
        )
        for index in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    owed = _owed(rows)
    amount = draw(st.integers(min_value=0, max_value=int(owed / unit) + 1_000)) * unit
    return rows, amount, unit


def _owed(rows) -> Decimal:
    return sum((row.late_fee + (row.interest + row.principal if row.in_force else 0) for row in rows), Decimal(0))


def _given(lines: list[AllocationLine], installment_id, kind) -> Decimal:
    return sum(
        (line.amount for line in lines if (line.installment_id, line.kind) == (installment_id, kind)), Decimal(0)
    )


@settings(max_examples=300, deadline=None)
@given(cases())
def test_an_allocation_follows_the_ledgers_order_and_never_pays_more_than_is_due(case):
    rows, amount, unit = case

    lines = allocation_split(rows=rows, amount=amount)

    owed = _owed(rows)
    # The sum is the payment when it fits what is owed, else all that is owed (the service refuses the rest).
    assert sum((line.amount for line in lines), Decimal(0)) == min(amount, owed)
    for line in lines:
        assert line.amount > 0
        assert line.amount % unit == 0
    position = {row.installment_id: index for index, row in enumerate(rows)}
    for row in rows:
        assert {line.number for line in lines if line.installment_id == row.installment_id} <= {row.number}
        for kind, field in OPEN.items():
            # Never more than is due on the row for that kind; a superseded row takes only its late fee.
            due = getattr(row, field) if (row.in_force or kind == Kind.LATE_FEE) else Decimal(0)
            assert _given(lines, row.installment_id, kind) <= due
    kinds = [line.kind for line in lines]
    fees = [line for line in lines if line.kind == Kind.LATE_FEE]
    # Late fees first: every fee line comes before any other, and nothing else is paid while a fee is open.
    assert kinds == sorted(kinds, key=lambda kind: kind != Kind.LATE_FEE)
    if len(fees) < len(lines):
        assert all(_given(lines, row.installment_id, Kind.LATE_FEE) == row.late_fee for row in rows)
    # Oldest first, for fees and for the schedule: a row is reached only once every older one is settled.
    assert [position[line.installment_id] for line in fees] == sorted(position[line.installment_id] for line in fees)
    for line in lines:
        older = [row for row in rows if position[row.installment_id] < position[line.installment_id]]
        if line.kind == Kind.LATE_FEE:
            assert all(_given(lines, row.installment_id, Kind.LATE_FEE) == row.late_fee for row in older)
        else:
            for row in older:
                if row.in_force:
                    assert _given(lines, row.installment_id, Kind.INTEREST) == row.interest
                    assert _given(lines, row.installment_id, Kind.PRINCIPAL) == row.principal
    # Interest before principal on each row.
    for row in rows:
        if _given(lines, row.installment_id, Kind.PRINCIPAL) > 0:
            assert _given(lines, row.installment_id, Kind.INTEREST) == row.interest


def _row(installment_id: str, number: int, fee: str, interest: str, principal: str, *, in_force: bool = True):
    return AllocationRow(
        installment_id=installment_id,
        number=number,
        late_fee=Decimal(fee),
        interest=Decimal(interest),
        principal=Decimal(principal),
        in_force=in_force,
    )


def test_a_payment_goes_to_fees_then_the_oldest_rows_interest_then_principal():
    rows = [
        _row("a", 1, "0", "10.00", "90.00"),
        _row("old", 3, "4.00", "7.00", "50.00", in_force=False),
        _row("b", 2, "5.00", "10.00", "90.00"),
    ]

    lines = allocation_split(rows=rows, amount=Decimal("125.50"))

    assert [(line.installment_id, line.number, line.kind, line.amount) for line in lines] == [
        ("old", 3, Kind.LATE_FEE, Decimal("4.00")),
        ("b", 2, Kind.LATE_FEE, Decimal("5.00")),
        ("a", 1, Kind.INTEREST, Decimal("10.00")),
        ("a", 1, Kind.PRINCIPAL, Decimal("90.00")),
        ("b", 2, Kind.INTEREST, Decimal("10.00")),
        ("b", 2, Kind.PRINCIPAL, Decimal("6.50")),
    ]


def test_what_finds_no_place_is_left_out():
    rows = [_row("a", 1, "1", "0", "200")]

    lines = allocation_split(rows=rows, amount=Decimal("250"))

    assert [(line.kind, line.amount) for line in lines] == [
        (Kind.LATE_FEE, Decimal("1")),
        (Kind.PRINCIPAL, Decimal("200")),
    ]
