"""The contract as a PDF (WeasyPrint), in each language: its text, read back with poppler's pdftotext, holds the
customer, the items, the APR and every due date and amount, written as the contract writes them."""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.formats import date_format

from customers.tests.factories import CustomerFactory
from installments.contract import contract_build, contract_pdf
from installments.models import Installment
from installments.services import contract_sign
from installments.tests.factories import plan_make, signature_png
from taqsit.money_format import money_figure, money_html

pytestmark = pytest.mark.django_db

# Directional marks pdftotext writes around right-to-left runs, and the isolates the money filter puts around a
# Latin currency symbol in a right-to-left page: not part of the words.
BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"))
# pdftotext writes a no-break space as a space.
BIDI_MARKS[0xA0] = " "


def shown(amount: Decimal) -> str:
    """The amount as the contract writes it, as pdftotext reads it back."""
    return money_html(amount, "USD").translate(BIDI_MARKS)


SERIAL = "IMEI-356938035643809"
GUARANTORS = {
    "en": {"name": "Omar Haddad", "phone": "+14155550190", "national_id": "G-1001", "relation": "Brother"},
    "ar": {"name": "عمر حداد", "phone": "+14155550190", "national_id": "G-1001", "relation": "أخ"},
    "es": {"name": "Omar Núñez", "phone": "+14155550190", "national_id": "G-1001", "relation": "Hermano"},
}
# A flat 12 % over 12 monthly installments on 1,000.00 is 21.46 % a year (issue 15), as each language writes it.
APR = {"en": "21.46%", "ar": "21.46%", "es": "21,46%"}
CUSTOMERS = {
    "en": ("Amina Haddad", "Samsung Galaxy A15"),
    "ar": ("أمينة حداد", "ثلاجة سامسونج"),
    "es": ("Amina Núñez", "Frigorífico Samsung"),
}


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler reads it, line by line as laid out, without the directional marks."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)  # noqa: S607
    return done.stdout.decode().translate(BIDI_MARKS)


@pytest.fixture
def flat_plan(merchant, owner):
    """1,200.00 cash, 200.00 down, the 1,000.00 financed at a flat 12 % over 12 months from 31 January 2026 (so
    the due dates are clamped to the months' ends), for a customer speaking ``language``."""

    def make(language: str):
        name, item = CUSTOMERS[language]
        customer = CustomerFactory(
            merchant=merchant, name=name, language=language, national_id="29801011234567", address="12 Nile St"
        )
        return plan_make(
            actor=owner,
            customer=customer,
            items=[{"description": item, "quantity": 1, "unit_price": Decimal("1200.00"), "serial_number": SERIAL}],
            guarantors=[GUARANTORS[language]],
            sale_reference="POS-7781",
            total_amount=Decimal("1200.00"),
            down_payment=Decimal("200.00"),
            number_of_installments=12,
            finance_charge_method="flat",
            interest_rate=Decimal("12"),
            start_date=date(2026, 1, 31),
        )

    return make


@pytest.mark.parametrize("language", ["en", "ar", "es"])
def test_the_pdf_holds_the_customer_the_items_and_every_due_date_and_amount(flat_plan, language):
    plan = flat_plan(language)
    contract = contract_build(plan=plan)

    pdf = contract_pdf(contract)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    lines = text.splitlines()
    name, item = CUSTOMERS[language]
    assert contract.language == language
    assert name in text
    assert item in text
    assert "29801011234567" in text
    assert SERIAL in text
    assert GUARANTORS[language]["name"] in text
    assert "POS-7781" in text
    assert contract.context["cost"].apr == Decimal("21.46")
    assert APR[language] in text
    assert contract.text_sha256 in text  # the footer
    rows = list(Installment.objects.current().filter(plan=plan).order_by("number"))
    assert [row.amount_due for row in rows] == [Decimal("93.33")] * 11 + [Decimal("93.37")]
    with translation.override(language):
        for row in rows:
            due = date_format(row.due_date, "SHORT_DATE_FORMAT").translate(BIDI_MARKS)
            # The row's line holds its due date, its amount, its principal and its interest.
            if language == "ar":
                # Arabic writes the date day/month/year right to left, with marks that keep it so: pdftotext,
                # laying the line out as it is seen, reads it from the left (year/month/day).
                due = "/".join(reversed(due.split("/")))
            line = next(line for line in lines if due in line)
            for amount in (row.amount_due, row.principal, row.interest):
                if language == "ar":
                    # pdftotext lays a right-to-left line out visually: the isolated "US$" lands on the other
                    # side of the figure; the figure itself is as the contract writes it.
                    assert money_figure(amount, "USD") in line
                else:
                    assert shown(amount) in line
        if language != "ar":
            assert shown(Decimal("1320.00")) in text  # the credit price


def test_the_arabic_contract_is_written_in_arabic_right_to_left(flat_plan):
    plan = flat_plan("ar")

    text = pdf_text(contract_pdf(contract_build(plan=plan)))

    assert "عقد بيع بالتقسيط" in text
    assert "جدول الدفعات" in text
    assert "Installment sale contract" not in text


def test_the_spanish_contract_is_written_in_spanish(flat_plan):
    text = pdf_text(contract_pdf(contract_build(plan=flat_plan("es"))))

    assert "Contrato de venta a plazos" in text
    assert "Calendario de pagos" in text


def pdf_images(pdf: bytes, path) -> int:
    """How many images the PDF holds (poppler's pdfimages, which reads a file)."""
    path.write_bytes(pdf)
    done = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True)  # noqa: S603, S607
    return len(done.stdout.decode().splitlines()[2:])


def test_the_signed_pdf_carries_the_signature_on_its_line_and_the_hash_and_time_in_its_footer(
    flat_plan, clerk, tmp_path
):
    plan = flat_plan("en")
    unsigned = contract_build(plan=plan)
    contract_sign(actor=clerk, plan=plan, signer="customer", image=signature_png(), text_sha256=unsigned.text_sha256)

    signed = contract_build(plan=plan)
    pdf = contract_pdf(signed)

    assert signed.is_signed is False  # the guarantor has not signed yet
    assert signed.lines[0].signature is not None
    text = pdf_text(pdf)
    assert "Signed on screen on" in text
    assert "signed by Amina Haddad on" in " ".join(text.split())
    assert signed.text_sha256 == unsigned.text_sha256
    assert signed.text_sha256 in text
    assert pdf_images(pdf, tmp_path / "signed.pdf") >= 1  # the signature's PNG (and its transparency mask)
    assert pdf_images(contract_pdf(unsigned), tmp_path / "unsigned.pdf") == 0
