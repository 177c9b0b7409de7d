"""The portal's action pages: a customer applies for a plan (with the live schedule preview) and reports a
transfer with its proof; every refusal is shown on the field it is about and saves nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from auditlog.models import Entry
from customers.portal_links import portal_link_issue
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.tests.factories import ProductFactory, plan_make
from payments.models import Payment, PaymentProof
from payments.tests.reports import EXE, PDF, PNG, TEXT, files_under, upload
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db

APPLY = "/portal/apply/"
PREVIEW = "/portal/apply/preview/"
REPORT = "/portal/report/"
# A portal page: the session, the customer and merchant, the page's own reads (choices), a little to spare.
QUERIES_MAX = 8


@pytest.fixture
def portal(client, customer, link):
    """The test client logged in to ``customer``'s portal by their link."""
    client.get(reverse("portal:link", kwargs={"token": link.token}))
    return client


def _terms(**overrides) -> dict:
    """1000.00 described as a sofa, 100.00 down, 3 monthly installments from 2026-03-10."""
    data = {
        "product": "",
        "description": "Three-seat sofa",
        "total_amount": "1,000.00",
        "down_payment": "100.00",
        "number_of_installments": "3",
        "installment_frequency": "monthly",
        "start_date": "2026-03-10",
    }
    data.update(overrides)
    return data


def _field_errors(response, field: str) -> list[str]:
    return [str(error) for error in response.context["form"].errors.get(field, [])]


# Apply ---------------------------------------------------------------------------------------------------


def test_the_apply_page_offers_the_shops_active_products_with_their_prices(portal, merchant, other_merchant, today):
    ProductFactory(merchant=merchant, name="Sofa", price=Decimal("1000.00"))
    ProductFactory(merchant=merchant, name="Old lamp", price=Decimal("40.00"), is_active=False)
    ProductFactory(merchant=other_merchant, name="Their fridge", price=Decimal("700.00"))
    response = portal.get(APPLY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sofa · $1,000.00" in html
    assert "Old lamp" not in html and "Their fridge" not in html
    assert 'hx-post="/portal/apply/preview/"' in html
    assert "Something else (describe it)" in html


def test_applying_by_description_sends_a_pending_plan_and_home_shows_it_waiting(portal, merchant, customer, today):
    response = portal.post(APPLY, _terms())
    assert response.status_code == 302 and response["Location"] == "/portal/"
    plan = InstallmentPlan.objects.get(customer=customer)
    assert (plan.status, plan.origin, plan.created_by) == ("pending", "portal", None)
    assert (plan.total_amount, plan.down_payment, plan.total_payable) == (
        Decimal("1000.00"),
        Decimal("100.00"),
        Decimal("1000.00"),
    )
    rows = Installment.objects.current().filter(plan=plan).order_by("number")
    assert [(row.due_date, row.amount_due) for row in rows] == [
        (date(2026, 4, 10), Decimal("300.00")),
        (date(2026, 5, 10), Decimal("300.00")),
        (date(2026, 6, 10), Decimal("300.00")),
    ]
    assert list(plan.items.values_list("product", "description", "unit_price")) == [
        (None, "Three-seat sofa", Decimal("1000.00"))
    ]
    assert not Payment.objects.filter(plan=plan).exists()

    home = portal.get("/portal/").content.decode()
    assert f"Your application was sent to {merchant.name}; you will be told when it is approved or rejected." in home
    assert plan.reference in home
    assert "Pending approval" in home
    # In the audit trail as the customer's own doing on the portal.
    entry = Entry.objects.get(object_type="installments.installmentplan", object_id=str(plan.pk), operation="insert")
    assert (entry.source, entry.actor_id, entry.actor_customer_id, entry.action) == (
        "portal",
        None,
        customer.pk,
        "plan.apply",
    )


def test_applying_for_a_product_takes_its_price(portal, merchant, customer, today):
    sofa = ProductFactory(merchant=merchant, name="Sofa", price=Decimal("900.00"))
    response = portal.post(APPLY, _terms(product=str(sofa.pk), description="", total_amount=""))
    assert response.status_code == 302
    plan = InstallmentPlan.objects.get(customer=customer)
    assert (plan.total_amount, plan.installment_amount) == (Decimal("900.00"), Decimal("266.66"))
    assert list(plan.items.values_list("product", "description", "quantity")) == [(sofa.pk, "Sofa", 1)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param(
            {"description": "", "total_amount": "500.00"},
            "description",
            "Describe what you want to buy, or choose a product.",
            id="nothing-described",
        ),
        pytest.param(
            {"down_payment": "1,000.00"},
            "down_payment",
            None,
            id="down-payment-covers-all",
        ),
        pytest.param(
            {"total_amount": "-5.00"},
            "total_amount",
            None,
            id="negative-price",
        ),
        pytest.param(
            {"total_amount": "12abc"},
            "total_amount",
            "Enter an amount such as 1,200.50.",
            id="not-an-amount",
        ),
        pytest.param({"number_of_installments": ""}, "number_of_installments", "This field is required.", id="no-n"),
        pytest.param({"start_date": "1999-01-01"}, "start_date", None, id="start-long-ago"),
    ],
)
def test_a_refused_application_names_its_field_and_saves_nothing(
    portal, customer, today, row_counts, overrides, field, message
):
    before = row_counts()
    response = portal.post(APPLY, _terms(**overrides))
    assert response.status_code == 200
    errors = _field_errors(response, field)
    assert errors, response.context["form"].errors
    if message is not None:
        assert errors == [message]
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert row_counts() == before


