"""Each row of a file checked against the merchant's data: what it will create, that it is already there (its
natural key: a customer's national id, else phone; a product's SKU; a plan's sale reference), or every problem,
each on its column. Reads only: the merchant's keys are loaded once per check (``Checker.load``), not per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from django.utils.translation import override

from customers.models import Customer
from imports import cells
from imports.columns import COLUMNS, HeaderMap
from imports.models import ImportJob, ImportRow
from installments.models import InstallmentPlan, Product
from installments.schedule import FinanceChargeMethod, Frequency
from installments.services import PlanOpening, plan_terms_build
from taqsit.dates import merchant_today
from taqsit.models import Language, Merchant
from taqsit.money import ZERO
from taqsit.money_format import money_figure

Outcome = ImportRow.Outcome


@dataclass
class RowResult:
    number: int
    outcome: str = Outcome.CREATE
    key: str = ""
    summary: str = ""
    problems: list[dict[str, str]] = field(default_factory=list)
    value: Any = None  # what to create: a customer's or product's fields, or a PlanOpening


class Checker:
    """The checks of one kind of row; ``load`` reads what the merchant already has."""

    def __init__(self, *, job: ImportJob, merchant: Merchant, headers: HeaderMap) -> None:
        self.job, self.merchant, self.headers = job, merchant, headers
        self.columns = {column.key: column for column in COLUMNS[job.kind]}
        self.language = job.language
        self.currency = merchant.currency
        self.today = merchant_today(merchant)
        self.seen: dict[str, int] = {}
        self.load()

    def load(self) -> None:
        raise NotImplementedError

    def header(self, key: str) -> str:
        """The column's header as the file writes it (its label in the file's language when it has none)."""
        if key in self.headers.positions:
            return self.headers.positions[key][1]
        with override(self.language):
            return str(self.columns[key].label)

    def check(self, number: int, cells_: list[object]) -> RowResult:
        result = RowResult(number=number)

        def get(key: str) -> object:
            position = self.headers.positions.get(key)
            if position is None or position[0] >= len(cells_):
                return None
            value = cells_[position[0]]
            return None if isinstance(value, str) and not value.strip() else value

        def problem(key: str, message: str) -> None:
            result.problems.append({"column": self.header(key), "message": message})

        def read(key: str, reader: Callable[[object], Any], default: Any = None) -> Any:
            """The column's value through ``reader``; a required one missing, or one ``reader`` refuses, is a
            problem on the column."""
            raw = get(key)
            if raw is None:
                if self.columns[key].required and key in self.headers.positions:
                    problem(key, _("This field is required."))
                return default
            try:
                return reader(raw)
            except ValidationError as exc:
                problem(key, " ".join(exc.messages))
                return default

        with override(self.language):
            self.row(result, read, problem)
        if result.problems and result.outcome != Outcome.CHANGED:
            result.outcome = Outcome.ERROR
        return result

    def row(self, result: RowResult, read, problem) -> None:
        raise NotImplementedError

    def first_seen(self, result: RowResult, key_column: str, key: str) -> bool:
        """False (a problem on the key's column) when an earlier row of the file has the same key."""
        earlier = self.seen.get(key)
        if earlier is not None:
            result.problems.append(
                {
                    "column": self.header(key_column),
                    "message": _("Row %(row)s has the same %(column)s.") % {"row": earlier, "column": key},
                }
            )
            return False
        self.seen[key] = result.number
        return True

    def compare(self, result: RowResult, pairs: list[tuple[str, object, object]]) -> None:
        """Present already: skipped when equal; each column of the file that differs reported (a column the file
        does not have says nothing), nothing overwritten."""
        result.outcome = Outcome.SKIP
        for key, present, given in pairs:
            if key in self.headers.positions and present != given:
                result.outcome = Outcome.CHANGED
                result.problems.append(
                    {
                        "column": self.header(key),
                        "message": _("Already present with %(present)s; the file says %(given)s. Not changed.")
                        % {"present": present if present != "" else "—", "given": given if given != "" else "—"},
                    }
                )


def _text(limit: int) -> Callable[[object], str]:
    def reader(raw: object) -> str:
        value = cells.text(raw)
        if len(value) > limit:
            raise ValidationError(_("At most %(limit)s characters.") % {"limit": limit})
        return value

    return reader


class CustomerChecker(Checker):
    def load(self) -> None:
        self.by_national_id: dict[str, Customer] = {}
        self.by_phone: dict[str, Customer] = {}
        for customer in Customer.objects.filter(merchant=self.merchant).only(
            "id", "name", "phone", "email", "national_id", "address", "language", "notes"
        ):
            self.by_phone[customer.phone] = customer
            if customer.national_id:
                self.by_national_id[customer.national_id.upper()] = customer

    def row(self, result: RowResult, read, problem) -> None:
        name = read("name", _text(200), "")
        phone = read("phone", lambda raw: cells.phone(raw, country=self.merchant.country), "")
        national_id = read("national_id", _text(50), "")
        email = read("email", _email, "")
        address = read("address", cells.text, "")
        language = read("language", lambda raw: cells.choice(raw, Language), self.merchant.language)
        notes = read("notes", cells.text, "")
        result.summary = " · ".join(part for part in (name, phone, national_id) if part)[:255]
        key = national_id.upper() or phone
        result.key = key[:100]
        if not key or (result.problems and not phone):
            return
        if not self.first_seen(result, "national_id" if national_id else "phone", key):
            return
        present = self.by_national_id.get(national_id.upper()) if national_id else None
        twin = self.by_phone.get(phone)
        if present is None:
            present = twin
        elif twin is not None and twin.pk != present.pk:
            problem("phone", _("%(name)s already has the phone %(phone)s.") % {"name": twin.name, "phone": phone})
            return
        fields = {
            "name": name,
            "phone": phone,
            "national_id": national_id,
            "email": email,
            "address": address,
            "language": language,
            "notes": notes,
        }
        if present is not None and not result.problems:
            self.compare(result, [(key_, getattr(present, key_), value) for key_, value in fields.items()])
            return
        result.value = fields


def _email(raw: object) -> str:
    value = cells.text(raw)
    validate_email(value)
    return value


class ProductChecker(Checker):
    def load(self) -> None:
        self.by_sku = {
            product.sku: product for product in Product.objects.filter(merchant=self.merchant).exclude(sku="")
        }

    def row(self, result: RowResult, read, problem) -> None:
        sku = read("sku", _text(64), "")
        name = read("name", _text(200), "")
        price = read("price", lambda raw: cells.amount(raw, currency=self.currency, language=self.language))
        if price is not None and price <= 0:
            problem(
                "price", _("%(amount)s must be greater than zero.") % {"amount": money_figure(price, self.currency)}
            )
        result.key = sku
        result.summary = " · ".join(part for part in (sku, name) if part)[:255]
        if not sku or not self.first_seen(result, "sku", sku):
            return
        present = self.by_sku.get(sku)
        if present is not None and not result.problems:
            self.compare(
                result,
                [("name", present.name, name), ("price", *_figures(self.currency, present.price, price))],
            )
            return
        result.value = {"sku": sku, "name": name, "price": price}


# A plan's terms refused by the schedule engine, on the column that gave them.
_TERM_COLUMNS = {
    "total_amount": "total_amount",
    "down_payment": "down_payment",
    "number_of_installments": "number_of_installments",
    "installment_amount": "number_of_installments",
    "installment_frequency": "frequency",
    "start_date": "start_date",
    "first_due_date": "first_due_date",
    "due_date": "number_of_installments",
    "finance_charge_method": "finance_charge_method",
    "interest_rate": "interest_rate",
    "items": "product_sku",
}


class PlanChecker(Checker):
    def load(self) -> None:
        customers = Customer.objects.filter(merchant=self.merchant)
        self.customers = {}
        for customer_id, name, phone, national_id in customers.values_list("id", "name", "phone", Upper("national_id")):
            self.customers[phone] = (customer_id, name)
            if national_id:
                self.customers.setdefault(national_id, (customer_id, name))
        self.products = {p.sku: p for p in Product.objects.filter(merchant=self.merchant).exclude(sku="")}
        self.plans: dict[str, dict] = {}
        for plan in (
            InstallmentPlan.objects.filter(merchant=self.merchant)
            .exclude(sale_reference="")
            .values(
                "sale_reference",
                "customer_id",
                "total_amount",
                "down_payment",
                "number_of_installments",
                "installment_frequency",
                "start_date",
            )
        ):
            self.plans.setdefault(plan["sale_reference"], plan)

    def _customer(self, raw: object) -> tuple[Any, str]:
        text = cells.text(raw)
        found = self.customers.get(text.upper())
        if found is None:
            try:
                found = self.customers.get(cells.phone(text, country=self.merchant.country))
            except ValidationError:
                found = None
        if found is None:
            raise ValidationError(
                _("No customer has the national id or phone %(value)s: import the customers first.")
                % {"value": repr(text)}
            )
        return found

    def _product(self, raw: object) -> Product:
        product = self.products.get(cells.text(raw))
        if product is None:
            raise ValidationError(_("No product has the SKU %(sku)s.") % {"sku": repr(cells.text(raw))})
        return product

    def row(self, result: RowResult, read, problem) -> None:
        money = lambda raw: cells.amount(raw, currency=self.currency, language=self.language)  # noqa: E731
        on = lambda raw: cells.day(raw, language=self.language)  # noqa: E731
        reference = read("sale_reference", _text(64), "")
        customer = read("customer", self._customer)
        product = read("product_sku", self._product)
        description = read("description", _text(255), "")
        total = read("total_amount", money)
        down = read("down_payment", money, ZERO)
        count = read("number_of_installments", cells.whole_number)
        frequency = read("frequency", lambda raw: cells.choice(raw, Frequency))
        start = read("start_date", on)
        first_due = read("first_due_date", on)
        method = read(
            "finance_charge_method", lambda raw: cells.choice(raw, FinanceChargeMethod), FinanceChargeMethod.NONE
        )
        rate = read("interest_rate", lambda raw: cells.rate(raw, language=self.language))
        paid = read("paid_so_far", money, ZERO)
        paid_on = read("last_payment_date", on)
        notes = read("notes", cells.text, "")
        result.key = reference
        result.summary = " · ".join(
            part
            for part in (
                reference,
                customer[1] if customer else "",
                money_figure(total, self.currency) if total else "",
            )
            if part
        )[:255]
        if not reference or not self.first_seen(result, "sale_reference", reference):
            return
        present = self.plans.get(reference)
        if present is not None:
            if customer and not result.problems:
                self.compare(
                    result,
                    [
                        ("customer", present["customer_id"], customer[0]),
                        ("total_amount", *_figures(self.currency, present["total_amount"], total)),
                        ("down_payment", *_figures(self.currency, present["down_payment"], down)),
                        ("number_of_installments", present["number_of_installments"], count),
                        ("frequency", present["installment_frequency"], frequency),
                        ("start_date", present["start_date"], start),
                    ],
                )
                for entry in result.problems:
                    if entry["column"] == self.header("customer"):
                        entry["message"] = _("Already present for another customer. Not changed.")
            else:
                result.outcome = Outcome.SKIP
            return
        if paid and paid < 0:
            problem("paid_so_far", _("%(amount)s must not be negative.") % {"amount": paid})
        if paid and paid > 0 and paid_on is None and "last_payment_date" not in _columns_with(result, self):
            problem("last_payment_date", _("Give the date of the last payment: something was paid."))
        if paid_on is not None and start is not None and paid_on < start:
            problem(
                "last_payment_date",
                _("The payment date %(date)s is before the plan started (%(start)s).")
                % {"date": paid_on, "start": start},
            )
        if paid_on is not None and paid_on > self.today:
            problem("last_payment_date", _("The payment date %(date)s is in the future.") % {"date": paid_on})
        if result.problems or customer is None or self.headers.missing:
            return
        item = None
        if product is not None or description:
            item = {"product": product, "description": description, "quantity": 1, "unit_price": total}
        try:
            terms = plan_terms_build(
                merchant=self.merchant,
                items=[item] if item else None,
                total_amount=total,
                down_payment=down,
                number_of_installments=count,
                installment_frequency=frequency,
                start_date=start,
                first_due_date=first_due,
                finance_charge_method=method,
                interest_rate=rate,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    problem(_TERM_COLUMNS.get(name, "total_amount"), message)
            return
        owed = terms.schedule.total_payable - terms.schedule.down_payment
        if paid > owed:
            problem(
                "paid_so_far",
                _("%(paid)s is more than the installments add up to (%(owed)s).")
                % {"paid": money_figure(paid, self.currency), "owed": money_figure(owed, self.currency)},
            )
            return
        result.value = PlanOpening(
            customer_id=customer[0],
            terms=terms,
            installment_frequency=frequency,
            start_date=start,
            sale_reference=reference,
            notes=notes,
            paid_so_far=paid,
            last_payment_date=paid_on if paid > 0 else None,
        )


def _columns_with(result: RowResult, checker: Checker) -> set[str]:
    """The keys of the columns that already have a problem on this row."""
    headers = {entry["column"] for entry in result.problems}
    return {key for key in checker.columns if checker.header(key) in headers}


CHECKERS: dict[str, type[Checker]] = {
    ImportJob.Kind.CUSTOMERS: CustomerChecker,
    ImportJob.Kind.PRODUCTS: ProductChecker,
    ImportJob.Kind.PLANS: PlanChecker,
}


def _figures(currency: str, present: Decimal, given: Decimal | None) -> tuple[str, str]:
    return money_figure(present, currency), money_figure(given, currency) if given is not None else ""
