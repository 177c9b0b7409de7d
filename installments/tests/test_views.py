"""Plan pages: new plan (with inline customer, items, idempotency), live preview, detail, lifecycle actions,
pending applications, and the collections list with its CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.tests.factories import ProductFactory, late_fee_make, plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db
Status = InstallmentPlan.Status


def plan_data(*, customer=None, items=(), token="web-token-1", **terms) -> dict:  # noqa: S107
    data = {
        "token": token,
        "customer": str(customer.pk) if customer else "",
        "total_amount": "",
        "down_payment": "0",
        "installment_frequency": "monthly",
        "number_of_installments": "",
        "installment_amount": "",
        "start_date": "2026-03-01",
        "first_due_date": "",
        "finance_charge_method": "none",
        "interest_rate": "",
        "notes": "",
        "items-TOTAL_FORMS": str(max(len(items), 1)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{index}-{key}"] = value
    data.update(terms)
    return data


def test_a_clerk_creates_a_plan_from_products_and_free_text(client, settings, clerk, customer, merchant, today):
    phone = ProductFactory(merchant=merchant, name="Phone X", price=Decimal("800.00"))
    client = signed_in(client, settings, clerk)
    data = plan_data(
        customer=customer,
        items=[
            {"product": str(phone.pk), "description": "", "quantity": "1", "unit_price": ""},
            {"product": "", "description": "Case", "quantity": "2", "unit_price": "25.00"},
        ],
        down_payment="150.00",
        number_of_installments="6",
        notes="Paid the first day of each month",
    )
    response = client.post(reverse("installments:plan-create"), data, follow=True)
    plan = InstallmentPlan.objects.get(customer=customer)
    assert response.redirect_chain[-1][0] == reverse("installments:plan-detail", args=[plan.pk])
    assert f"Plan {plan.reference} was created." in html(response)
    assert (plan.status, plan.total_amount, plan.down_payment, plan.number_of_installments) == (
        Status.ACTIVE,
        Decimal("850.00"),
        Decimal("150.00"),
        6,
    )
    assert [(item.description, item.quantity, item.unit_price) for item in plan.items.order_by("id")] == [
        ("Phone X", 1, Decimal("800.00")),
        ("Case", 2, Decimal("25.00")),
    ]
    assert list(plan.installments.order_by("number").values_list("amount_due", flat=True)) == [
        Decimal("116.66")
    ] * 5 + [Decimal("116.70")]
    assert plan.created_by == clerk
    assert plan.notes == "Paid the first day of each month"


def test_the_same_form_sent_twice_creates_one_plan(client, settings, clerk, customer):
    client = signed_in(client, settings, clerk)
    data = plan_data(customer=customer, total_amount="600", number_of_installments="3")
    first = client.post(reverse("installments:plan-create"), data)
    second = client.post(reverse("installments:plan-create"), data)
    plan = InstallmentPlan.objects.get(customer=customer)
    assert first["Location"] == second["Location"] == reverse("installments:plan-detail", args=[plan.pk])


def test_a_new_customer_is_signed_up_with_the_plan(client, settings, clerk, merchant):
    client = signed_in(client, settings, clerk)
    data = plan_data(total_amount="300", number_of_installments="3")
    data.update({"new_customer-name": "Hana Ali", "new_customer-phone": "+14155550144", "new_customer-language": "ar"})
    response = client.post(reverse("installments:plan-create"), data)
    hana = Customer.objects.get(name="Hana Ali")
    plan = InstallmentPlan.objects.get(customer=hana)
    assert response["Location"] == reverse("installments:plan-detail", args=[plan.pk])
    assert (hana.merchant, hana.language, plan.total_amount) == (merchant, "ar", Decimal("300.00"))


def test_bad_terms_save_nothing_and_keep_every_input(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    data = plan_data(total_amount="300", down_payment="300", number_of_installments="3", notes="keep me")
    data.update({"new_customer-name": "Hana Ali", "new_customer-phone": "+14155550144", "new_customer-language": "en"})
    response = client.post(reverse("installments:plan-create"), data)
    assert response.status_code == 200
    body = html(response)
    assert "The down payment 300.00 is the whole total 300.00: nothing is left to finance." in body
    assert 'id="id_down_payment_error"' in body
    for kept in ('value="Hana Ali"', 'value="+14155550144"', 'name="total_amount" value="300"', "keep me</textarea>"):
        assert kept in body
    assert 'value="web-token-1"' in body  # the same token: a retry is still one plan
    assert not Customer.objects.filter(name="Hana Ali").exists()
    assert not InstallmentPlan.objects.exists()


def test_a_customer_is_required(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    response = client.post(
        reverse("installments:plan-create"), plan_data(total_amount="300", number_of_installments="3")
    )
    assert "Choose a customer or enter a new one." in html(response)
    assert not InstallmentPlan.objects.exists()


def test_another_merchants_customer_cannot_be_chosen(client, settings, clerk, other_merchant):
    stranger = CustomerFactory(merchant=other_merchant)
    client = signed_in(client, settings, clerk)
    response = client.post(
        reverse("installments:plan-create"),
        plan_data(customer=stranger, total_amount="300", number_of_installments="3"),
    )
    assert response.status_code == 200
    assert "Choose a customer or enter a new one." in html(response)
    assert not InstallmentPlan.objects.exists()


def test_with_approval_required_the_plan_waits_for_a_manager(client, settings, clerk, customer, merchant):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    client = signed_in(client, settings, clerk)
    assert "Send for approval" in html(client.get(reverse("installments:plan-create")))
    response = client.post(
        reverse("installments:plan-create"),
        plan_data(customer=customer, total_amount="300", number_of_installments="3"),
        follow=True,
    )
    plan = InstallmentPlan.objects.get(customer=customer)
    assert plan.status == Status.PENDING
    assert f"Plan {plan.reference} was sent for approval." in html(response)


def test_the_new_plan_page_preselects_the_customer(client, settings, clerk, customer):
    body = html(signed_in(client, settings, clerk).get(reverse("installments:plan-create"), {"customer": customer.pk}))
    assert f'name="customer" value="{customer.pk}"' in body
    assert f"{customer.name} ({customer.phone})" in body
    assert 'hx-post="/plans/preview/"' in body


# Preview -------------------------------------------------------------------------------------------------


def test_the_preview_shows_the_schedule_the_service_builds(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    data = plan_data(total_amount="1000", down_payment="100", number_of_installments="3", start_date="2026-01-31")
    body = html(client.post(reverse("installments:plan-preview"), data))
    assert "<html" not in body
    assert 'data-preview="total-payable">$1,000.00<' in body
    assert 'data-preview="installment-amount">$300.00<' in body
    # Month ends clamp: 28 Feb, 31 Mar, 30 Apr.
    for due in ("02/28/2026", "03/31/2026", "04/30/2026"):
        assert due in body
    assert not InstallmentPlan.objects.exists()


def test_the_preview_with_a_declining_balance_shows_interest_and_principal(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    data = plan_data(
        total_amount="1200",
        number_of_installments="12",
        finance_charge_method="declining_balance",
        interest_rate="12",
    )
    body = html(client.post(reverse("installments:plan-preview"), data))
    # PMT(1%, 12, 1200) = 106.62; the finance charge is the interest column's sum.
    assert 'data-preview="installment-amount">$106.62<' in body
    assert "Interest</th>" in body
    assert "Principal</th>" in body


def test_the_preview_explains_what_is_wrong(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    body = html(
        client.post(reverse("installments:plan-preview"), plan_data(total_amount="abc", number_of_installments="2"))
    )
    assert 'data-preview="errors"' in body
    assert "<li>Cash price: Enter an amount such as 1,200.50.</li>" in body


def test_the_preview_waits_for_the_essentials(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    body = html(client.post(reverse("installments:plan-preview"), plan_data(total_amount="500")))
    assert "Fill in the terms to see the schedule." in body
    assert 'data-preview="errors"' not in body


# Detail and lifecycle ------------------------------------------------------------------------------------


def test_the_detail_shows_the_schedule_with_statuses_payments_and_summary(
    client, settings, owner, clerk, customer, today
):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))  # pays #1 and 50.00 of #2
    body = html(signed_in(client, settings, clerk).get(reverse("installments:plan-detail", args=[plan.pk])))
    schedule = body[body.index('id="schedule-title"') : body.index('id="payments-title"')]
    assert re.findall(r'<span class="badge [^"]+">([^<]+)</span>', schedule) == [
        "Paid",
        "Partially paid",
        "Pending",
        "Pending",
    ]
    assert 'data-summary="remaining">$550.00<' in body
    assert "1 of 4 installments" in body
    assert '<div>#1 Principal: <span class="money">$200.00</span></div>' in body
    assert '<div>#2 Principal: <span class="money">$50.00</span></div>' in body
    assert '<div>Down payment: <span class="money">$200.00</span></div>' in body


def test_the_detail_marks_an_unpaid_past_row_overdue(client, settings, owner, viewer, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    body = html(signed_in(client, settings, viewer).get(reverse("installments:plan-detail", args=[plan.pk])))
    assert 'text-bg-danger">Overdue</span>' in body
    assert body.count('text-bg-light border">Pending</span>') == 3


def test_a_manager_approves_a_pending_plan_after_confirming(client, settings, merchant, clerk, manager, customer):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan = plan_make(actor=clerk, customer=customer)
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-approve", args=[plan.pk])
    confirm = html(client.get(url))
    assert f"Approve plan {plan.reference} for {customer.name}?" in confirm
    plan.refresh_from_db()
    assert plan.status == Status.PENDING  # a GET only asks
    response = client.post(url, follow=True)
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert Payment.objects.filter(plan=plan, is_down_payment=True, amount=Decimal("200.00")).exists()
    assert f"Plan {plan.reference} was approved." in html(response)


def test_rejecting_needs_a_reason(client, settings, merchant, clerk, manager, customer):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan = plan_make(actor=clerk, customer=customer)
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-reject", args=[plan.pk])
    assert "This field is required." in html(client.post(url, {"reason": ""}))
    client.post(url, {"reason": "Income too low"})
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason, plan.decided_by) == (Status.REJECTED, "Income too low", manager)


def test_cancel_and_reschedule(client, settings, owner, manager, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    client = signed_in(client, settings, manager)
    response = client.post(
        reverse("installments:plan-reschedule", args=[plan.pk]),
        {"number_of_installments": "8", "installment_frequency": "monthly", "start_date": "2026-03-01"},
    )
    assert response["Location"] == reverse("installments:plan-detail", args=[plan.pk])
    rows = Installment.objects.filter(plan=plan).current().order_by("number")
    assert [row.amount_due for row in rows] == [Decimal("100.00")] * 8
    assert "Replaced by a reschedule" in html(client.get(response["Location"]))
    client.post(reverse("installments:plan-cancel", args=[plan.pk]), {"reason": "Goods returned"})
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == (Status.CANCELLED, "Goods returned")


def test_an_action_the_status_forbids_is_explained(client, settings, owner, manager, customer):
    plan = plan_make(actor=owner, customer=customer)
    client = signed_in(client, settings, manager)
    response = client.post(reverse("installments:plan-approve", args=[plan.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("installments:plan-detail", args=[plan.pk])
    assert f"Plan {plan.reference} is active: it cannot be approved." in html(response)


def test_pending_applications_oldest_first(client, settings, merchant, owner, clerk, manager, customer):
    active = plan_make(actor=owner, customer=customer)
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    first = plan_make(actor=clerk, customer=customer)
    second = plan_make(actor=clerk, customer=customer)
    body = html(signed_in(client, settings, manager).get(reverse("installments:plan-pending")))
    assert active.reference not in body
    assert body.index(first.reference) < body.index(second.reference)
    assert reverse("installments:plan-approve", args=[first.pk]) in body


def test_the_plan_list_filters_by_status(client, settings, merchant, owner, customer):
    active = plan_make(actor=owner, customer=customer)
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    pending = plan_make(actor=owner, customer=customer)
    client = signed_in(client, settings, owner)
    body = html(client.get(reverse("installments:plan-list"), {"status": "pending"}))
    assert pending.reference in body
    assert active.reference not in body


# Collections ---------------------------------------------------------------------------------------------


# ``overdue_book``: installments/tests/conftest.py


def _rows(body: str) -> list[str]:
    table = body[body.index('id="collections"') :]
    return [name for name in ("Ali", "Badr", "Chadi") for _ in range(table.count(f">{name}</a>"))]


def test_collections_longest_overdue_first_then_largest(client, settings, clerk, overdue_book):
    body = html(signed_in(client, settings, clerk).get(reverse("installments:collections")))
    table = body[body.index('id="collections"') :]
    order = sorted(("Ali", "Badr", "Chadi"), key=lambda name: table.index(f">{name}</a>"))
    assert order == ["Badr", "Chadi", "Ali"]  # 59 days first; at 14 days, 350.00 before 200.00
    assert table.count(">Badr</a>") == 2
    assert 'href="tel:+14155550122"' in table
    ali = overdue_book[0]
    assert f'href="{reverse("payments:payment-create", args=[ali.pk])}"' in table
    assert f'href="{reverse("customers:customer-detail", args=[ali.customer_id])}">Ali</a>' in table
    assert f'href="{reverse("installments:plan-detail", args=[ali.pk])}">{ali.reference}</a>' in table


def test_collections_filters(client, settings, clerk, overdue_book):
    client = signed_in(client, settings, clerk)
    url = reverse("installments:collections")
    assert _rows(html(client.get(url, {"q": "badr"}))) == ["Badr", "Badr"]
    assert _rows(html(client.get(url, {"q": "0133"}))) == ["Chadi"]
    assert _rows(html(client.get(url, {"q": "BÁDR"}))) == ["Badr", "Badr"]  # accents ignored
    assert _rows(html(client.get(url, {"aging": "31-60"}))) == ["Badr"]
    assert _rows(html(client.get(url, {"min_amount": "150"}))) == ["Ali", "Chadi"]
    assert "Nothing is overdue." in html(client.get(url, {"min_amount": "1,000"}))
    assert "Nothing is overdue." in html(client.get(url, {"aging": "90+"}))


def test_collections_rows_as_written(client, settings, clerk, viewer, overdue_book):
    """Each row's cells: the customer's page, the phone to call, the plan and row, the due date, the days
    overdue in a badge of their colour, what is left with the late fee left under it, the payment button for
    who may record one (a viewer may not)."""
    ali, badr, _chadi = overdue_book
    first = Installment.objects.get(plan=ali, number=1)
    late_fee_make(installment=first, period=date(2026, 2, 16), amount=Decimal("15.00"))
    table = html(signed_in(client, settings, clerk).get(reverse("installments:collections")))
    customer_url = reverse("customers:customer-detail", args=[ali.customer_id])
    plan_url = reverse("installments:plan-detail", args=[ali.pk])
    payment_url = reverse("payments:payment-create", args=[ali.pk])
    assert (
        f'<tr><td><a href="{customer_url}">Ali</a></td><td><a href="tel:+14155550111" dir="ltr">+14155550111</a>'
        f'</td><td class="text-nowrap"><a href="{plan_url}">{ali.reference}</a> '
        '<span class="text-body-secondary">#1</span></td><td>02/15/2026</td><td class="text-end"><span '
        'class="badge text-bg-light border">14</span></td><td class="text-end money">$200.00<div class="small '
        'text-danger">+ $15.00 late fee</div></td><td><a class="btn btn-sm btn-primary" '
        f'href="{payment_url}">Record a payment</a></td></tr>'
    ) in table
    assert '<span class="badge text-bg-warning">59</span>' in table
    assert f'href="{reverse("installments:plan-detail", args=[badr.pk])}">{badr.reference}</a>' in table
    read_only = html(signed_in(client, settings, viewer).get(reverse("installments:collections")))
    assert read_only.count("<tr><td>") == 4
    assert "Record a payment" not in read_only


def test_collections_page_queries_do_not_grow_with_its_rows(client, settings, owner, clerk, merchant, today):
    """The page reads its rows, their plans and their customers in a fixed number of queries (the customers in
    one, by id), whether it shows 1 row or 50."""
    client = signed_in(client, settings, clerk)
    url = reverse("installments:collections")
    plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
    client.get(url)  # the session and the user's first reads
    with CaptureQueriesContext(connection) as one_row:
        assert _rows_count(client.get(url)) == 1
    for _ in range(13):  # 4 rows overdue each: 53, the page shows 50
        plan_make(actor=owner, customer=CustomerFactory(merchant=merchant), start_date=date(2025, 10, 15))
    with CaptureQueriesContext(connection) as many_rows:
        assert _rows_count(client.get(url)) == 50
    assert len(many_rows.captured_queries) == len(one_row.captured_queries)
    customer_reads = [query["sql"] for query in many_rows if 'FROM "customers_customer"' in query["sql"]]
    assert len(customer_reads) == 1 and "JOIN" not in customer_reads[0]  # read by id, not joined to the page


def _rows_count(response) -> int:
    assert response.status_code == 200
    return html(response).count("<tr><td>")


def test_collections_csv_is_streamed_with_the_same_filters(client, settings, clerk, overdue_book):
    client = signed_in(client, settings, clerk)
    response = client.get(reverse("installments:collections-csv"), {"q": "badr"})
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="collections-2026-03-01.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "plan",
        "customer",
        "phone",
        "installment",
        "due_date",
        "status",
        "days_overdue",
        "amount_due",
        "amount_paid",
        "remaining",
        "late_fee_due",
        "currency",
    ]
    badr = overdue_book[1]
    assert rows[1:] == [
        [
            badr.reference,
            "Badr",
            "+14155550122",
            "1",
            "2026-01-01",
            "overdue",
            "59",
            "100.00",
            "0.00",
            "100.00",
            "0.00",
            "USD",
        ],
        [
            badr.reference,
            "Badr",
            "+14155550122",
            "2",
            "2026-02-01",
            "overdue",
            "28",
            "100.00",
            "0.00",
            "100.00",
            "0.00",
            "USD",
        ],
    ]


def test_a_name_a_spreadsheet_would_run_is_exported_as_text(client, settings, owner, clerk, merchant, today):
    plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name="=HYPERLINK(1)"))
    response = signed_in(client, settings, clerk).get(reverse("installments:collections-csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_an_unknown_customer_in_the_address_is_ignored(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    for value in ("not-a-uuid", "7a0f8c1e-8f9e-4a47-9f38-0d6c2f1b7e11"):
        response = client.get(reverse("installments:plan-create"), {"customer": value})
        assert response.status_code == 200
        assert 'id="customer-chosen" class="alert alert-secondary py-2 d-none"' in html(response)


def test_the_csv_starts_with_a_byte_order_mark_so_excel_reads_arabic_names(
    client, settings, owner, clerk, merchant, today
):
    plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name="سارة العتيبي"))
    client = signed_in(client, settings, clerk)
    for name in ("installments:collections-csv", "installments:plan-list-csv"):
        body = b"".join(client.get(reverse(name)).streaming_content)
        assert body[:8] == b"\xef\xbb\xbfplan,"
        assert body.count(b"\xef\xbb\xbf") == 1
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[1][1] == "سارة العتيبي"


def _weekly_plan(owner, customer):
    """4 weekly installments of 200.00 from 2026-02-10: due 17 and 24 Feb (overdue on 1 March), 3 and 10 March."""
    return plan_make(actor=owner, customer=customer, installment_frequency="weekly", start_date=date(2026, 2, 10))


def test_the_reschedule_form_starts_from_the_plans_frequency_and_next_due_date(
    client, settings, owner, manager, customer, today
):
    plan = _weekly_plan(owner, customer)

    body = html(signed_in(client, settings, manager).get(reverse("installments:plan-reschedule", args=[plan.pk])))

    assert '<option value="weekly" selected>' in body
    assert re.search(r'name="number_of_installments" value="4"', body)
    assert re.search(r'name="start_date" value="2026-03-01"', body)
    assert re.search(r'name="first_due_date" value="2026-03-03"', body)
    preview = reverse("installments:plan-reschedule-preview", args=[plan.pk])
    assert f'hx-post="{preview}" hx-include="#reschedule-form"' in body


def test_the_reschedule_preview_is_what_the_button_does_and_saves_nothing(
    client, settings, owner, manager, customer, today
):
    from auditlog.models import Entry

    plan = _weekly_plan(owner, customer)
    client = signed_in(client, settings, manager)
    terms = {
        "number_of_installments": "2",
        "installment_frequency": "weekly",
        "start_date": "2026-03-01",
        "first_due_date": "2026-03-03",
    }
    before = (Installment.objects.count(), Entry.objects.count(), InstallmentPlan.objects.get().updated_at)

    body = html(client.post(reverse("installments:plan-reschedule-preview", args=[plan.pk]), terms))

    assert (Installment.objects.count(), Entry.objects.count(), InstallmentPlan.objects.get().updated_at) == before
    shown = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td class=\"text-end money\">([^<]+)</td>", body)
    assert shown == [("1", "03/03/2026", "$400.00"), ("2", "03/10/2026", "$400.00")]

    client.post(reverse("installments:plan-reschedule", args=[plan.pk]), terms)
    rows = Installment.objects.filter(plan=plan).current().order_by("number")
    assert [(row.number, row.due_date, row.amount_due) for row in rows] == [
        (1, date(2026, 3, 3), Decimal("400.000")),
        (2, date(2026, 3, 10), Decimal("400.000")),
    ]


def test_the_reschedule_preview_explains_what_is_wrong(
    client, settings, owner, manager, clerk, other_owner, customer, today
):
    plan = _weekly_plan(owner, customer)
    url = reverse("installments:plan-reschedule-preview", args=[plan.pk])
    body = html(signed_in(client, settings, manager).post(url, {"installment_frequency": "weekly"}))
    assert "<li>Number of installments: This field is required.</li>" in body
    assert "<li>Start date: This field is required.</li>" in body
    assert signed_in(client, settings, clerk).post(url, {}).status_code == 403
    assert signed_in(client, settings, other_owner).post(url, {}).status_code == 404


@pytest.mark.parametrize(("rate", "asked"), [("36", False), ("36.5", True), ("48", True)])
def test_a_rate_above_the_ceiling_asks_for_confirmation(client, settings, clerk, customer, today, rate, asked):
    client = signed_in(client, settings, clerk)
    terms = {"total_amount": "1000", "number_of_installments": "10", "finance_charge_method": "flat"}

    response = client.post(
        reverse("installments:plan-create"), plan_data(customer=customer, interest_rate=rate, **terms)
    )

    if not asked:
        assert response.status_code == 302
        assert InstallmentPlan.objects.get().interest_rate == Decimal(rate)
        return
    body = html(response)
    assert '<input type="checkbox" name="confirm_rate"' in body
    assert f"An annual rate of {rate} % is above 36 %: confirm it is right, or correct it." in body
    assert InstallmentPlan.objects.count() == 0
    confirmed = plan_data(customer=customer, interest_rate=rate, confirm_rate="on", **terms)
    assert client.post(reverse("installments:plan-create"), confirmed).status_code == 302
    assert InstallmentPlan.objects.get().interest_rate == Decimal(rate)


def test_the_rate_ceiling_is_a_setting_and_a_plan_without_a_charge_is_never_asked(
    client, settings, clerk, customer, today
):
    settings.INTEREST_RATE_CONFIRM_ABOVE = "20"
    client = signed_in(client, settings, clerk)
    url = reverse("installments:plan-create")
    terms = {"total_amount": "1000", "number_of_installments": "10"}
    asked = html(
        client.post(url, plan_data(customer=customer, finance_charge_method="flat", interest_rate="24", **terms))
    )
    assert "An annual rate of 24 % is above 20 %" in asked
    # No finance charge: the rate typed is not used, nothing to confirm.
    response = client.post(url, plan_data(customer=customer, finance_charge_method="none", interest_rate="", **terms))
    assert response.status_code == 302
    assert "confirm_rate" not in html(client.get(url))


def test_the_preview_discloses_the_cost_of_credit(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    data = plan_data(total_amount="1000", number_of_installments="12", finance_charge_method="flat", interest_rate="12")
    body = html(client.post(reverse("installments:plan-preview"), data))
    assert 'data-disclosure="cost-of-credit"' in body
    assert re.search(r'>APR</dt><dd[^>]*data-disclosure="apr"[^>]*>21.46%<', body)
    for marker, figure in (
        ("finance-charge", "$120.00"),
        ("amount-financed", "$1,000.00"),
        ("total-of-payments", "$1,120.00"),
        ("cash-price", "$1,000.00"),
        ("credit-price", "$1,120.00"),
    ):
        assert re.search(rf'data-disclosure="{marker}">{re.escape(figure)}<', body), marker


def test_the_plan_page_discloses_the_cost_of_credit_as_the_country_names_it(client, settings, clerk, merchant, owner):
    merchant.country = "ES"
    merchant.save(update_fields=["country"])
    plan = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=Decimal("1000.00"),
        down_payment=Decimal("0"),
        number_of_installments=12,
        finance_charge_method="flat",
        interest_rate=Decimal("12"),
    )
    body = html(signed_in(client, settings, clerk).get(reverse("installments:plan-detail", args=[plan.pk])))
    assert re.search(r'>TAE</dt><dd[^>]*data-disclosure="apr" data-apr="21.46">21.46%<', body)
    assert 'data-disclosure="credit-price">$1,120.00<' in body
