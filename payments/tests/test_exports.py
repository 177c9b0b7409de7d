"""CSV exports of plans, payments and installments (the collections list), from the pages and the API: exact
content, the lists' filters and tenancy, a constant number of queries whatever the number of rows."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.exports import INSTALLMENT_HEADER, PLAN_HEADER
from installments.tests.factories import plan_make
from payments.exports import PAYMENT_HEADER
from payments.models import Payment
from payments.services import payment_post, payment_refund
from taqsit.tests.pages import signed_in

pytestmark = pytest.mark.django_db

D = Decimal
PLANS_API = "/api/installments/plans/export/"
PAYMENTS_API = "/api/installments/payments/export/"
INSTALLMENTS_API = "/api/installments/installments/export/"


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    # A UTF-8 byte order mark first, once: Excel then reads Arabic names as written.
    assert body.startswith(b"\xef\xbb\xbfplan,") or body.startswith(b"\xef\xbb\xbfnumber,")
    assert body.count(b"\xef\xbb\xbf") == 1
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def shop(merchant, owner, manager, customer, other_merchant, other_owner, today):
    """Seen on 2026-03-01: P-000001 (Amina Haddad, 1000.00, 200.00 down, 4 x 200.00 monthly from 15 Jan) with
    250.00 paid on 20 Feb; P-000002 ("=Badr", 500.00, 100.00 down, 4 x 100.00 due 1 Dec, 1 Jan, 1 Feb, 1 Mar)
    whose 150.00 was refunded. Another merchant has a plan and a payment of its own."""
    first = plan_make(actor=owner, customer=customer)
    payment_post(
        actor=owner,
        plan=first,
        amount=D("250.00"),
        payment_date=date(2026, 2, 20),
        payment_method="card",
        reference="RCPT-9",
    )
    second = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name="=Badr", phone="+14155550122"),
        total_amount=D("500.00"),
        down_payment=D("100.00"),
        start_date=date(2025, 11, 1),
    )
    refunded = payment_post(actor=owner, plan=second, amount=D("150.00"))
    payment_refund(actor=manager, payment=refunded, reason="Goods returned.")
    theirs = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant, name="Stranger"))
    payment_post(actor=other_owner, plan=theirs, amount=D("30.00"))
    return {"first": first, "second": second}


def plan_line(plan, status, amount_paid, remaining, phone) -> list[str]:
    return [
        plan.reference,
        plan.customer.name.replace("=", "'=", 1),
        phone,
        status,
        "2026-03-01",
        plan.start_date.isoformat(),
        plan.due_date.isoformat(),
        "monthly",
        "4",
        str(plan.total_amount.quantize(D("0.01"))),
        str(plan.down_payment.quantize(D("0.01"))),
        "0.00",
        str(plan.total_payable.quantize(D("0.01"))),
        "0.00",  # apr: no finance charge
        "0.00",
        amount_paid,
        remaining,
        "USD",
        plan.sale_reference,
        " ".join(item.serial_number for item in plan.items.order_by("id") if item.serial_number),
    ]


# Plans ---------------------------------------------------------------------------------------------------


def test_the_plan_list_page_exports_its_plans_with_its_filter(client, settings, clerk, shop, customer):
    client = signed_in(client, settings, clerk)

    response = client.get(reverse("installments:plan-list-csv"))

    assert response["Content-Disposition"] == 'attachment; filename="plans-2026-03-01.csv"'
    first, second = shop["first"], shop["second"]
    assert rows_of(response) == [
        list(PLAN_HEADER),
        plan_line(second, "active", "100.00", "400.00", "+14155550122"),
        plan_line(first, "active", "450.00", "550.00", customer.phone),
    ]
    assert rows_of(client.get(reverse("installments:plan-list-csv"), {"status": "completed"})) == [list(PLAN_HEADER)]
    assert [row[0] for row in rows_of(client.get(reverse("installments:plan-list-csv"), {"status": "active"}))] == [
        "plan",
        "P-000002",
        "P-000001",
    ]


def test_the_plan_list_page_links_to_its_export_with_its_filter(client, settings, viewer, shop):
    body = signed_in(client, settings, viewer).get(reverse("installments:plan-list"), {"status": "active"})
    assert f'href="{reverse("installments:plan-list-csv")}?status=active" download' in body.content.decode()


def test_the_plans_api_exports_with_the_lists_filters_search_and_ordering(api_client, viewer, shop, customer):
    api_client.force_authenticate(viewer)
    first, second = shop["first"], shop["second"]

    everything = rows_of(api_client.get(PLANS_API, {"ordering": "number"}))
    by_customer = rows_of(api_client.get(PLANS_API, {"customer": str(second.customer_id)}))
    searched = rows_of(api_client.get(PLANS_API, {"search": "amina", "ordering": "-number"}))
    none = rows_of(api_client.get(PLANS_API, {"total_min": "5000"}))

    assert everything == [
        list(PLAN_HEADER),
        plan_line(first, "active", "450.00", "550.00", customer.phone),
        plan_line(second, "active", "100.00", "400.00", "+14155550122"),
    ]
    assert [row[0] for row in by_customer] == ["plan", "P-000002"]
    assert [row[0] for row in searched] == ["plan", "P-000001"]
    assert none == [list(PLAN_HEADER)]


# Payments ------------------------------------------------------------------------------------------------


def test_the_payments_api_exports_every_payment_with_its_reversal(api_client, viewer, shop, customer):
    api_client.force_authenticate(viewer)

    response = api_client.get(PAYMENTS_API)

    assert response["Content-Disposition"] == 'attachment; filename="payments-2026-03-01.csv"'
    assert rows_of(response) == [
        list(PAYMENT_HEADER),
        [
            "P-000002",
            "2",
            "'=Badr",
            "2026-03-01",
            "150.00",
            "cash",
            "refunded",
            "no",
            "",
            "owner",
            "2026-03-01T12:00:00+00:00",
            "Goods returned.",
            "USD",
            "0.00",  # charity_fee
            "0.00",  # rebate
        ],
        [
            "P-000001",
            "2",
            "Amina Haddad",
            "2026-02-20",
            "250.00",
            "card",
            "completed",
            "no",
            "RCPT-9",
            "owner",
            "",
            "",
            "USD",
            "0.00",  # charity_fee
            "0.00",  # rebate
        ],
        [
            "P-000001",
            "1",
            "Amina Haddad",
            "2026-01-15",
            "200.00",
            "cash",
            "completed",
            "yes",
            "",
            "owner",
            "",
            "",
            "USD",
            "0.00",  # charity_fee
            "0.00",  # rebate
        ],
        [
            "P-000002",
            "1",
            "'=Badr",
            "2025-11-01",
            "100.00",
            "cash",
            "completed",
            "yes",
            "",
            "owner",
            "",
            "",
            "USD",
            "0.00",
            "0.00",
        ],
    ]


def test_the_payments_api_export_honours_the_lists_filters(api_client, viewer, shop):
    api_client.force_authenticate(viewer)

    def numbers(**query) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in rows_of(api_client.get(PAYMENTS_API, query))[1:]]

    assert numbers(status="refunded") == [("P-000002", "2")]
    assert numbers(date_from="2026-01-01", date_to="2026-02-28") == [("P-000001", "2"), ("P-000001", "1")]
    assert numbers(plan=str(shop["second"].pk), ordering="payment_number") == [("P-000002", "1"), ("P-000002", "2")]
    assert numbers(is_down_payment="true", ordering="amount") == [("P-000002", "1"), ("P-000001", "1")]
    assert numbers(search="RCPT") == [("P-000001", "2")]


def test_a_bad_filter_is_a_400_naming_it_even_when_csv_is_asked_for(api_client, viewer, shop):
    api_client.force_authenticate(viewer)

    response = api_client.get(PAYMENTS_API, {"date_from": "yesterday"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"date_from": ["Enter a valid date."]}


def test_an_export_answers_csv_whatever_the_accept_header(api_client, viewer, shop):
    api_client.force_authenticate(viewer)
    for accept in ("text/csv", "application/json", "*/*"):
        assert rows_of(api_client.get(PAYMENTS_API, HTTP_ACCEPT=accept))[0] == list(PAYMENT_HEADER)


# Installments and the collections list -------------------------------------------------------------------


def test_the_installments_api_exports_the_collections_list(api_client, viewer, shop):
    api_client.force_authenticate(viewer)

    response = api_client.get(INSTALLMENTS_API, {"status": "overdue"})

    # P-000002's refund re-opened its first three installments: 90, 59 and 28 days overdue; #4 is due today.
    assert response["Content-Disposition"] == 'attachment; filename="installments-2026-03-01.csv"'
    assert rows_of(response) == [
        list(INSTALLMENT_HEADER),
        [
            "P-000002",
            "'=Badr",
            "+14155550122",
            "1",
            "2025-12-01",
            "overdue",
            "90",
            "100.00",
            "0.00",
            "100.00",
            "0.00",
            "USD",
        ],
        [
            "P-000002",
            "'=Badr",
            "+14155550122",
            "2",
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
            "P-000002",
            "'=Badr",
            "+14155550122",
            "3",
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


def test_the_installments_api_export_honours_the_lists_filters(api_client, viewer, shop, customer):
    api_client.force_authenticate(viewer)

    rows = rows_of(api_client.get(INSTALLMENTS_API, {"plan": str(shop["first"].pk)}))
    due_soon = rows_of(api_client.get(INSTALLMENTS_API, {"due_after": "2026-03-01", "due_before": "2026-04-01"}))

    phone = customer.phone
    assert rows[1:] == [
        ["P-000001", "Amina Haddad", phone, "1", "2026-02-15", "paid", "0", "200.00", "200.00", "0.00", "0.00", "USD"],
        [
            "P-000001",
            "Amina Haddad",
            phone,
            "2",
            "2026-03-15",
            "partially_paid",
            "0",
            "200.00",
            "50.00",
            "150.00",
            "0.00",
            "USD",
        ],
        [
            "P-000001",
            "Amina Haddad",
            phone,
            "3",
            "2026-04-15",
            "pending",
            "0",
            "200.00",
            "0.00",
            "200.00",
            "0.00",
            "USD",
        ],
        [
            "P-000001",
            "Amina Haddad",
            phone,
            "4",
            "2026-05-15",
            "pending",
            "0",
            "200.00",
            "0.00",
            "200.00",
            "0.00",
            "USD",
        ],
    ]
    assert [(row[0], row[3]) for row in due_soon[1:]] == [("P-000002", "4"), ("P-000001", "2")]


# Tenancy and roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PLANS_API, PAYMENTS_API, INSTALLMENTS_API])
def test_another_merchants_rows_are_never_exported(api_client, shop, other_owner, url):
    api_client.force_authenticate(other_owner)

    rows = rows_of(api_client.get(url))

    assert {row[0] for row in rows[1:]} == {"P-000001"}  # its own plan, numbered 1 in its own sequence
    assert all("Stranger" in row for row in rows[1:])
    assert not any("Amina Haddad" in row or "'=Badr" in row for row in rows)


def test_another_merchants_plans_are_not_in_the_page_export(client, settings, shop, other_owner):
    rows = rows_of(signed_in(client, settings, other_owner).get(reverse("installments:plan-list-csv")))
    assert [row[1] for row in rows[1:]] == ["Stranger"]


@pytest.mark.parametrize("url", [PLANS_API, PAYMENTS_API, INSTALLMENTS_API])
def test_strangers_and_platform_admins_export_nothing(api_client, shop, superuser, url):
    assert api_client.get(url).status_code == 401
    api_client.force_authenticate(superuser)
    assert api_client.get(url).status_code == 404


# Query counts --------------------------------------------------------------------------------------------


def _count(client, url: str, query: dict | None = None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        rows = rows_of(client.get(url, query or {}))
    return len(queries), len(rows) - 1


def test_every_export_runs_the_same_number_of_queries_for_2_rows_as_for_20(
    client, settings, api_client, merchant, owner, clerk, today
):
    page = signed_in(client, settings, clerk)
    api_client.force_authenticate(clerk)
    exports = (
        (page, reverse("installments:plan-list-csv"), None),
        (page, reverse("installments:collections-csv"), None),
        (api_client, PLANS_API, None),
        (api_client, PAYMENTS_API, None),
        (api_client, INSTALLMENTS_API, {"status": "overdue"}),
    )
    counts = {}
    for size in (2, 20):
        while Payment.objects.filter(merchant=merchant, is_down_payment=False).count() < size:
            plan = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
            payment_post(actor=owner, plan=plan, amount=D("10.00"))
        counts[size] = {url: _count(client, url, query) for client, url, query in exports}
    # Every export grew tenfold (2 plans -> 20; 4 payments -> 40; 2 overdue installments -> 20) ...
    assert {url: rows for url, (_queries, rows) in counts[2].items()} == {
        reverse("installments:plan-list-csv"): 2,
        reverse("installments:collections-csv"): 2,
        PLANS_API: 2,
        PAYMENTS_API: 4,
        INSTALLMENTS_API: 2,
    }
    assert {url: rows for url, (_queries, rows) in counts[20].items()} == {
        reverse("installments:plan-list-csv"): 20,
        reverse("installments:collections-csv"): 20,
        PLANS_API: 20,
        PAYMENTS_API: 40,
        INSTALLMENTS_API: 20,
    }
    # ... with the same queries.
    assert {url: queries for url, (queries, _rows) in counts[20].items()} == {
        url: queries for url, (queries, _rows) in counts[2].items()
    }
