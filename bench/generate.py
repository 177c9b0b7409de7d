"""The bench data set: ``python -m bench.generate`` creates, migrates and fills a dedicated database with COPY.

Defaults (``--scale 1``): 20 merchants, 100,000 customers, 200,000 plans with about 2.4 million installments in
every status, their payments (down payments, regular, partial, late, failed, pending, refunded and voided ones),
allocations and late fees. Merchants differ in size (the largest holds about a fifth of the data), currency
(2, 3 and 0 decimal places), time zone and collection policy.

How the history is made: each plan gets a customer behaviour (pays on time, pays late, pays part of each
installment, stops paying) and its events are played in date order exactly as the services would have
recorded them: a late fee charged by the daily job on the first overdue day of an unpaid row, each payment
allocated late fees first, then the oldest installment, interest before principal. The daily job is taken to
have last run ``--job-lag-days`` days ago (1: yesterday), so today's run has a normal day's work to do.

The load runs in one transaction with ``session_replication_role = replica`` (the audit trail's triggers and the
foreign keys' triggers do not fire; CHECK constraints do), then VACUUM ANALYZE, then every ledger invariant and
foreign key is checked in SQL (bench/invariants.py). The database's comment records the sizes, so ``--if-missing``
regenerates only when the database is missing, incomplete or of another size.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sys
import threading
import time
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_MERCHANTS = 20
DEFAULT_CUSTOMERS = 100_000
DEFAULT_PLANS = 200_000
FLUSH_ROWS = 60_000  # rows buffered before a batch of COPYs is handed to the writer thread

NULL = "\\N"


@dataclass(frozen=True)
class Sizes:
    merchants: int
    customers: int
    plans: int

    @classmethod
    def from_scale(cls, scale: float, merchants=None, customers=None, plans=None) -> Sizes:
        return cls(
            merchants=merchants or DEFAULT_MERCHANTS,
            customers=customers or max(1, round(DEFAULT_CUSTOMERS * scale)),
            plans=plans or max(1, round(DEFAULT_PLANS * scale)),
        )


@dataclass(frozen=True)
class Profile:
    name: str
    currency: str
    timezone: str
    country: str
    phone_prefix: str  # country code and the first digits of a mobile number
    language: str
    late_fee_method: str
    late_fee: str  # the fixed amount, or the percent
    late_fee_cap: str | None
    grace_days: int
    default_after_days: int
    requires_approval: bool
    price_factor: str  # the catalogue's prices in this currency, per unit of the base prices


PROFILES = (
    Profile("Souq Al Madina", "SAR", "Asia/Riyadh", "SA", "9665", "ar", "percent", "2", "50", 3, 90, False, "3.75"),
    Profile("Cairo Home Appliances", "EGP", "Africa/Cairo", "EG", "2010", "ar", "fixed", "50", None, 5, 60, True, "48"),
    Profile("Gulf Electronics", "AED", "Asia/Dubai", "AE", "97150", "en", "percent", "1.5", None, 0, 90, False, "3.67"),
    Profile("Kuwait Motors", "KWD", "Asia/Kuwait", "KW", "9655", "ar", "fixed", "5", None, 7, 120, True, "0.31"),
    Profile("Main Street Furniture", "USD", "America/New_York", "US", "1212", "en", "fixed", "15", None, 5, 90, False,
            "1"),
    Profile("Tienda La Esperanza", "EUR", "Europe/Madrid", "ES", "346", "es", "none", "0", None, 10, 90, False, "0.92"),
    Profile("Amman Mobile", "JOD", "Asia/Amman", "JO", "9627", "ar", "percent", "3", "10", 3, 60, False, "0.71"),
    Profile("Tokyo Bikes", "JPY", "Asia/Tokyo", "JP", "8190", "en", "fixed", "1000", None, 3, 90, False, "150"),
    Profile("Manama Lenders", "BHD", "Asia/Bahrain", "BH", "9733", "en", "percent", "2.5", "20", 0, 90, True, "0.38"),
    Profile("Valencia Bicicletas", "EUR", "Europe/Madrid", "ES", "346", "es", "percent", "1", "25", 2, 75, False,
            "0.92"),
)  # fmt: skip

BASE_PRICES = (49, 79, 99, 129, 149, 199, 249, 299, 349, 399, 499, 599, 699, 799, 899, 999, 1199, 1499, 1999, 2999)
PRODUCT_NAMES = (
    "Refrigerator", "Washing machine", "Television", "Laptop", "Smartphone", "Sofa", "Dining table", "Bed",
    "Air conditioner", "Oven", "Bicycle", "Motorbike helmet", "Wardrobe", "Microwave", "Tablet", "Camera",
    "Water heater", "Vacuum cleaner", "Dishwasher", "Sewing machine",
)  # fmt: skip
FIRST_NAMES = (
    "Amina", "Omar", "Layla", "Yusuf", "Fatima", "Karim", "Nour", "Hassan", "Mariam", "Ali", "Sara", "Ahmed",
    "Lucia", "Carlos", "Sofia", "Javier", "Emma", "James", "Olivia", "Noah", "Yuki", "Haruto", "Aiko", "Ren",
)  # fmt: skip
LAST_NAMES = (
    "Haddad", "Khalil", "Saleh", "Nasser", "Mansour", "Farouk", "Aziz", "Rahman", "Garcia", "Martinez",
    "Lopez", "Fernandez", "Smith", "Johnson", "Brown", "Tanaka", "Sato", "Suzuki", "Qasim", "Darwish",
)  # fmt: skip

# Installments per plan and how often: the mean is about 12, so 200,000 plans give about 2.4 million rows.
COUNTS = ((3, 10), (6, 22), (10, 10), (12, 30), (18, 10), (24, 14), (36, 4))
QUARTERLY_COUNTS = ((4, 40), (6, 20), (8, 25), (12, 15))
FREQUENCIES = (("monthly", 70), ("weekly", 10), ("biweekly", 10), ("quarterly", 10))
METHODS = (("none", 50), ("flat", 30), ("declining_balance", 20))
RATES = ("9.5", "12", "18", "24")
DOWN_PERCENTS = (0, 0, 10, 20, 30)
BEHAVIOURS = (("good", 66), ("late", 14), ("partial", 8), ("stopped", 12))
PAYMENT_METHODS = ("cash", "cash", "cash", "card", "card", "bank_transfer", "mobile_wallet", "cheque")
HISTORY_DAYS = 3 * 365


def _weighted(rng: random.Random, choices):
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return lambda: rng.choices(values, weights)[0]


def _spread(total: int, weights: list[float], *, at_least: int = 0) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), each share at least ``at_least`` when possible."""
    base = [at_least] * len(weights) if total >= at_least * len(weights) else [0] * len(weights)
    left = total - sum(base)
    scale = sum(weights)
    exact = [left * weight / scale for weight in weights]
    shares = [int(value) for value in exact]
    order = sorted(range(len(weights)), key=lambda k: exact[k] - shares[k], reverse=True)
    for k in order[: left - sum(shares)]:
        shares[k] += 1
    return [b + s for b, s in zip(base, shares, strict=True)]


