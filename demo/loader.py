"""The demo data `make run` loads once: two merchants, their staff, products, customers, and plans in every state.

Everything domain-shaped is written through the services (registration, staff, customers, products, plans,
payments, late fees, lifecycle changes), so every rule and database invariant holds exactly as it would for
data entered at the counter. The only direct write is the platform admin, made with ``create_superuser``.

The data is deterministic: a ``random.Random`` with a fixed seed picks payment methods, references and small
date shifts, and every date is counted back from ``today`` (the merchant's today unless given).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction

from customers.models import Customer
from customers.services import customer_create
from installments.models import Installment, InstallmentPlan, LateFee, Product
from installments.schedule import due_date_for
from installments.services import (
    late_fee_charge,
    plan_approve,
    plan_cancel,
    plan_create,
    plan_mark_defaulted,
    plan_reject,
    plan_reschedule,
    product_create,
)
from notifications.receivers import customer_messages_muted
from payments.models import Payment
from payments.services import payment_post, payment_refund, payment_void
from taqsit.dates import merchant_today
from taqsit.models import Merchant, Role, User
from taqsit.money import to_money
from taqsit.services import merchant_register, merchant_update, user_create

SEED = 2026
DEMO_MERCHANT = "Demo Electronics"
KW_MERCHANT = "Souq Al Kuwait"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "taqsit-admin-2026"  # noqa: S105 - a published demo login, printed on every start
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the shared demo staff password, printed on every start
DEMO_STAFF = ("owner", "manager", "clerk", "viewer")
KW_STAFF = ("kw-owner",)
# Any constant: serialises two loaders started at the same moment (two `make run`s on one database).
_ADVISORY_LOCK_KEY = 7_120_260_001

Status = InstallmentPlan.Status
STATUS_ORDER = (
    Status.ACTIVE,
    Status.COMPLETED,
    Status.PENDING,
    Status.REJECTED,
    Status.CANCELLED,
    Status.DEFAULTED,
)


@dataclass(frozen=True)
class DemoResult:
    """What one load created, for the summary line."""

    merchants: tuple[str, ...]
    customers: int
    products: int
    plans_by_status: dict[str, int]
    payments: int
    late_fees: int

    @property
    def plans(self) -> int:
        return sum(self.plans_by_status.values())

    def summary(self) -> str:
        by_status = ", ".join(f"{status} {count}" for status, count in self.plans_by_status.items())
        return (
            f"Demo data loaded: {self.customers} customers, {self.plans} plans ({by_status}), "
            f"{self.payments} payments, {self.products} products, {self.late_fees} late fees "
            f"across {len(self.merchants)} merchants ({', '.join(self.merchants)})."
        )


def demo_login_lines(*, port: str | int | None = None) -> list[str]:
    """Where to log in and with what; the port comes from $PORT (8000 when unset), as `make run` serves it."""
    port = port or os.environ.get("PORT") or "8000"
    return [
        f"Log in at http://127.0.0.1:{port}/admin/ as {ADMIN_USERNAME} / {ADMIN_PASSWORD} (platform admin)",
        f"Staff pages at http://127.0.0.1:{port}/ (and the API at /api/) as:",
        f"Merchant staff ({DEMO_MERCHANT}): {', '.join(DEMO_STAFF)} / {DEMO_PASSWORD}",
        f"Merchant staff ({KW_MERCHANT}): {', '.join(KW_STAFF)} / {DEMO_PASSWORD}",
    ]


def demo_is_loaded() -> bool:
    return Merchant.objects.filter(name=DEMO_MERCHANT).exists()


def demo_load(*, today: date | None = None) -> DemoResult | None:
    """Load the demo merchants once, in one transaction; None when "Demo Electronics" already exists.

    ``today`` (default: each merchant's today) is the day the data is "as of"; it cannot be after the
    merchant's today, because payments are never dated in the future. Its back-dated history sends the demo
    customers no receipts nor decisions (the daily job reminds them of what is due, as for any customer).
    """
    with customer_messages_muted(), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        if demo_is_loaded():
            return None
        _admin_ensure()
        demo = _DemoElectronics(today=today).load()
        kuwait = _SouqAlKuwait(today=today).load()
        return _result((demo, kuwait))


def _admin_ensure() -> User:
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = User.objects.create_superuser(
            username=ADMIN_USERNAME, email="admin@taqsit.example", password=ADMIN_PASSWORD
        )
    return admin


def _result(merchants: tuple[Merchant, ...]) -> DemoResult:
    plans = InstallmentPlan.objects.filter(merchant__in=merchants)
    by_status = {status.value: plans.filter(status=status).count() for status in STATUS_ORDER}
    return DemoResult(
        merchants=tuple(merchant.name for merchant in merchants),
        customers=Customer.objects.filter(merchant__in=merchants).count(),
        products=Product.objects.filter(merchant__in=merchants).count(),
        plans_by_status={status: count for status, count in by_status.items() if count},
        payments=Payment.objects.filter(merchant__in=merchants).count(),
        late_fees=LateFee.objects.filter(merchant__in=merchants).count(),
    )


# The plans ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpec:
    """One demo plan: who buys what, on which terms, starting when (``"7m"``, ``"10w"``, ``"5d"`` ago), and
    what happened to it since (``scenario``, with ``missed`` installments left unpaid where that applies)."""

    customer: int
    items: tuple[tuple[int | str, int], ...]  # (product index, or a free-text "description|price", quantity)
    down_percent: int
    installments: int
    frequency: str
    method: str
    rate: str | None
    started: str
    scenario: str
    missed: int = 0
    reason: str = ""
    notes: str = ""


class _Loader:
    """Shared machinery: the merchant's today, the seeded random, and plans played forward through the services."""

    name = ""
    currency = "USD"

    def __init__(self, *, today: date | None) -> None:
        self.given_today = today
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, not security
        self.today: date = today or date.min
        self.merchant: Merchant
        self.staff: dict[str, User] = {}
        self.products: list[Product] = []
        self.customers: list[Customer] = []
        self.last_paid: dict[object, date] = {}

    # Set-up ---------------------------------------------------------------------------------------------------

    def today_set(self) -> None:
        real_today = merchant_today(self.merchant)
        if self.given_today is not None and self.given_today > real_today:
            raise ValueError(
                f"The demo's today {self.given_today} is after {self.merchant.name}'s today {real_today}: "
                "payments cannot be dated in the future."
            )
        self.today = self.given_today or real_today

    def ago(self, text: str) -> date:
        """``"7m"`` = seven calendar months before today, ``"10w"`` ten weeks, ``"5d"`` five days."""
        count, unit = int(text[:-1]), text[-1]
        if unit == "m":
            return due_date_for(self.today, "monthly", -count)
        if unit == "w":
            return self.today - timedelta(weeks=count)
        if unit == "d":
            return self.today - timedelta(days=count)
        raise ValueError(f"Unknown interval {text!r}.")

    def grace(self) -> int:
        return Merchant.objects.values_list("grace_days", flat=True).get(pk=self.merchant.pk)

    # Plans ----------------------------------------------------------------------------------------------------

    def plan_create(self, spec: PlanSpec, actor: User) -> InstallmentPlan:
        # Read the customer (and its merchant) afresh: the approval policy may have changed since it was made.
        customer = Customer.objects.select_related("merchant").get(pk=self.customers[spec.customer].pk)
        items = []
        for item, quantity in spec.items:
            if isinstance(item, str):
                description, price = item.split("|")
                items.append({"product": None, "description": description, "quantity": quantity, "unit_price": price})
            else:
                items.append({"product": self.products[item], "quantity": quantity})
        total = sum(
            (
                (Decimal(item["unit_price"]) if item["product"] is None else item["product"].price) * item["quantity"]
                for item in items
            ),
            Decimal("0"),
        )
        down = to_money(total * spec.down_percent / 100, self.currency)
        plan = plan_create(
            actor=actor,
            customer=customer,
            items=items,
            down_payment=down,
            number_of_installments=spec.installments,
            installment_frequency=spec.frequency,
            start_date=self.ago(spec.started),
            finance_charge_method=spec.method,
            interest_rate=spec.rate,
            notes=spec.notes,
        )
        self.last_paid[plan.pk] = plan.start_date
        return plan

    def rows(self, plan: InstallmentPlan) -> list[Installment]:
        return list(Installment.objects.current().filter(plan=plan).order_by("number"))

    def overdue_rows(self, plan: InstallmentPlan) -> list[Installment]:
        """Unpaid current rows already past their due date plus the merchant's grace days."""
        cutoff = self.today - timedelta(days=self.grace())
        return [row for row in self.rows(plan) if row.amount_paid < row.amount_due and row.due_date < cutoff]

    def pay(
        self,
        plan: InstallmentPlan,
        actor: User,
        amount: Decimal,
        on: date,
        *,
        method: str | None = None,
        notes: str = "",
    ) -> Payment:
        """Record a payment dated ``on`` (kept between the previous payment and today)."""
        method = method or self.rng.choice(
            [Payment.Method.CASH] * 3
            + [Payment.Method.CARD] * 2
            + [Payment.Method.BANK_TRANSFER, Payment.Method.MOBILE_WALLET, Payment.Method.CHEQUE]
        )
        prefixes = {
            Payment.Method.CARD: "CARD",
            Payment.Method.BANK_TRANSFER: "TRF",
            Payment.Method.MOBILE_WALLET: "WAL",
            Payment.Method.CHEQUE: "CHQ",
        }
        reference = f"{prefixes[method]}-{self.rng.randint(100000, 999999)}" if method in prefixes else ""
        on = min(max(on, self.last_paid.get(plan.pk, plan.start_date)), self.today)
        payment = payment_post(
            actor=actor,
            plan=plan,
            amount=amount,
            payment_date=on,
            payment_method=method,
            reference=reference,
            notes=notes,
        )
        self.last_paid[plan.pk] = on
        return payment

    def pay_rows(self, plan: InstallmentPlan, actor: User, rows: list[Installment]) -> None:
        """Pay each row in full, around its due date: mostly a few days early, sometimes a little late."""
        for row in rows:
            if self.rng.random() < 0.2:
                on = row.due_date + timedelta(days=self.rng.randint(1, 3))
            else:
                on = row.due_date - timedelta(days=self.rng.randint(0, 3))
            self.pay(plan, actor, row.amount_due - row.amount_paid, on)

    def pay_due(self, plan: InstallmentPlan, actor: User) -> None:
        """Everything due up to today paid: the plan is up to date."""
        self.pay_rows(plan, actor, [row for row in self.rows(plan) if row.due_date <= self.today])

    def pay_all_but_missed(self, plan: InstallmentPlan, actor: User, missed: int) -> list[Installment]:
        """The overdue rows but the last ``missed`` are paid; returns the missed ones, oldest first."""
        overdue = self.overdue_rows(plan)
        if missed < 1 or missed > len(overdue):
            raise ValueError(f"Plan {plan.reference} has {len(overdue)} installments past due, cannot miss {missed}.")
        self.pay_rows(plan, actor, overdue[: len(overdue) - missed])
        return overdue[len(overdue) - missed :]

    def late_fee(self, row: Installment) -> LateFee:
        """The fee the daily job charges on the first day the row is overdue (no actor: the job did it)."""
        period = row.due_date + timedelta(days=self.grace() + 1)
        return late_fee_charge(installment=row, period=min(period, self.today), actor=None)

    def play(self, plan: InstallmentPlan, spec: PlanSpec, *, clerk: User, manager: User) -> None:
        """Move a freshly created active plan forward through ``spec.scenario``."""
        handlers: dict[str, Callable[[InstallmentPlan, PlanSpec, User, User], None]] = {
            "current": self._current,
            "partial": self._partial,
            "overdue": self._overdue,
            "overdue_fee": self._overdue_fee,
            "overdue_fee_paid": self._overdue_fee_paid,
            "overdue_partial": self._overdue_partial,
            "completed": self._completed,
            "completed_early": self._completed_early,
            "refunded": self._refunded,
            "voided": self._voided,
            "rescheduled": self._rescheduled,
            "defaulted": self._defaulted,
            "cancelled": self._cancelled,
        }
        handlers[spec.scenario](plan, spec, clerk, manager)

    def _current(self, plan, spec, clerk, manager) -> None:
        self.pay_due(plan, clerk)

    def _partial(self, plan, spec, clerk, manager) -> None:
        self.pay_due(plan, clerk)
        upcoming = [row for row in self.rows(plan) if row.amount_paid < row.amount_due]
        self.pay(
            plan,
            clerk,
            to_money(upcoming[0].amount_due / 2, self.currency),
            self.today - timedelta(days=1),
            notes="Part of the next installment, paid early.",
        )

    def _overdue(self, plan, spec, clerk, manager) -> None:
        self.pay_all_but_missed(plan, clerk, spec.missed)

    def _overdue_fee(self, plan, spec, clerk, manager) -> None:
        missed = self.pay_all_but_missed(plan, clerk, spec.missed)
        self.late_fee(missed[0])

    def _overdue_fee_paid(self, plan, spec, clerk, manager) -> None:
        """A fee charged on the first missed row, then the customer came in and paid the fee and that row."""
        missed = self.pay_all_but_missed(plan, clerk, spec.missed)
        fee = self.late_fee(missed[0])
        self.pay(
            plan,
            clerk,
            fee.amount + missed[0].amount_due,
            max(fee.period, missed[0].due_date) + timedelta(days=2),
            notes="Late installment with its late fee.",
        )

    def _overdue_partial(self, plan, spec, clerk, manager) -> None:
        missed = self.pay_all_but_missed(plan, clerk, spec.missed)
        self.pay(
            plan,
            clerk,
            to_money(missed[0].amount_due * Decimal("0.4"), self.currency),
            self.today - timedelta(days=2),
            notes="Could only pay part; promised the rest at the end of the month.",
        )

    def _completed(self, plan, spec, clerk, manager) -> None:
        self.pay_rows(plan, clerk, self.rows(plan))

    def _completed_early(self, plan, spec, clerk, manager) -> None:
        self.pay_due(plan, clerk)
        plan.refresh_from_db()
        self.pay(
            plan, manager, plan.remaining_balance, self.today - timedelta(days=1), notes="Early payoff of the balance."
        )

    def _refunded(self, plan, spec, clerk, manager) -> None:
        """Up to date, then the last installment taken twice by mistake; the duplicate is refunded."""
        self.pay_due(plan, clerk)
        upcoming = [row for row in self.rows(plan) if row.amount_paid < row.amount_due]
        duplicate = self.pay(plan, clerk, upcoming[0].amount_due, self.today - timedelta(days=3))
        payment_refund(actor=manager, payment=duplicate, reason="Charged twice at the counter; the duplicate refunded.")

    def _voided(self, plan, spec, clerk, manager) -> None:
        """Up to date, then a payment keyed on this plan by mistake, voided by the manager."""
        self.pay_due(plan, clerk)
        mistake = self.pay(plan, clerk, Decimal("100.00"), self.today, method=Payment.Method.CASH)
        payment_void(actor=manager, payment=mistake, reason="Recorded on the wrong customer's plan.")

    def _rescheduled(self, plan, spec, clerk, manager) -> None:
        self.pay_all_but_missed(plan, clerk, spec.missed)
        plan_reschedule(
            actor=manager,
            plan=plan,
            number_of_installments=12,
            installment_frequency="biweekly",
            start_date=self.today - timedelta(days=2),
            reason=spec.reason,
        )

    def _defaulted(self, plan, spec, clerk, manager) -> None:
        self.pay_all_but_missed(plan, clerk, spec.missed)
        plan_mark_defaulted(actor=manager, plan=plan, reason=spec.reason)

    def _cancelled(self, plan, spec, clerk, manager) -> None:
        self.pay_rows(plan, clerk, [row for row in self.rows(plan) if row.due_date <= self.today][:1])
        plan_cancel(actor=manager, plan=plan, reason=spec.reason)

    def customers_create(self, actor: User, people: list[dict]) -> None:
        self.customers = [customer_create(actor=actor, **person) for person in people]

    def products_create(self, actor: User, products: list[tuple[str, str, str]]) -> None:
        self.products = [
            product_create(actor=actor, name=name, sku=sku, price=Decimal(price)) for name, sku, price in products
        ]


# Demo Electronics --------------------------------------------------------------------------------------------

DEMO_PRODUCTS = [
    ("Apple iPhone 15 128GB", "PH-APL-IP15-128", "829.00"),
    ("Samsung Galaxy S24 256GB", "PH-SAM-S24-256", "859.99"),
    ("Google Pixel 8", "PH-GOO-PX8-128", "699.00"),
    ('LG 55" OLED evo C3 TV', "TV-LG-OLED55C3", "1499.99"),
    ('Samsung 65" QLED 4K TV', "TV-SAM-Q65-Q80C", "1199.00"),
    ('TCL 43" 4K Roku TV', "TV-TCL-43S450", "279.99"),
    ("Whirlpool 25 cu ft French-Door Refrigerator", "FR-WHR-FD25", "1899.00"),
    ("Frigidaire 18 cu ft Top-Freezer Refrigerator", "FR-FRG-TF18", "749.00"),
    ('Apple MacBook Air 13" M3', "LT-APL-MBA13-M3", "1099.00"),
    ("Dell Inspiron 15 Laptop", "LT-DEL-I15-3530", "649.99"),
]
(IPHONE, GALAXY, PIXEL, OLED, QLED, TCL, WHIRLPOOL, FRIGIDAIRE, MACBOOK, DELL) = range(10)
WARRANTY = "Extended warranty, 2 years|149.00"

# (name, language, e-mail local part or "" for none)
DEMO_PEOPLE = [
    ("James Carter", "en", "james.carter"),
    ("María González", "es", "maria.gonzalez"),
    ("أحمد الخطيب", "ar", ""),
    ("Emily Johnson", "en", "emily.johnson"),
    ("José Hernández", "es", "jose.hernandez"),
    ("فاطمة الزهراء", "ar", ""),
    ("Michael Brown", "en", "mbrown"),
    ("Lucía Martínez", "es", "lucia.martinez"),
    ("Amina Haddad", "en", "amina.haddad"),
    ("Carlos Ramírez", "es", "carlos.ramirez"),
    ("محمد العلي", "ar", ""),
    ("Sarah Mitchell", "en", "sarah.mitchell"),
    ("Sofía Torres", "es", "sofia.torres"),
    ("ليلى منصور", "ar", "layla.mansour"),
    ("David Thompson", "en", "dthompson"),
    ("Diego Flores", "es", ""),
    ("Omar Farouk", "en", "omar.farouk"),
    ("Jessica Lee", "en", "jessica.lee"),
    ("عمر حداد", "ar", ""),
    ("Valentina Cruz", "es", "valentina.cruz"),
    ("Robert Wilson", "en", "rwilson"),
    ("نور الهدى سليمان", "ar", "nour.suleiman"),
    ("Javier Morales", "es", "javier.morales"),
    ("Ashley Davis", "en", "ashley.davis"),
    ("يوسف عبد الله", "ar", ""),
    ("Camila Reyes", "es", "camila.reyes"),
    ("Christopher Moore", "en", "chris.moore"),
    ("مريم الشامي", "ar", ""),
    ("Layla Nasser", "en", "layla.nasser"),
    ("Alejandro Ortiz", "es", "alejandro.ortiz"),
    ("Amanda Clark", "en", "amanda.clark"),
    ("خالد الحسيني", "ar", ""),
    ("Isabel Vargas", "es", "isabel.vargas"),
    ("Daniel Lewis", "en", "daniel.lewis"),
    ("سارة النجار", "ar", "sara.najjar"),
    ("Mateo Castillo", "es", "mateo.castillo"),
    ("Megan Walker", "en", "megan.walker"),
    ("Karim Saleh", "en", "karim.saleh"),
    ("Kevin Hall", "en", ""),
    ("Rachel Young", "en", "rachel.young"),
]
US_AREA_CODES = ["212", "305", "415", "617", "713", "312", "206", "404"]
US_STREETS = [
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Elm St",
    "Cedar Ln",
    "Park Ave",
    "Washington Blvd",
    "Sunset Rd",
]
US_CITIES = ["Brooklyn, NY", "Miami, FL", "Oakland, CA", "Boston, MA", "Houston, TX", "Chicago, IL", "Seattle, WA"]

_M, _W = "monthly", "weekly"
DEMO_PLANS = [
    # Active and up to date.
    PlanSpec(0, ((IPHONE, 1),), 20, 12, _M, "none", None, "4m", "current"),
    PlanSpec(1, ((QLED, 1),), 10, 12, _M, "flat", "12", "5m", "current"),
    PlanSpec(2, ((MACBOOK, 1),), 15, 24, "biweekly", "declining_balance", "18", "14w", "current"),
    PlanSpec(3, ((DELL, 1),), 0, 26, _W, "none", None, "9w", "current", notes="Student; pays on Fridays."),
    PlanSpec(4, ((OLED, 1),), 20, 4, "quarterly", "flat", "10", "4m", "current"),
    PlanSpec(5, ((WHIRLPOOL, 1),), 10, 18, _M, "declining_balance", "21.9", "3m", "partial"),
    PlanSpec(6, ((PIXEL, 1), (WARRANTY, 1)), 0, 10, _M, "none", None, "2m", "partial"),
    PlanSpec(7, ((TCL, 2),), 25, 16, _W, "flat", "15", "6w", "current"),
    PlanSpec(8, ((GALAXY, 1),), 20, 12, "biweekly", "none", None, "10d", "current"),
    PlanSpec(9, ((FRIGIDAIRE, 1),), 0, 12, _M, "declining_balance", "15", "1m", "current"),
    # Active with installments overdue.
    PlanSpec(10, ((IPHONE, 1),), 10, 12, _M, "none", None, "6m", "overdue", missed=2),
    PlanSpec(11, ((QLED, 1),), 0, 10, _M, "flat", "12", "5m", "overdue_fee", missed=1),
    PlanSpec(12, ((DELL, 1),), 10, 20, _W, "declining_balance", "24", "12w", "overdue", missed=3),
    PlanSpec(13, ((MACBOOK, 1),), 20, 8, "biweekly", "flat", "9", "10w", "overdue_fee_paid", missed=2),
    PlanSpec(14, ((WHIRLPOOL, 1),), 15, 4, "quarterly", "none", None, "7m", "overdue", missed=1),
    PlanSpec(15, ((GALAXY, 1),), 0, 12, _M, "declining_balance", "18", "4m", "overdue_partial", missed=2),
    # A refund, a void, a reschedule.
    PlanSpec(16, ((OLED, 1),), 20, 12, _M, "flat", "10", "3m", "refunded"),
    PlanSpec(17, ((PIXEL, 1),), 0, 6, _M, "none", None, "2m", "voided"),
    PlanSpec(
        18,
        ((WHIRLPOOL, 1), (FRIGIDAIRE, 1)),
        10,
        12,
        _M,
        "none",
        None,
        "7m",
        "rescheduled",
        missed=3,
        reason="Lost a second job; agreed to smaller biweekly payments.",
    ),
    # Paid off.
    PlanSpec(20, ((GALAXY, 1),), 20, 6, _M, "none", None, "8m", "completed"),
    PlanSpec(21, ((TCL, 1),), 0, 12, _W, "flat", "10", "18w", "completed"),
    PlanSpec(22, ((DELL, 1),), 10, 10, "biweekly", "declining_balance", "12", "30w", "completed"),
    PlanSpec(23, ((IPHONE, 1),), 25, 12, _M, "flat", "8", "5m", "completed_early"),
    PlanSpec(24, ((QLED, 1),), 10, 2, "quarterly", "none", None, "8m", "completed"),
    # Defaulted and cancelled.
    PlanSpec(
        26,
        ((MACBOOK, 1),),
        10,
        12,
        _M,
        "flat",
        "12",
        "6m",
        "defaulted",
        missed=4,
        reason="Nothing paid for four months; phone disconnected.",
    ),
    PlanSpec(
        27,
        ((WHIRLPOOL, 1),),
        0,
        24,
        "biweekly",
        "none",
        None,
        "26w",
        "defaulted",
        missed=10,
        reason="Moved away without a forwarding address.",
    ),
    PlanSpec(
        28,
        ((PIXEL, 1),),
        10,
        10,
        _M,
        "none",
        None,
        "3m",
        "cancelled",
        reason="Phone returned within the return window; agreement ended.",
    ),
]
# Created while the merchant requires approval: (spec, what the manager decided).
DEMO_APPLICATIONS = [
    (PlanSpec(19, ((MACBOOK, 1),), 10, 12, _M, "declining_balance", "15", "5d", "approved"), "approve"),
    (PlanSpec(29, ((TCL, 1),), 0, 8, _W, "none", None, "3d", "cancelled", reason="Customer withdrew."), "cancel"),
    (PlanSpec(30, ((QLED, 1),), 10, 12, _M, "flat", "12", "2d", "pending"), ""),
    (PlanSpec(31, ((FRIGIDAIRE, 1),), 15, 26, _W, "declining_balance", "20", "1d", "pending"), ""),
    (PlanSpec(32, ((IPHONE, 1),), 0, 6, "quarterly", "none", None, "3d", "pending"), ""),
    (PlanSpec(33, ((MACBOOK, 1), (WARRANTY, 1)), 10, 12, "biweekly", "none", None, "4d", "pending"), ""),
    (
        PlanSpec(
            34, ((OLED, 2),), 0, 36, _M, "declining_balance", "24", "5d", "rejected", reason="Income not verified."
        ),
        "reject",
    ),
    (
        PlanSpec(
            35,
            ((GALAXY, 1),),
            0,
            24,
            _M,
            "flat",
            "18",
            "6d",
            "rejected",
            reason="Has another plan overdue; asked to bring it up to date first.",
        ),
        "reject",
    ),
]


class _DemoElectronics(_Loader):
    name = DEMO_MERCHANT
    currency = "USD"

    def load(self) -> Merchant:
        owner = merchant_register(
            merchant_name=DEMO_MERCHANT,
            username="owner",
            email="owner@demo-electronics.example",
            password=DEMO_PASSWORD,
            currency="USD",
            timezone="America/New_York",
            language="en",
            country="US",
        )
        self.merchant = merchant_update(
            actor=owner,
            merchant=owner.merchant,
            reminder_days_before=3,
            grace_days=3,
            late_fee_method=Merchant.LateFeeMethod.FIXED,
            late_fee_amount=Decimal("5.00"),
            default_after_days=60,
            requires_approval=False,
            portal_enabled=True,
            portal_self_registration=True,
            portal_transfer_reports=True,
        )
        owner.first_name, owner.last_name = "Nadia", "Rahman"
        self.staff = {"owner": owner}
        for username, role, first, last in (
            ("manager", Role.MANAGER, "Marcus", "Bell"),
            ("clerk", Role.CLERK, "Lina", "Ortiz"),
            ("viewer", Role.VIEWER, "Sam", "Patel"),
        ):
            self.staff[username] = user_create(
                actor=owner,
                username=username,
                email=f"{username}@demo-electronics.example",
                password=DEMO_PASSWORD,
                role=role,
                first_name=first,
                last_name=last,
            )
        self.today_set()
        clerk, manager = self.staff["clerk"], self.staff["manager"]
        self.products_create(manager, DEMO_PRODUCTS)
        self.customers_create(clerk, self.people())

        for spec in DEMO_PLANS:
            plan = self.plan_create(spec, clerk)
            self.play(plan, spec, clerk=clerk, manager=manager)

        self.merchant = merchant_update(actor=owner, merchant=self.merchant, requires_approval=True)
        for spec, decision in DEMO_APPLICATIONS:
            plan = self.plan_create(spec, clerk)
            if decision == "approve":
                plan_approve(actor=manager, plan=plan)
            elif decision == "reject":
                plan_reject(actor=manager, plan=plan, reason=spec.reason)
            elif decision == "cancel":
                plan_cancel(actor=manager, plan=plan, reason=spec.reason)
        self.merchant = merchant_update(actor=owner, merchant=self.merchant, requires_approval=False)
        return self.merchant

    def people(self) -> list[dict]:
        people = []
        for index, (name, language, email) in enumerate(DEMO_PEOPLE):
            area = US_AREA_CODES[index % len(US_AREA_CODES)]
            line = f"01{index:02d}"
            # Some typed the way a clerk would at the counter; the service stores E.164 either way.
            phone = f"({area}) 555-{line}" if index % 3 == 1 else f"+1{area}555{line}"
            person = {
                "name": name,
                "phone": phone,
                "language": language,
                "email": f"{email}@example.com" if email else "",
                "address": f"{self.rng.randint(10, 9899)} {self.rng.choice(US_STREETS)}, "
                f"{US_CITIES[index % len(US_CITIES)]}",
            }
            if index % 11 == 5:
                person["sms_opt_out"] = True
            if index in (0, 16):
                person["notes"] = "Prefers a call before the due date."
            people.append(person)
        return people


# Souq Al Kuwait ----------------------------------------------------------------------------------------------

KW_PRODUCTS = [
    ("آيفون 15 برو 256 جيجابايت", "KW-APL-IP15P", "379.900"),
    ("تلفزيون سامسونج 65 بوصة", "KW-SAM-TV65", "459.750"),
    ("ثلاجة إل جي إنستا فيو", "KW-LG-FR-IV", "689.500"),
    ("لابتوب إتش بي بافيليون", "KW-HP-PAV15", "219.995"),
]
KW_PEOPLE = [
    ("عبد الله العنزي", "+96550012345"),
    ("نورة المطيري", "+96566012345"),
    ("فهد الرشيدي", "+96599012345"),
    ("هيا العجمي", "65551234"),
    ("سلمان الكندري", "+96551234567"),
    ("دانة الصباح", "+96590012345"),
]
KW_PLANS = [
    PlanSpec(0, ((0, 1),), 20, 12, _M, "none", None, "3m", "current"),
    PlanSpec(1, ((1, 1),), 10, 6, _M, "declining_balance", "10", "8m", "completed"),
    PlanSpec(2, ((2, 1),), 0, 20, "biweekly", "flat", "6", "20w", "overdue_fee", missed=2),
    PlanSpec(3, ((3, 2),), 15, 4, "quarterly", "none", None, "4m", "partial"),
]


class _SouqAlKuwait(_Loader):
    name = KW_MERCHANT
    currency = "KWD"

    def load(self) -> Merchant:
        owner = merchant_register(
            merchant_name=KW_MERCHANT,
            username="kw-owner",
            email="owner@souq-kuwait.example",
            password=DEMO_PASSWORD,
            currency="KWD",
            timezone="Asia/Kuwait",
            language="ar",
            country="KW",
        )
        self.merchant = merchant_update(
            actor=owner,
            merchant=owner.merchant,
            reminder_days_before=2,
            grace_days=5,
            late_fee_method=Merchant.LateFeeMethod.PERCENT,
            late_fee_percent=Decimal("2"),
            late_fee_cap=Decimal("10.000"),
            default_after_days=90,
        )
        self.today_set()
        self.products_create(owner, KW_PRODUCTS)
        self.customers_create(
            owner,
            [
                {
                    "name": name,
                    "phone": phone,
                    "language": "ar",
                    "national_id": f"2{self.rng.randint(10**10, 10**11 - 1)}",
                    "address": f"قطعة {self.rng.randint(1, 12)}، شارع {self.rng.randint(1, 40)}، الكويت",
                }
                for name, phone in KW_PEOPLE
            ],
        )
        for spec in KW_PLANS:
            plan = self.plan_create(spec, owner)
            self.play(plan, spec, clerk=owner, manager=owner)
        return self.merchant
