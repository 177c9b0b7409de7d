"""The import's services: preview, confirm, idempotence, bad rows named cell by cell, the file formats and the
merchant's conventions."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from imports.downloads import template_file
from imports.models import ImportJob, ImportRow
from imports.services import import_confirm
from installments.models import Installment, InstallmentPlan, Product
from installments.tests.factories import ProductFactory
from payments.models import Payment
from taqsit.models import Merchant
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = ImportJob.Status


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(*rows: list, notes: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if notes:
        workbook.create_sheet("Notes on formats").append(["Name", "The customer's full name."])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rows_of(job: ImportJob) -> list[tuple]:
    return [
        (row.number, row.outcome, row.key, [(p["column"], p["message"]) for p in row.problems])
        for row in ImportRow.objects.filter(job=job).order_by("number")
    ]


CUSTOMERS = csv_bytes(
    "name,phone,national_id,email,language",
    "Amina Haddad,+14155550101,A-1,amina@example.com,ar",
    "Omar Saleh,(415) 555-0102,,omar@example.com,Spanish",
)


def test_customers_are_previewed_then_imported_and_a_second_import_adds_nothing(owner, today, upload, confirm):
    job = upload(owner, "customers", CUSTOMERS)

    assert (job.status, job.total, job.processed, job.to_create) == (Status.READY, 2, 2, 2)
    assert rows_of(job) == [(2, "create", "A-1", []), (3, "create", "+14155550102", [])]
    assert Customer.objects.count() == 0

    job = confirm(owner, job)

    assert (job.status, job.created_count, job.confirmed_by) == (Status.COMPLETED, 2, owner)
    assert sorted(Customer.objects.values_list("name", "phone", "national_id", "language", "created_by")) == [
        ("Amina Haddad", "+14155550101", "A-1", "ar", owner.pk),
        ("Omar Saleh", "+14155550102", "", "es", owner.pk),
    ]
    assert [row[1] for row in rows_of(job)] == ["created", "created"]

    again = confirm(owner, upload(owner, "customers", CUSTOMERS))

    assert (again.status, again.to_skip, again.created_count) == (Status.COMPLETED, 2, 0)
    assert Customer.objects.count() == 2


def test_a_changed_row_with_the_same_key_is_reported_not_overwritten(owner, manager, today, upload, confirm):
    CustomerFactory(merchant=owner.merchant, name="Amina H.", phone="+14155550101", national_id="A-1")

    job = upload(manager, "customers", CUSTOMERS)

    assert rows_of(job) == [
        (
            2,
            "changed",
            "A-1",
            [
                ("name", "Already present with Amina H.; the file says Amina Haddad. Not changed."),
                ("email", "Already present with —; the file says amina@example.com. Not changed."),
                ("language", "Already present with en; the file says ar. Not changed."),
            ],
        ),
        (3, "create", "+14155550102", []),
    ]
    assert (job.status, job.to_create, job.changed, job.errors) == (Status.READY, 1, 1, 0)

    confirm(manager, job)

    assert Customer.objects.get(national_id="A-1").name == "Amina H."
    assert Customer.objects.count() == 2


def test_a_customers_file_with_bad_rows_imports_nothing_and_names_every_bad_cell(owner, today, upload):
    content = csv_bytes(
        "phone,national_id,email",
        "+14155550101,A-1,amina@example.com",
        "12,A-2,not-an-email",
        "+14155550103,A-1,",
    )

    job = upload(owner, "customers", content)

    assert rows_of(job) == [
        (1, "error", "", [("Name", "This column is missing.")]),
        (2, "create", "A-1", []),
        (
            3,
            "error",
            "A-2",
            [
                ("phone", "'12' is not a valid phone number for US."),
                ("email", "Enter a valid email address."),
            ],
        ),
        (4, "error", "A-1", [("national_id", "Row 2 has the same A-1.")]),
    ]
    assert (job.status, job.errors) == (Status.INVALID, 3)
    with pytest.raises(ValidationError) as refusal:
        import_confirm(actor=owner, job=job)
    assert refusal.value.message_dict == {
        "status": ["This import's status is “Has errors”: only an import ready to import can be confirmed."]
    }
    assert Customer.objects.count() == 0


def test_products_from_xlsx_with_the_template_notes_sheet(owner, today, upload, confirm):
    ProductFactory(merchant=owner.merchant, sku="TV-1", name="Television", price=Decimal("450.00"))
    content = xlsx_bytes(["SKU", "Name", "Price"], ["TV-1", "Television", 450], ["FR-2", "Fridge", 1200.5], notes=True)

    job = upload(owner, "products", content, name="products.xlsx")

    assert rows_of(job) == [(2, "skip", "TV-1", []), (3, "create", "FR-2", [])]
    confirm(owner, job)
    assert Product.objects.get(sku="FR-2").price == Decimal("1200.50")


PLANS_HEADER = (
    "sale_reference,customer,product_sku,total_amount,down_payment,number_of_installments,frequency,start_date,"
    "paid_so_far,last_payment_date"
)


@pytest.fixture
def amina(owner):
    return CustomerFactory(merchant=owner.merchant, name="Amina Haddad", phone="+14155550101", national_id="A-1")


def test_a_plans_file_makes_the_ledger_the_services_would_have_made(
    owner, amina, today, upload, confirm, ledger_assert
):
    ProductFactory(merchant=owner.merchant, sku="TV-1", name="Television", price=Decimal("900.00"))
    content = csv_bytes(
        PLANS_HEADER,
        "INV-1,A-1,TV-1,1000.00,200.00,4,monthly,2025-11-15,250.00,2026-01-20",
        "INV-2,+14155550101,,600.00,0,3,monthly,2025-10-01,600.00,2026-01-01",
    )

    job = confirm(owner, upload(owner, "plans", content))

    assert (job.status, job.created_count) == (Status.COMPLETED, 2)
    first, second = InstallmentPlan.objects.order_by("number")
    assert (first.number, first.sale_reference, first.status, first.amount_paid) == (
        1,
        "INV-1",
        "active",
        Decimal("450.000"),
    )
    assert [
        (i.due_date, i.amount_due, i.amount_paid, i.status, i.paid_on) for i in first.installments.order_by("number")
    ] == [
        (date(2025, 12, 15), Decimal("200.000"), Decimal("200.000"), "paid", date(2026, 1, 20)),
        (date(2026, 1, 15), Decimal("200.000"), Decimal("50.000"), "overdue", None),
        (date(2026, 2, 15), Decimal("200.000"), Decimal("0.000"), "overdue", None),
        (date(2026, 3, 15), Decimal("200.000"), Decimal("0.000"), "pending", None),
    ]
    assert first.items.get().product.sku == "TV-1"
    assert list(
        first.payments.order_by("payment_number").values_list(
            "payment_number", "amount", "payment_date", "is_down_payment", "balance_after"
        )
    ) == [
        (1, Decimal("200.000"), date(2025, 11, 15), True, Decimal("800.000")),
        (2, Decimal("250.000"), date(2026, 1, 20), False, Decimal("550.000")),
    ]
    assert (second.status, second.amount_paid, second.remaining_balance) == ("completed", Decimal("600.000"), 0)
    assert not second.installments.exclude(status="paid").exists()
    ledger_assert(first)
    ledger_assert(second)


def test_a_plans_file_with_bad_rows_imports_nothing_and_names_every_bad_cell(owner, amina, today, upload, row_counts):
    before = row_counts()
    content = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,start_date,paid_so_far,last_payment_date",
        "INV-1,A-1,1000.00,4,2025-11-15,,",
        "INV-2,A-1,12x.50,4,2025-11-15,,",
        "INV-3,A-1,1000.00,4,31/31/2025,,",
        "INV-4,B-9,1000.00,4,2025-11-15,,",
        "INV-5,A-1,1000.00,4,2025-11-15,100.00,",
        "INV-1,A-1,1000.00,4,2025-11-15,,",
    )

    job = upload(owner, "plans", content)

    assert rows_of(job) == [
        (1, "error", "", [("Frequency", "This column is missing.")]),
        (2, "create", "INV-1", []),
        (3, "error", "INV-2", [("total_amount", "Enter an amount such as 1,200.50.")]),
        (
            4,
            "error",
            "INV-3",
            [
                ("start_date", "'31/31/2025' is not a date: write it as 2026-01-31 or 01/31/2026."),
            ],
        ),
        (
            5,
            "error",
            "INV-4",
            [
                ("customer", "No customer has the national id or phone 'B-9': import the customers first."),
            ],
        ),
        (6, "error", "INV-5", [("last_payment_date", "Give the date of the last payment: something was paid.")]),
        (7, "error", "INV-1", [("sale_reference", "Row 2 has the same INV-1.")]),
    ]
    assert (job.status, job.to_create, job.errors) == (Status.INVALID, 1, 6)
    assert row_counts() == before


def test_spanish_and_arabic_files_read_amounts_and_dates_their_way(owner, amina, today, upload, confirm):
    spanish = csv_bytes(
        "Referencia de venta;Cliente;Importe total;Entrada;Número de cuotas;Frecuencia;Fecha de inicio",
        "INV-ES;A-1;1.200,50;200,50;4;Mensual;15/11/2025",
    )
    arabic = xlsx_bytes(
        ["sale_reference", "customer", "total_amount", "number_of_installments", "frequency", "start_date"],
        ["INV-AR", "A-1", "١٬٢٠٠٫٥٠", "٤", "monthly", "15/11/2025"],
    )

    spanish_job = upload(owner, "plans", spanish, language="es")
    arabic_job = upload(owner, "plans", arabic, name="plans.xlsx", language="ar")

    assert rows_of(spanish_job) == [(2, "create", "INV-ES", [])]
    assert rows_of(arabic_job) == [(2, "create", "INV-AR", [])]
    confirm(owner, spanish_job)
    confirm(owner, arabic_job)
    plans = dict(InstallmentPlan.objects.values_list("sale_reference", "total_amount"))
    assert plans == {"INV-ES": Decimal("1200.500"), "INV-AR": Decimal("1200.500")}
    assert InstallmentPlan.objects.get(sale_reference="INV-ES").down_payment == Decimal("200.500")
    assert InstallmentPlan.objects.get(sale_reference="INV-AR").start_date == date(2025, 11, 15)


def test_xlsx_dates_and_numbers_are_read_as_the_spreadsheet_stores_them(owner, amina, today, upload, confirm):
    content = xlsx_bytes(
        ["sale_reference", "customer", "total_amount", "number_of_installments", "frequency", "start_date"],
        ["INV-X", 14155550101, 999.99, 3, "quarterly", datetime(2025, 12, 1)],
    )

    job = confirm(owner, upload(owner, "plans", content, name="p.xlsx"))

    plan = InstallmentPlan.objects.get(sale_reference="INV-X")
    assert (job.status, plan.customer, plan.total_amount, plan.installment_frequency, plan.start_date) == (
        Status.COMPLETED,
        amina,
        Decimal("999.990"),
        "quarterly",
        date(2025, 12, 1),
    )


def test_progress_is_recorded_on_the_job(owner, amina, today, upload, confirm, monkeypatch):
    seen = []
    from imports import services

    original = services._progress

    def spy(job, processed, total):
        seen.append((job.status, processed, total))
        original(job, processed, total)

    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(services, "_progress", spy)
    lines = [f"INV-{n},A-1,100.00,2,monthly,2026-01-10" for n in range(5)]
    content = csv_bytes("sale_reference,customer,total_amount,number_of_installments,frequency,start_date", *lines)

    job = confirm(owner, upload(owner, "plans", content))

    assert seen == [
        ("checking", 0, 5),
        ("checking", 2, 5),
        ("checking", 4, 5),
        ("checking", 5, 5),
        ("importing", 0, 5),
        ("importing", 2, 5),
        ("importing", 4, 5),
        ("importing", 5, 5),
    ]
    assert (job.processed, job.total, job.percent) == (5, 5, 100)


def test_a_row_added_between_preview_and_import_is_skipped_not_doubled(owner, amina, today, upload, confirm):
    content = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,frequency,start_date",
        "INV-1,A-1,100.00,2,monthly,2026-01-10",
    )
    first, second = upload(owner, "plans", content), upload(owner, "plans", content)

    confirm(owner, first)
    second = confirm(owner, second)

    assert (second.status, second.created_count, second.to_skip) == (Status.COMPLETED, 0, 1)
    assert InstallmentPlan.objects.count() == 1


def test_an_import_refused_by_the_ledger_leaves_nothing(owner, amina, today, upload, confirm, monkeypatch, row_counts):
    from payments.services import imports

    monkeypatch.setattr(imports, "ledger_problems", lambda plan_ids: {"installments_add_up": 1})
    before = row_counts()
    content = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,frequency,start_date",
        "INV-1,A-1,100.00,2,monthly,2026-01-10",
    )

    job = confirm(owner, upload(owner, "plans", content))

    assert (job.status, job.failure) == (
        Status.FAILED,
        "Nothing was imported: The import would break the ledger (installments_add_up: 1): nothing was imported.",
    )
    assert row_counts() == before
    assert Merchant.objects.get(pk=owner.merchant_id).last_plan_number == 0
    assert [row[1] for row in rows_of(job)] == ["create"]


def test_clerks_and_viewers_may_not_import(clerk, viewer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import import_job_create

    for user in (clerk, viewer):
        with pytest.raises(PermissionDenied):
            import_job_create(actor=user, kind="customers", upload=SimpleUploadedFile("c.csv", CUSTOMERS))


def test_a_file_of_another_format_or_too_large_is_refused_naming_the_field(owner, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import import_job_create

    settings.IMPORT_MAX_BYTES = 10
    cases = [
        (SimpleUploadedFile("c.txt", b"x"), "Choose a CSV or XLSX file (this one is 'c.txt')."),
        (SimpleUploadedFile("c.xlsx", b"name,phone\n"), "The file is 11 bytes; the most an import takes is 10 bytes."),
        (SimpleUploadedFile("c.xlsx", b"name"), "The file's content is not XLSX."),
    ]
    for upload_, message in cases:
        with pytest.raises(ValidationError) as refusal:
            import_job_create(actor=owner, kind="customers", upload=upload_)
        assert refusal.value.message_dict == {"file": [message]}
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "es", "ar"])
@pytest.mark.parametrize("kind", ["customers", "products", "plans"])
def test_each_template_reads_back_as_its_example_row(owner, today, upload, kind, language):
    if kind == "plans":
        CustomerFactory(merchant=owner.merchant, national_id="A1234567")
        ProductFactory(merchant=owner.merchant, sku="TV-55", price=Decimal("10.00"))
    for file_format in ("csv", "xlsx"):
        name, content = template_file(kind=kind, file_format=file_format, language=language)
        assert name == f"taqsit-{kind}-{language}.{file_format}"

        job = upload(owner, kind, content, name=name, language=language)

        assert [(row[0], row[3]) for row in rows_of(job)] == [(2, [])], (file_format, rows_of(job))


def test_another_merchant_cannot_see_or_confirm_a_job(owner, other_owner, today, upload):
    job = upload(owner, "customers", CUSTOMERS)

    with pytest.raises(ImportJob.DoesNotExist):
        import_confirm(actor=other_owner, job=job)
    assert ImportJob.objects.for_merchant(other_owner.merchant).count() == 0


def test_payments_counted_only_once_per_import(owner, amina, today, upload, confirm):
    content = csv_bytes(PLANS_HEADER, "INV-1,A-1,,100.00,10.00,2,weekly,2026-01-01,45.00,2026-01-08")
    confirm(owner, upload(owner, "plans", content))

    assert list(Payment.objects.values_list("payment_number", "amount")) in (
        [(1, Decimal("10.000")), (2, Decimal("45.000"))],
        [(2, Decimal("45.000")), (1, Decimal("10.000"))],
    )
    assert Installment.objects.filter(status="paid").count() == 1


def test_users_of_a_merchant_without_a_country_read_only_international_phones(today, upload):
    merchant = MerchantFactory(country="")
    owner = UserFactory(merchant=merchant, role="owner")
    job = upload(owner, "customers", csv_bytes("name,phone", "Sam,4155550101", "Lina,+14155550102"))

    assert [(row[0], row[1]) for row in rows_of(job)] == [(2, "error"), (3, "create")]


def test_a_plan_present_with_other_terms_is_reported_column_by_column(owner, amina, today, upload, confirm):
    first = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,frequency,start_date",
        "INV-1,A-1,100.00,2,monthly,2026-01-10",
    )
    confirm(owner, upload(owner, "plans", first))
    changed = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,frequency,start_date",
        "INV-1,A-1,120.00,2,weekly,2026-01-10",
    )

    job = upload(owner, "plans", changed)

    assert rows_of(job) == [
        (
            2,
            "changed",
            "INV-1",
            [
                ("total_amount", "Already present with 100.00; the file says 120.00. Not changed."),
                ("frequency", "Already present with monthly; the file says weekly. Not changed."),
            ],
        )
    ]
    assert (job.status, job.to_create) == (Status.READY, 0)


def test_rows_that_no_longer_pass_at_import_time_import_nothing_and_are_shown_again(
    owner, amina, today, upload, confirm, row_counts
):
    content = csv_bytes(
        "sale_reference,customer,total_amount,number_of_installments,frequency,start_date",
        "INV-1,+14155550101,100.00,2,monthly,2026-01-10",
    )
    job = upload(owner, "plans", content)
    Customer.objects.filter(pk=amina.pk).update(phone="+14155550199")
    before = row_counts()

    job = confirm(owner, job)

    assert (job.status, job.failure) == (Status.FAILED, "Rows no longer pass their checks: nothing was imported.")
    assert rows_of(job) == [
        (
            2,
            "error",
            "INV-1",
            [
                ("customer", "No customer has the national id or phone '+14155550101': import the customers first."),
            ],
        )
    ]
    assert row_counts() == before


def test_the_preview_speaks_the_files_language(owner, today, upload):
    job = upload(owner, "customers", csv_bytes("Teléfono", "12"), language="es")

    assert rows_of(job) == [
        (1, "error", "", [("Nombre", "Falta esta columna.")]),
        (2, "error", "", [("Teléfono", "'12' no es un teléfono válido de US.")]),
    ]


def test_a_column_the_file_does_not_have_is_not_reported_as_changed(owner, today, upload):
    CustomerFactory(merchant=owner.merchant, name="Amina Haddad", phone="+14155550101", email="amina@example.com")

    job = upload(owner, "customers", csv_bytes("name,phone", "Amina Haddad,+14155550101"))

    assert rows_of(job) == [(2, "skip", "+14155550101", [])]


def test_a_job_the_worker_gives_up_on_is_not_left_running(owner, amina, today, upload, monkeypatch, row_counts):
    from celery.exceptions import SoftTimeLimitExceeded

    from imports import tasks

    job = upload(owner, "plans", csv_bytes(PLANS_HEADER, "INV-1,A-1,,100.00,0,2,monthly,2026-01-10,,"))
    ImportJob.objects.filter(pk=job.pk).update(status=Status.IMPORTING)

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(tasks, "import_run", too_long)
    before = row_counts()

    with pytest.raises(SoftTimeLimitExceeded):
        tasks.import_run_task(str(job.pk), str(job.merchant_id))

    job.refresh_from_db()
    assert (job.status, job.failure) == (
        Status.FAILED,
        "The file took too long to process: nothing was imported. Split it in parts.",
    )
    assert row_counts() == before