# Text for COPY ----------------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class Money:
    """Integer minor units to the text PostgreSQL reads, for one currency."""

    def __init__(self, places: int):
        self.places = places
        self.scale = 10**places

    def __call__(self, units: int) -> str:
        if self.places == 0:
            return str(units)
        sign = "-" if units < 0 else ""
        whole, part = divmod(abs(units), self.scale)
        return f"{sign}{whole}.{part:0{self.places}d}"

    def units(self, value: Decimal) -> int:
        return int(value.scaleb(self.places))


class Table:
    """One table's COPY: the columns the generator writes, then every other column at its model default (so a
    column added later with a default does not break the generator)."""

    def __init__(self, model, columns: tuple[str, ...]):
        from django.db import models

        fields = {field.column: field for field in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise RuntimeError(f"{model._meta.db_table} has no column {sorted(unknown)}")
        rest = [
            column
            for column, field in fields.items()
            if column not in columns and not isinstance(field, (models.AutoField, models.BigAutoField))
        ]
        self.name = model._meta.db_table
        self.columns = (*columns, *rest)
        self.suffix = "".join("\t" + _text(self._default(fields[column])) for column in rest) + "\n"
        quoted = ", ".join(f'"{column}"' for column in self.columns)
        self.copy_sql = f'COPY "{self.name}" ({quoted}) FROM STDIN'
        self.lines: list[str] = []
        self.count = 0

    @staticmethod
    def _default(field):
        if field.has_default():
            return field.get_default()
        if field.null:
            return None
        return field.get_default()

    def add(self, *values: str) -> None:
        self.lines.append("\t".join(values) + self.suffix)

    def take(self) -> str:
        data = "".join(self.lines)
        self.count += len(self.lines)
        self.lines = []
        return data


class Writer:
    """COPYs batches on its own connection in a thread, so PostgreSQL ingests one batch while Python builds the
    next (psycopg releases the GIL while it waits on the socket). One transaction for the whole load."""

    def __init__(self, conn):
        self.conn = conn
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="copy-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                with self.conn.cursor() as cursor:
                    for copy_sql, data in item:
                        with cursor.copy(copy_sql) as copy:
                            copy.write(data)
            except BaseException as exc:  # handed to the main thread at its next put() or close()
                self.error = exc

    def put(self, tables: list[Table]) -> None:
        if self.error is not None:
            raise self.error
        batch = [(table.copy_sql, table.take()) for table in tables if table.lines]
        if batch:
            self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


# The generator ------------------------------------------------------------------------------------------------


class Generator:
    def __init__(self, *, sizes: Sizes, seed: int, job_lag_days: int, now: datetime):
        from django.contrib.auth.hashers import make_password

        from customers.models import Customer
        from dailyrun.models import DailyJobRun
        from installments.models import Installment, InstallmentPlan, LateFee, PlanItem, Product
        from payments.models import Payment, PaymentAllocation
        from taqsit.models import Merchant, User

        self.sizes = sizes
        self.rng = random.Random(seed)
        self.seed = seed
        self.job_lag_days = job_lag_days
        self.now = now
        self.password = make_password("bench-password")
        self.uuid_bits = self.rng.getrandbits
        self.schedules: dict = {}
        self.stats = {"schedule_cache_misses": 0}

        self.merchants = Table(
            Merchant,
            ("id", "name", "currency", "timezone", "language", "country", "grace_days", "late_fee_method",
             "late_fee_amount", "late_fee_percent", "late_fee_cap", "default_after_days", "requires_approval",
             "last_plan_number", "created_at", "updated_at"),
        )  # fmt: skip
        self.users = Table(
            User,
            ("id", "password", "username", "first_name", "last_name", "email", "is_active", "date_joined",
             "merchant_id", "role"),
        )  # fmt: skip
        self.products = Table(Product, ("id", "merchant_id", "name", "sku", "price", "created_at", "updated_at"))
        self.customers = Table(
            Customer,
            ("id", "merchant_id", "name", "phone", "email", "national_id", "language", "created_by_id",
             "created_at", "updated_at"),
        )  # fmt: skip
        self.plans = Table(
            InstallmentPlan,
            ("id", "merchant_id", "number", "customer_id", "status", "total_amount", "down_payment",
             "finance_charge_method", "interest_rate", "finance_charge", "total_payable", "installment_amount",
             "number_of_installments", "installment_frequency", "start_date", "due_date", "amount_paid",
             "late_fees", "last_payment_number", "created_by_id", "decided_by_id", "decided_at", "status_reason",
             "status_changed_at", "created_at", "updated_at"),
        )  # fmt: skip
        self.items = Table(
            PlanItem,
            ("plan_id", "merchant_id", "product_id", "description", "quantity", "unit_price", "line_total",
             "serial_number", "is_open"),
        )  # fmt: skip
        self.installments = Table(
            Installment,
            ("id", "merchant_id", "plan_id", "number", "due_date", "amount_due", "principal", "interest",
             "amount_paid", "principal_paid", "interest_paid", "late_fee", "late_fee_paid", "status", "paid_on",
             "created_at", "updated_at"),
        )  # fmt: skip
        self.payments = Table(
            Payment,
            ("id", "merchant_id", "plan_id", "payment_number", "amount", "payment_date", "payment_method",
             "reference", "status", "is_down_payment", "received_by_id", "reversed_by_id", "reversed_at",
             "reversal_reason", "notes", "created_at", "updated_at"),
        )  # fmt: skip
        self.allocations = Table(
            PaymentAllocation,
            ("id", "merchant_id", "payment_id", "installment_id", "kind", "amount", "reversal_of_id", "created_at",
             "updated_at"),
        )  # fmt: skip
        self.fees = Table(
            LateFee, ("id", "merchant_id", "plan_id", "installment_id", "period", "amount", "created_at", "updated_at")
        )
        self.job_runs = Table(DailyJobRun, ("merchant_id", "day", "started_at", "finished_at"))
        self.tables = [
            self.merchants, self.users, self.products, self.customers, self.plans, self.items, self.installments,
            self.payments, self.allocations, self.fees, self.job_runs,
        ]  # fmt: skip
        self.allocation_id = 0
        self.pick_count = _weighted(self.rng, COUNTS)
        self.pick_quarterly = _weighted(self.rng, QUARTERLY_COUNTS)
        self.pick_frequency = _weighted(self.rng, FREQUENCIES)
        self.pick_method = _weighted(self.rng, METHODS)
        self.pick_behaviour = _weighted(self.rng, BEHAVIOURS)

    # helpers

    def uuid(self) -> str:
        h = f"{(self.uuid_bits(128) & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def buffered(self) -> int:
        return sum(len(table.lines) for table in self.tables)

    @staticmethod
    def stamp(day: date, hour: int = 10, minute: int = 0) -> str:
        return f"{day.isoformat()} {hour:02d}:{minute:02d}:00+00"

    def schedule(self, currency, money, total, down, frequency, n, method, rate):
        """(amounts, principals, interests) in units, from the real schedule engine, cached by the terms."""
        key = (currency, total, down, frequency, n, method, rate)
        cached = self.schedules.get(key)
        if cached is None:
            from installments.schedule import schedule_build

            self.stats["schedule_cache_misses"] += 1
            built = schedule_build(
                currency=currency,
                total_amount=Decimal(total).scaleb(-money.places),
                down_payment=Decimal(down).scaleb(-money.places),
                frequency=frequency,
                start_date=date(2001, 1, 1),
                number_of_installments=n,
                finance_charge_method=method,
                interest_rate=Decimal(rate) if rate else None,
            )
            cached = (
                [money.units(row.amount) for row in built.rows],
                [money.units(row.principal) for row in built.rows],
                [money.units(row.interest) for row in built.rows],
            )
            self.schedules[key] = cached
        return cached

    # the load

    def run(self, writer: Writer) -> None:
        sizes = self.sizes
        weights = [(k + 1) ** -0.8 for k in range(sizes.merchants)]
        customers_per = _spread(sizes.customers, weights, at_least=1)
        plans_per = _spread(sizes.plans, weights)
        self.per_merchant = []
        for index in range(sizes.merchants):
            self._merchant(index, customers_per[index], plans_per[index], writer)
        writer.put(self.tables)

    def _merchant(self, index: int, customer_count: int, plan_count: int, writer: Writer) -> None:
        from django.utils import timezone as dj_timezone

        from installments.schedule import due_date_for
        from taqsit.money import minor_unit

        rng = self.rng
        profile = PROFILES[index % len(PROFILES)]
        merchant_id = self.uuid()
        money = Money(minor_unit(profile.currency))
        factor = Decimal(profile.price_factor)
        today = dj_timezone.localtime(self.now, zoneinfo.ZoneInfo(profile.timezone)).date()
        last_run = today - timedelta(days=self.job_lag_days)
        grace = profile.grace_days
        created = self.stamp(today - timedelta(days=HISTORY_DAYS + 30))
        fee_fixed = money.units(Decimal(profile.late_fee)) if profile.late_fee_method == "fixed" else 0
        fee_percent = Decimal(profile.late_fee) if profile.late_fee_method == "percent" else None
        fee_cap = money.units(Decimal(profile.late_fee_cap)) if profile.late_fee_cap else None
        quantum = Decimal(1).scaleb(-money.places)

        def fee_for(remaining_units: int) -> int:
            if fee_fixed:
                return fee_fixed
            if fee_percent is None:
                return 0
            fee = (Decimal(remaining_units).scaleb(-money.places) * fee_percent / 100).quantize(
                quantum, rounding=ROUND_HALF_UP
            )
            units = money.units(fee)
            return min(units, fee_cap) if fee_cap is not None else units

        self.merchants.add(
            merchant_id,
            f"{profile.name} #{index + 1}",
            profile.currency,
            profile.timezone,
            profile.language,
            profile.country,
            str(grace),
            profile.late_fee_method,
            money(fee_fixed),
            profile.late_fee if fee_percent is not None else "0",
            money(fee_cap) if fee_cap is not None else NULL,
            str(profile.default_after_days),
            "t" if profile.requires_approval else "f",
            str(plan_count),
            created,
            created,
        )
        self.job_runs.add(merchant_id, last_run.isoformat(), self.stamp(last_run, 0, 5), self.stamp(last_run, 0, 6))
        staff = {}
        for role in ("owner", "manager", "clerk", "clerk2", "viewer"):
            user_id = self.uuid()
            staff[role] = user_id
            self.users.add(
                user_id,
                self.password,
                f"m{index + 1:02d}-{role}",
                role.capitalize(),
                f"Merchant {index + 1}",
                f"{role}@m{index + 1:02d}.bench.test",
                "t",
                created,
                merchant_id,
                "clerk" if role == "clerk2" else role,
            )
        clerks = (staff["clerk"], staff["clerk2"], staff["owner"])
        products = []
        for k, base in enumerate(BASE_PRICES):
            product_id = self.uuid()
            price = int((Decimal(base) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * money.scale
            name = f"{PRODUCT_NAMES[k % len(PRODUCT_NAMES)]} {base}"
            products.append((product_id, price, name))
            self.products.add(
                product_id, merchant_id, name, f"SKU-{index + 1:02d}-{k + 1:03d}", money(price), created, created
            )

        customer_ids = []
        for k in range(customer_count):
            customer_id = self.uuid()
            customer_ids.append(customer_id)
            joined = self.stamp(today - timedelta(days=int(HISTORY_DAYS * rng.random() ** 1.6)))
            self.customers.add(
                customer_id,
                merchant_id,
                f"{FIRST_NAMES[k % len(FIRST_NAMES)]} {LAST_NAMES[(k // len(FIRST_NAMES)) % len(LAST_NAMES)]} {k + 1}",
                f"+{profile.phone_prefix}{k:08d}",
                f"customer{k + 1}@m{index + 1:02d}.bench.test",
                f"ID{index + 1:02d}{k + 1:08d}" if k % 3 else "",
                profile.language if k % 4 else "en",
                clerks[k % 2],
                joined,
                joined,
            )
        self.per_merchant.append(
            {"name": f"{profile.name} #{index + 1}", "currency": profile.currency, "customers": customer_count,
             "plans": plan_count, "today": today.isoformat()}
        )  # fmt: skip

        context = {
            "merchant_id": merchant_id,
            "money": money,
            "profile": profile,
            "today": today,
            "last_run": last_run,
            "grace": grace,
            "fee_for": fee_for,
            "staff": staff,
            "clerks": clerks,
            "due_date_for": due_date_for,
        }
        for number in range(1, plan_count + 1):
            product_id, price, name = products[rng.randrange(len(products))]
            self._plan(context, number, customer_ids[rng.randrange(len(customer_ids))], product_id, price, name)
            if self.buffered() >= FLUSH_ROWS:
                writer.put(self.tables)

    def _plan(self, ctx: dict, number: int, customer_id: str, product_id: str, price: int, product_name: str):
        rng = self.rng
        money: Money = ctx["money"]
        profile: Profile = ctx["profile"]
        merchant_id = ctx["merchant_id"]
        today: date = ctx["today"]
        last_run: date = ctx["last_run"]
        grace: int = ctx["grace"]
        staff = ctx["staff"]
        plan_id = self.uuid()

        quantity = 2 if rng.random() < 0.08 else 1
        total = price * quantity
        down = total * rng.choice(DOWN_PERCENTS) // 100 // money.scale * money.scale
        frequency = self.pick_frequency()
        n = self.pick_quarterly() if frequency == "quarterly" else self.pick_count()
        method = self.pick_method()
        rate = rng.choice(RATES) if method != "none" else ""
        amounts, principals, interests = self.schedule(profile.currency, money, total, down, frequency, n, method, rate)
        finance_charge = sum(interests)
        total_payable = total + finance_charge

        roll = rng.random()
        kind = "normal"
        if profile.requires_approval and roll < 0.04:
            kind = "pending"
        elif profile.requires_approval and roll < 0.07:
            kind = "rejected"
        elif roll > 0.97:
            kind = "cancelled"
        if kind == "pending":
            start = today - timedelta(days=rng.randrange(0, 7))
        else:
            start = last_run - timedelta(days=int(HISTORY_DAYS * rng.random() ** 1.6))
        due_date_for = ctx["due_date_for"]
        dues = [due_date_for(start, frequency, k) for k in range(1, n + 1)]
        created = self.stamp(start, 9, rng.randrange(60))

        # State of each row, in units.
        interest_paid = [0] * n
        principal_paid = [0] * n
        fee = [0] * n
        fee_paid = [0] * n
        paid_on: list[date | None] = [None] * n
        payments = []  # (id, number, amount, day, method, status, down, reversed)
        state = {"paid": 0, "fees": 0, "fees_open": 0, "first_open": 0, "number": 0}
        allocations = []  # (id, payment_id, row or None, kind, amount, reversal_of, day)
        fees = []  # (row, period, amount)
        status = "active"
        decided_by = decided_at = status_changed = None
        reason = ""
        end = last_run
        evaluate = last_run

        def payment(amount: int, day: date, pay_status: str = "completed", is_down: bool = False) -> str:
            payment_id = self.uuid()
            state["number"] += 1
            payments.append((payment_id, state["number"], amount, day, pay_status, is_down))
            return payment_id

        def allocate(amount: int, payment_id: str, day: date, apply: bool) -> list[int]:
            """Late fees first, oldest row first; then interest before principal, oldest row first."""
            lines = []
            left = amount
            if state["fees_open"]:
                for row in range(n):
                    owed = fee[row] - fee_paid[row]
                    if owed > 0:
                        share = min(left, owed)
                        lines.append((row, "late_fee", share))
                        left -= share
                        if left == 0:
                            break
            row = state["first_open"]
            while left > 0 and row < n:
                owed = interests[row] - interest_paid[row]
                if owed > 0:
                    share = min(left, owed)
                    lines.append((row, "interest", share))
                    left -= share
                owed = principals[row] - principal_paid[row]
                if owed > 0 and left > 0:
                    share = min(left, owed)
                    lines.append((row, "principal", share))
                    left -= share
                row += 1
            if left:
                raise RuntimeError(f"{left} of a payment could not be allocated")
            ids = []
            for row, kind_, share in lines:
                self.allocation_id += 1
                ids.append(self.allocation_id)
                allocations.append((self.allocation_id, payment_id, row, kind_, share, None, day))
                if not apply:
                    continue
                if kind_ == "late_fee":
                    fee_paid[row] += share
                    state["fees_open"] -= share
                elif kind_ == "interest":
                    interest_paid[row] += share
                else:
                    principal_paid[row] += share
                if interest_paid[row] + principal_paid[row] == amounts[row] and paid_on[row] is None:
                    paid_on[row] = day
            if apply:
                state["paid"] += amount
                while state["first_open"] < n and paid_on[state["first_open"]] is not None:
                    state["first_open"] += 1
            return ids

        def balance() -> int:
            return total_payable + state["fees"] - state["paid"]

        def row_owed(row: int) -> int:
            return amounts[row] - interest_paid[row] - principal_paid[row]

        if kind in ("pending", "rejected"):
            if kind == "rejected":
                status = "rejected"
                decided_by = staff["manager"]
                decided_at = status_changed = self.stamp(start, 16)
                reason = "Income could not be verified."
            else:
                status = "pending"
        else:
            if kind == "cancelled":
                span = (min(dues[-1], last_run) - start).days
                end = evaluate = start + timedelta(days=rng.randrange(0, span + 1))
            if down:
                payment_id = payment(down, start, is_down=True)
                self.allocation_id += 1
                allocations.append((self.allocation_id, payment_id, None, "down_payment", down, None, start))
                state["paid"] += down
            behaviour = self.pick_behaviour()
            lateness = rng.randrange(3, 41) if behaviour == "late" else 0
            part = rng.randrange(50, 91) if behaviour == "partial" else 100
            stop = rng.randrange(0, n) if behaviour == "stopped" else n
            payoff = rng.randrange(0, n) if behaviour == "good" and rng.random() < 0.05 else -1
            events = []
            for row in range(n):
                period = dues[row] + timedelta(days=grace + 1)
                if period <= end:
                    events.append((period, 0, row))
                if row < stop:
                    if behaviour == "late":
                        day = dues[row] + timedelta(days=lateness + rng.randrange(-2, 3))
                    else:
                        day = dues[row] - timedelta(days=rng.randrange(0, 4))
                    day = max(day, start)
                    if day <= end:
                        events.append((day, 1, row))
            # The odd payment that did not count: a bounced cheque, one refunded or voided the same day, one
            # still pending (a cheque not yet cleared, in the last days).
            special = rng.random()
            if special < 0.03 and events:
                day = rng.choice(events)[0]
                events.append((day, 2, rng.choice(("failed", "refunded", "voided"))))
            elif special < 0.035 and kind == "normal" and (end - start).days > 5:
                events.append((end - timedelta(days=rng.randrange(0, 5)), 2, "pending"))
            if kind == "normal" and behaviour != "stopped" and rng.random() < 0.25:
                # Part of the next installment paid ahead, in the last days: rows partially paid, not yet due.
                events.append((max(start, end - timedelta(days=rng.randrange(0, 10))), 3, 0))
            events.sort(key=lambda event: (event[0], event[1], event[2] if event[1] != 2 else -1))
            for day, what, row in events:
                if what == 0:  # the daily job on the row's first overdue day
                    owed = row_owed(row)
                    if owed > 0:
                        charge = ctx["fee_for"](owed)
                        if charge > 0:
                            fee[row] += charge
                            state["fees"] += charge
                            state["fees_open"] += charge
                            fees.append((row, day, charge))
                elif what == 1:  # the customer pays
                    if row == payoff:
                        amount = balance()
                    elif behaviour == "partial":
                        amount = amounts[row] * part // 100 // money.scale * money.scale or amounts[row]
                    else:
                        amount = sum(row_owed(k) for k in range(state["first_open"], row + 1)) + state["fees_open"]
                    amount = min(amount, balance())
                    if amount > 0:
                        payment_id = payment(amount, day)
                        allocate(amount, payment_id, day, apply=True)
                    if balance() == 0:
                        break
                elif what == 3:  # an advance on the next installment not yet due
                    row = state["first_open"]
                    if row < n and dues[row] > day:
                        amount = min(row_owed(row) // 2 // money.scale * money.scale, balance())
                        if amount > 0:
                            allocate(amount, payment(amount, day), day, apply=True)
                else:  # what == 2: a payment that moved no money in the end
                    amount = min(amounts[min(state["first_open"], n - 1)], balance())
                    if amount <= 0:
                        continue
                    if row in ("failed", "pending"):
                        payment(amount, day, pay_status=row)
                        continue
                    payment_id = payment(amount, day, pay_status=row)
                    lines = len(allocate(amount, payment_id, day, apply=False))
                    for original_id, pid, line_row, line_kind, share, _rev, _day in allocations[-lines:]:
                        self.allocation_id += 1
                        allocations.append((self.allocation_id, pid, line_row, line_kind, -share, original_id, day))
            if kind == "cancelled":
                status = "cancelled"
                status_changed = self.stamp(end, 15)
                reason = "Goods returned."
            elif balance() == 0:
                status = "completed"
                status_changed = self.stamp(max(p[3] for p in payments), 11)
            else:
                limit = last_run - timedelta(days=grace) - timedelta(days=profile.default_after_days - 1)
                if any(dues[row] < limit and row_owed(row) > 0 for row in range(state["first_open"], n)):
                    status = "defaulted"
                    status_changed = self.stamp(last_run, 0, 5)
                    reason = "Overdue past the merchant's limit."

        # Rows: statuses as the services and the daily job (last run on ``evaluate``) left them.
        open_plan = status in ("active", "defaulted", "cancelled")
        cutoff = evaluate - timedelta(days=grace)
        row_ids = [self.uuid() for _ in range(n)]
        for row in range(n):
            paid = interest_paid[row] + principal_paid[row]
            if paid == amounts[row]:
                row_status = "paid"
            elif open_plan and dues[row] < cutoff:
                row_status = "overdue"
            elif paid > 0:
                row_status = "partially_paid"
            else:
                row_status = "pending"
            self.installments.add(
                row_ids[row],
                merchant_id,
                plan_id,
                str(row + 1),
                dues[row].isoformat(),
                money(amounts[row]),
                money(principals[row]),
                money(interests[row]),
                money(paid),
                money(principal_paid[row]),
                money(interest_paid[row]),
                money(fee[row]),
                money(fee_paid[row]),
                row_status,
                paid_on[row].isoformat() if paid_on[row] else NULL,
                created,
                created,
            )
        for row, period, charge in fees:
            stamp = self.stamp(period, 0, 5)
            self.fees.add(
                self.uuid(), merchant_id, plan_id, row_ids[row], period.isoformat(), money(charge), stamp, stamp
            )
        clerks = ctx["clerks"]
        for payment_id, pay_number, amount, day, pay_status, is_down in payments:
            stamp = self.stamp(day, 10 + pay_number % 8, pay_number % 60)
            reversed_ = pay_status in ("refunded", "voided")
            self.payments.add(
                payment_id,
                merchant_id,
                plan_id,
                str(pay_number),
                money(amount),
                day.isoformat(),
                "cash"
                if is_down
                else ("cheque" if pay_status in ("failed", "pending") else rng.choice(PAYMENT_METHODS)),
                f"RCPT-{pay_number:04d}" if pay_number % 3 == 0 else "",
                pay_status,
                "t" if is_down else "f",
                clerks[pay_number % 2],
                staff["manager"] if reversed_ else NULL,
                self.stamp(day, 18) if reversed_ else NULL,
                "Recorded in error." if reversed_ else "",
                "Down payment" if is_down else "",
                stamp,
                stamp,
            )
        for allocation_id, payment_id, row, kind_, share, reversal_of, day in allocations:
            stamp = self.stamp(day, 18 if reversal_of else 10)
            self.allocations.add(
                str(allocation_id),
                merchant_id,
                payment_id,
                row_ids[row] if row is not None else NULL,
                kind_,
                money(share),
                str(reversal_of) if reversal_of else NULL,
                stamp,
                stamp,
            )
        # No serial numbers in the generated book; an item is held open as its plan's status says.
        holds = "t" if status in ("pending", "active", "defaulted") else "f"
        self.items.add(
            plan_id, merchant_id, product_id, product_name, str(quantity), money(price), money(total), "", holds
        )
        self.plans.add(
            plan_id,
            merchant_id,
            str(number),
            customer_id,
            status,
            money(total),
            money(down),
            method,
            rate or "0",
            money(finance_charge),
            money(total_payable),
            money(amounts[0]),
            str(n),
            frequency,
            start.isoformat(),
            dues[-1].isoformat(),
            money(state["paid"]),
            money(state["fees"]),
            str(state["number"]),
            ctx["clerks"][number % 2],
            decided_by or NULL,
            decided_at or NULL,
            reason,
            status_changed or NULL,
            created,
            created,
        )


# The command --------------------------------------------------------------------------------------------------


def _arguments(argv):
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=env("BENCH_DATABASE", "taqsit_bench"))
    parser.add_argument("--scale", type=float, default=float(env("BENCH_SCALE", "1")), help="1 = 200,000 plans")
    parser.add_argument("--merchants", type=int, default=int(env("BENCH_MERCHANTS", "0")) or None)
    parser.add_argument("--customers", type=int, default=int(env("BENCH_CUSTOMERS", "0")) or None)
    parser.add_argument("--plans", type=int, default=int(env("BENCH_PLANS", "0")) or None)
    parser.add_argument("--seed", type=int, default=int(env("BENCH_SEED", "20260301")))
    parser.add_argument("--job-lag-days", type=int, default=1, help="days since the daily job last ran")
    parser.add_argument("--if-missing", action="store_true", help="keep a complete database of the same sizes")
    parser.add_argument("--no-verify", action="store_true", help="skip the invariant checks after the load")
    parser.add_argument("--results", default="generate", help="name of the JSON under bench/results ('' for none)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    os.environ["BENCH_DATABASE"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from psycopg import sql

    from bench import common, db
    from bench.invariants import invariants_check

    sizes = Sizes.from_scale(args.scale, args.merchants, args.customers, args.plans)
    srv = db.server()
    wanted = {"scale": args.scale, "seed": args.seed, "job_lag_days": args.job_lag_days, **sizes.__dict__}
    if args.if_missing:
        meta = db.database_comment(srv, args.database) if db.database_exists(srv, args.database) else None
        if meta and meta.get("complete") and all(meta.get(key) == value for key, value in wanted.items()):
            print(f"{args.database}: already generated ({meta.get('generated_at')}), sizes {sizes}; kept.")
            return 0
    timings = {}
    print(f"Generating {args.database}: {sizes} (scale {args.scale}, seed {args.seed})", flush=True)
    started = time.perf_counter()
    timings["create_database_s"] = db.database_create(srv, args.database)
    timings["migrate_s"] = db.migrate(args.database)
    print(f"  created and migrated in {timings['create_database_s'] + timings['migrate_s']:.1f} s", flush=True)

    load_started = time.perf_counter()
    generator = Generator(sizes=sizes, seed=args.seed, job_lag_days=args.job_lag_days, now=datetime.now(UTC))
    with srv.connect(args.database) as conn:
        replica = True
        try:
            conn.execute("SET session_replication_role = replica")
        except Exception:  # not a superuser: the triggers fire (slower, and the audit trail records the load)
            conn.rollback()
            replica = False
            print("  warning: cannot SET session_replication_role (not a superuser); triggers stay on", flush=True)
        conn.execute("SET synchronous_commit = off")
        writer = Writer(conn)
        try:
            generator.run(writer)
        finally:
            writer.close()
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('payments_paymentallocation', 'id'), "
            "(SELECT COALESCE(max(id), 0) + 1 FROM payments_paymentallocation), false)"
        )
        conn.commit()
    timings["generate_and_copy_s"] = time.perf_counter() - load_started
    rows = {table.name: table.count for table in generator.tables}
    print(f"  generated and copied {sum(rows.values()):,} rows in {timings['generate_and_copy_s']:.1f} s", flush=True)

    step = time.perf_counter()
    with srv.connect(args.database, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    timings["vacuum_analyze_s"] = time.perf_counter() - step
    print(f"  VACUUM ANALYZE in {timings['vacuum_analyze_s']:.1f} s", flush=True)
    timings["total_s"] = time.perf_counter() - started

    violations = {}
    if not args.no_verify:
        step = time.perf_counter()
        with srv.connect(args.database, autocommit=True) as conn:
            violations = invariants_check(conn)
        timings["verify_s"] = time.perf_counter() - step
        bad = {name: count for name, count in violations.items() if count}
        print(f"  {len(violations)} invariants checked in {timings['verify_s']:.1f} s: ", end="", flush=True)
        print("all hold" if not bad else f"BROKEN {bad}", flush=True)
        if bad:
            return 1

    with srv.connect(args.database, autocommit=True) as conn:
        counts = dict(
            conn.execute(
                "SELECT status, count(*) FROM installments_installment GROUP BY status ORDER BY status"
            ).fetchall()
        )
        plan_counts = dict(
            conn.execute(
                "SELECT status, count(*) FROM installments_installmentplan GROUP BY status ORDER BY status"
            ).fetchall()
        )
        payment_counts = dict(
            conn.execute("SELECT status, count(*) FROM payments_payment GROUP BY status ORDER BY status").fetchall()
        )
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        machine = common.machine_info(conn)
    meta = {
        **wanted,
        "complete": True,
        "generated_at": common.now_iso(),
        "rows": rows,
        "installments_by_status": counts,
        "plans_by_status": plan_counts,
        "payments_by_status": payment_counts,
        "database_size": size,
        "replica_mode": replica,
    }
    with srv.connect("postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(args.database), sql.Literal(json.dumps(meta)))
        )
    print(f"  rows: {json.dumps(rows)}")
    print(f"  installments by status: {json.dumps(counts)}")
    print(f"  plans by status: {json.dumps(plan_counts)}; database size {size}")
    print(f"Done in {timings['total_s']:.1f} s (schedules computed: {generator.stats['schedule_cache_misses']})")
    if args.results:
        path = common.results_write(
            args.results,
            {
                "benchmark": "generate",
                "date": common.now_iso(),
                "machine": machine,
                "database": args.database,
                "sizes": sizes.__dict__,
                "scale": args.scale,
                "timings_s": {key: round(value, 2) for key, value in timings.items()},
                "rows": rows,
                "rows_per_second": round(sum(rows.values()) / timings["generate_and_copy_s"]),
                "installments_by_status": counts,
                "plans_by_status": plan_counts,
                "payments_by_status": payment_counts,
                "merchants": generator.per_merchant,
                "database_size": size,
                "replica_mode": replica,
                "invariants": violations,
            },
        )
        print(f"Results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
