"""What each kind of file holds: its columns, their headers in every language, an example and how to fill them in.

A header is recognised in any of the three languages (or as its key), whatever the case and spacing, so a
template downloaded in Arabic and filled in by a Spanish-speaking clerk is read the same.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from imports.models import ImportJob

Kind = ImportJob.Kind


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    help: Promise
    example: str = ""  # in the template's language: amounts and dates are written as that language writes them
    required: bool = False


# What a template's last column is called: the notes on formats; the importer reads nothing from it.
HELP_KEY = "format_notes"
HELP_LABEL = _("Notes on formats")

_DATE_HELP = _("A date: 2026-01-31 always works; also as the file's language writes it (31/01/2026 in Spanish).")
_AMOUNT_HELP = _(
    "An amount in the merchant's currency, as the file's language writes it: 1200.50 in English and Arabic, "
    "1200,50 in Spanish (thousands separators are allowed: 1,200.50 / 1.200,50)."
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    Kind.CUSTOMERS: (
        Column("name", _("Name"), _("The customer's full name."), "Amina Haddad", required=True),
        Column(
            "phone",
            _("Phone"),
            _(
                "International (+9665...) or local to the merchant's country. Identifies the customer when no "
                "national id is given."
            ),
            "+14155550123",
            required=True,
        ),
        Column("national_id", _("National id"), _("Optional. Identifies the customer when given."), "A1234567"),
        Column("email", _("E-mail"), _("Optional."), "amina@example.com"),
        Column("address", _("Address"), _("Optional."), "12 Palm Street"),
        Column("language", _("Language"), _("en, ar or es (or the language's name); the merchant's by default."), "en"),
        Column("notes", _("Notes"), _("Optional."), ""),
    ),
    Kind.PRODUCTS: (
        Column("sku", _("SKU"), _("The product's code: identifies it."), "TV-55", required=True),
        Column("name", _("Name"), _("The product's name."), "Television 55 inches", required=True),
        Column("price", _("Price"), _AMOUNT_HELP, "1200.50", required=True),
    ),
    Kind.PLANS: (
        Column(
            "sale_reference",
            _("Sale reference"),
            _("The shop's own number for the sale: identifies the plan, so importing the file again adds nothing."),
            "INV-1001",
            required=True,
        ),
        Column(
            "customer",
            _("Customer"),
            _("The customer's national id or phone, as imported with the customers (import them first)."),
            "A1234567",
            required=True,
        ),
        Column("product_sku", _("Product SKU"), _("Optional: the SKU of a product already imported."), "TV-55"),
        Column("description", _("Description"), _("What was sold, when no product is given."), ""),
        Column("total_amount", _("Total amount"), _AMOUNT_HELP, "1200.50", required=True),
        Column("down_payment", _("Down payment"), _AMOUNT_HELP, "200.50"),
        Column("number_of_installments", _("Number of installments"), _("A whole number."), "10", required=True),
        Column(
            "frequency",
            _("Frequency"),
            _("weekly, biweekly, monthly or quarterly (or their names in the file's language)."),
            "monthly",
            required=True,
        ),
        Column("start_date", _("Start date"), _DATE_HELP, "2025-10-15", required=True),
        Column("first_due_date", _("First due date"), format_lazy("{} {}", _("Optional."), _DATE_HELP), ""),
        Column(
            "finance_charge_method",
            _("Finance charge"),
            _("none, flat or declining_balance; none by default."),
            "none",
        ),
        Column("interest_rate", _("Annual interest rate (%)"), _("Optional; with a flat or declining charge."), ""),
        Column(
            "paid_so_far",
            _("Paid so far"),
            _(
                "What the customer has paid on the installments up to now, the down payment not included. It is "
                "recorded as one payment and allocated oldest installment first."
            ),
            "300",
        ),
        Column(
            "last_payment_date",
            _("Last payment date"),
            format_lazy("{} {}", _("The date of the last payment made; needed when something was paid."), _DATE_HELP),
            "2026-01-15",
        ),
        Column("notes", _("Notes"), _("Optional."), ""),
    ),
}


def header_normalize(text: object) -> str:
    """A header as compared: case-folded, accents and Arabic diacritics dropped, spaces and punctuation as one."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", bare.casefold()).strip()


def header_names(column: Column) -> set[str]:
    """Every header ``column`` answers to: its key and its label in each language."""
    names = {header_normalize(column.key)}
    for code, _name in settings.LANGUAGES:
        with override(code):
            names.add(header_normalize(str(column.label)))
    return names


def help_names() -> set[str]:
    names = {header_normalize(HELP_KEY)}
    for code, _name in settings.LANGUAGES:
        with override(code):
            names.add(header_normalize(str(HELP_LABEL)))
    return names


@dataclass(frozen=True)
class HeaderMap:
    """Where each known column is in the file (its index and its header as written), and the required ones
    missing."""

    positions: dict[str, tuple[int, str]]
    missing: list[Column]


def header_map(kind: str, header: list[object]) -> HeaderMap:
    """Recognise the file's header row; unknown columns and the notes column are left unread."""
    lookup = {name: column for column in COLUMNS[kind] for name in header_names(column)}
    positions: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(header):
        column = lookup.get(header_normalize(cell))
        if column is not None and column.key not in positions:
            positions[column.key] = (index, str(cell).strip())
    missing = [column for column in COLUMNS[kind] if column.required and column.key not in positions]
    return HeaderMap(positions=positions, missing=missing)