def test_another_merchants_product_is_not_a_choice(portal, other_merchant, today, row_counts):
    theirs = ProductFactory(merchant=other_merchant, name="Their fridge", price=Decimal("700.00"))
    before = row_counts()
    response = portal.post(APPLY, _terms(product=str(theirs.pk), description="", total_amount=""))
    assert _field_errors(response, "product") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert row_counts() == before


def test_too_many_open_applications_are_refused_above_the_form(portal, settings, customer, today, row_counts):
    settings.PORTAL_OPEN_APPLICATIONS_MAX = 1
    assert portal.post(APPLY, _terms()).status_code == 302
    before = row_counts()
    response = portal.post(APPLY, _terms())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "You already have 1 application waiting for the shop's answer: wait for it before applying again."
    ]
    assert row_counts() == before


def test_the_preview_is_the_schedule_the_application_gets(portal, today):
    response = portal.post(PREVIEW, _terms(total_amount="1,000.00", down_payment="0"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-preview="total-payable">$1,000.00<' in html
    assert 'data-preview="count">3 × <span class="money" data-preview="installment-amount">$333.33</span>' in html
    assert html.count("<tr><td>") == 3
    assert "$333.34" in html  # the last row takes the rounding difference
    assert "Apr. 10, 2026" in html or "04/10/2026" in html


def test_the_preview_of_a_product_uses_its_price(portal, merchant, today):
    sofa = ProductFactory(merchant=merchant, name="Sofa", price=Decimal("900.00"))
    html = portal.post(PREVIEW, _terms(product=str(sofa.pk), description="", total_amount="")).content.decode()
    assert 'data-preview="total-payable">$900.00<' in html
    assert 'data-preview="installment-amount">$266.66<' in html


def test_the_preview_waits_for_the_terms_and_names_a_bad_field(portal, today):
    empty = portal.post(PREVIEW, _terms(total_amount="", description="", number_of_installments=""))
    assert "Fill in the terms to see the schedule." in empty.content.decode()
    bad = portal.post(PREVIEW, _terms(down_payment="2,000.00")).content.decode()
    assert "The schedule cannot be built yet:" in bad
    assert "<li>Down payment: " in bad


def test_the_preview_needs_a_portal_session_and_a_post(client, portal, owner, today):
    assert portal.get(PREVIEW).status_code == 405
    client.logout()
    client.cookies.clear()
    response = client.post(PREVIEW, _terms())
    assert response.status_code in (302, 403)
    assert "data-preview" not in response.content.decode()
    # A staff session is not a customer.
    client.force_login(owner)
    response = client.post(PREVIEW, _terms())
    assert "data-preview" not in response.content.decode()


def test_the_preview_uses_the_customers_merchant_currency(portal, merchant, today):
    Merchant.objects.filter(pk=merchant.pk).update(currency="KWD")
    html = portal.post(PREVIEW, _terms(total_amount="1,000.000", down_payment="0")).content.decode()
    assert 'data-preview="installment-amount">KWD' in html and "333.333" in html
    assert "333.334" in html


def test_the_apply_page_in_arabic_is_right_to_left(portal, customer, today):
    customer.language = "ar"
    customer.save(update_fields=["language"])
    html = portal.get(APPLY).content.decode()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "طلب خطة" in html


# Report a payment ---------------------------------------------------------------------------------------


@pytest.fixture
def plan(owner, customer):
    """1000.00 with 200.00 down, four monthly installments of 200.00 from 2026-01-15: 800.00 left."""
    return plan_make(actor=owner, customer=customer)


def _report(plan, **overrides) -> dict:
    data = {
        "plan": str(plan.pk),
        "amount": "150.00",
        "payment_date": "2026-02-28",
        "payment_method": "bank_transfer",
        "reference": "TRF-2231",
        "proof": upload(),
    }
    data.update(overrides)
    return data


def test_the_report_page_lists_the_customers_open_plans_and_picks_the_one_asked(portal, owner, customer, plan, today):
    other = CustomerFactory(merchant=customer.merchant, name="Omar Said")
    theirs = plan_make(actor=owner, customer=other)
    pending = plan_make(actor=owner, customer=customer)
    pending.status = "pending"
    pending.save(update_fields=["status"])
    response = portal.get(f"{REPORT}?plan={plan.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{plan.reference} ($800.00 left)" in html
    assert theirs.reference not in html and pending.reference not in html
    assert f'<option value="{plan.pk}" selected>' in html
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'value="2026-03-01"' in html  # the date defaults to the merchant's today
    assert "up to 5 MB" in html


def test_reporting_a_transfer_makes_a_pending_payment_with_its_proof(portal, customer, plan, today):
    response = portal.post(REPORT, _report(plan, proof=upload(PDF, "transfer.pdf", "application/pdf")))
    assert response.status_code == 302 and response["Location"] == "/portal/"
    payment = Payment.objects.get(plan=plan, origin="portal")
    assert (payment.amount, payment.status, payment.payment_method, payment.reference, payment.received_by) == (
        Decimal("150.00"),
        "pending",
        "bank_transfer",
        "TRF-2231",
        None,
    )
    assert (payment.payment_date, payment.payment_number) == (date(2026, 2, 28), 2)
    proof = PaymentProof.objects.get(payment=payment)
    assert (proof.content_type, proof.size, proof.original_name) == ("application/pdf", len(PDF), "transfer.pdf")
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")  # pending: nothing allocated until the shop confirms
    assert "Sent: the shop will confirm it." in portal.get("/portal/").content.decode()
    entry = Entry.objects.get(object_type="payments.payment", object_id=str(payment.pk), operation="insert")
    assert (entry.source, entry.actor_id, entry.actor_customer_id) == ("portal", None, customer.pk)


def test_a_mobile_wallet_payment_in_arabic_digits(portal, customer, plan, today):
    customer.language = "ar"
    customer.save(update_fields=["language"])
    response = portal.post(REPORT, _report(plan, amount="١٥٠٫٥٠", payment_method="mobile_wallet"))
    assert response.status_code == 302
    payment = Payment.objects.get(plan=plan, origin="portal")
    assert (payment.amount, payment.payment_method) == (Decimal("150.50"), "mobile_wallet")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param(
            {"proof": upload(TEXT, "receipt.png", "image/png")},
            "proof",
            "The proof must be a PDF, JPEG, PNG or WebP file.",
            id="text-named-png",
        ),
        pytest.param(
            {"proof": upload(EXE, "receipt.pdf", "application/pdf")},
            "proof",
            "The proof must be a PDF, JPEG, PNG or WebP file.",
            id="exe-named-pdf",
        ),
        pytest.param({"proof": None}, "proof", "This field is required.", id="no-proof"),
        pytest.param({"amount": "900.00"}, "amount", None, id="above-the-balance"),
        pytest.param({"amount": "0"}, "amount", None, id="zero"),
        pytest.param(
            {"payment_date": "2026-03-02"}, "payment_date", "The payment date 2026-03-02 is in the future.", id="future"
        ),
        pytest.param({"payment_method": "cash"}, "payment_method", None, id="cash"),
        pytest.param({"reference": ""}, "reference", "This field is required.", id="no-reference"),
    ],
)
def test_a_refused_report_names_its_field_and_saves_nothing(
    portal, settings, tmp_path, plan, today, row_counts, overrides, field, message
):
    settings.MEDIA_ROOT = tmp_path
    data = _report(plan, **overrides)
    if data["proof"] is None:
        del data["proof"]
    before = row_counts()
    response = portal.post(REPORT, data)
    assert response.status_code == 200
    errors = _field_errors(response, field)
    assert errors, response.context["form"].errors
    if message is not None:
        assert errors == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert row_counts() == before
    assert PaymentProof.objects.count() == 0
    assert files_under(tmp_path) == []


def test_a_proof_too_large_is_refused_naming_the_limit(portal, settings, tmp_path, plan, today, row_counts):
    settings.MEDIA_ROOT = tmp_path
    settings.PAYMENT_PROOF_MAX_BYTES = 1024
    before = row_counts()
    big = upload(PNG + b"\x00" * 2048)
    response = portal.post(REPORT, _report(plan, proof=big))
    assert _field_errors(response, "proof") == ["The proof is larger than 1 KB."]
    assert row_counts() == before and files_under(tmp_path) == []


def test_another_customers_plan_is_not_a_choice(portal, owner, customer, today, row_counts):
    other = CustomerFactory(merchant=customer.merchant, name="Omar Said")
    theirs = plan_make(actor=owner, customer=other)
    before = row_counts()
    response = portal.post(REPORT, _report(theirs))
    assert _field_errors(response, "plan") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert row_counts() == before


def test_a_shop_that_takes_no_transfer_reports_says_so(portal, merchant, plan, today, row_counts):
    Merchant.objects.filter(pk=merchant.pk).update(portal_transfer_reports=False)
    page = portal.get(REPORT)
    assert page.status_code == 403
    html = page.content.decode()
    assert "Payments are not reported here" in html
    assert f"{merchant.name} does not take reports of transfers on this portal" in html
    assert 'href="/portal/report/"' not in html  # nor in the menu
    before = row_counts()
    assert portal.post(REPORT, _report(plan)).status_code == 403
    assert row_counts() == before


def test_with_no_open_plan_there_is_nothing_to_report(portal, today):
    html = portal.get(REPORT).content.decode()
    assert "You have no plan being paid off with this shop" in html
    assert 'id="report-form"' not in html


def test_the_action_pages_need_the_customers_session(client, owner, customer, today):
    for path in (APPLY, REPORT):
        response = client.get(path)
        assert response.status_code in (302, 403)
    client.force_login(owner)
    for path in (APPLY, REPORT):
        response = client.get(path)
        assert response.status_code in (302, 403)
        assert b'id="apply-form"' not in response.content and b'id="report-form"' not in response.content


def test_the_menu_leads_to_both_actions(portal, today):
    html = portal.get("/portal/").content.decode()
    assert 'href="/portal/apply/"' in html and 'href="/portal/report/"' in html


def test_a_customer_of_another_merchant_cannot_report_on_this_merchants_plan(
    client, other_merchant, plan, today, row_counts
):
    stranger = CustomerFactory(merchant=other_merchant, name="Omar Said")
    client.get(reverse("portal:link", kwargs={"token": portal_link_issue(customer=stranger).token}))
    before = row_counts()
    response = client.post(REPORT, _report(plan))
    assert _field_errors(response, "plan") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert row_counts() == before


def test_the_report_page_reads_as_many_queries_for_8_plans_as_for_1(portal, owner, customer, today):
    plan_make(actor=owner, customer=customer)
    with CaptureQueriesContext(connection) as one:
        portal.get(REPORT)
    made = [plan_make(actor=owner, customer=customer) for _ in range(7)]
    with CaptureQueriesContext(connection) as eight:
        response = portal.get(f"{REPORT}?plan={made[-1].pk}")
    assert response.content.decode().count(" left)</option>") == 8
    assert len(eight) == len(one) <= QUERIES_MAX, [query["sql"] for query in eight]


def test_the_apply_page_reads_as_many_queries_for_8_products_as_for_1(portal, merchant, today):
    ProductFactory(merchant=merchant, name="Sofa", price=Decimal("900.00"))
    with CaptureQueriesContext(connection) as one:
        portal.get(APPLY)
    for number in range(7):
        ProductFactory(merchant=merchant, name=f"Sofa {number}", price=Decimal("900.00"))
    with CaptureQueriesContext(connection) as eight:
        response = portal.get(APPLY)
    assert response.content.decode().count(" · $900.00</option>") == 8
    assert len(eight) == len(one) <= QUERIES_MAX, [query["sql"] for query in eight]
