"""The portal's reading pages as a customer uses them: home, a plan with its schedule and payments, payments,
receipts and messages, with exact figures; anyone else's rows are 404s; the staff see the portal activity."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from auditlog.models import Entry
from customers.models import Customer
from customers.portal_links import portal_link_issue
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.tests.factories import late_fee_make, plan_make
from notifications.models import Notification
from payments.models import Payment
from payments.services import payment_fail, payment_post
from taqsit.audit import Source

pytestmark = pytest.mark.django_db


def enter(client, customer) -> None:
    """The customer opens a personal link: logged in to the portal on this browser."""
    response = client.get(reverse("portal:link", kwargs={"token": portal_link_issue(customer=customer).token}))
    assert response.status_code == 302


def message(customer, *, subject="Payment due soon", day=date(2026, 2, 14), channel="sms", status="sent"):
    sent_at = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)
    return Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        channel=channel,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=day,
        status=status,
        subject=subject,
        body=f"{subject}: 200.00 on 15 February.\nThank you.",
        send_after=sent_at,
        sent_at=sent_at if status == "sent" else None,
    )


def cell(html: str, attribute: str) -> str:
    """The text of the element carrying ``attribute`` (a data-* marker of the templates)."""
    found = re.search(rf"{attribute}(?:=\"[^\"]*\")?[^>]*>([^<]*)<", html)
    assert found, attribute
    return found.group(1).strip()


@pytest.fixture
def plan(customer, owner, today):
    """1000.00, 200.00 down, four monthly 200.00 from 15 January; 250.00 paid on 20 February: row 1 paid, row 2
    holds 50.00; on 1 March row 2 (due 15 March) is next, nothing overdue."""
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    return plan


# Home ----------------------------------------------------------------------------------------------------------


def test_home_shows_each_plan_with_what_is_next_left_and_progress(client, customer, owner, plan, today):
    late = plan_make(actor=owner, customer=customer, total_amount=Decimal("500.00"), down_payment=Decimal("100.00"))
    enter(client, customer)
    html = client.get("/portal/").content.decode()
    first, second = html.split(f'id="plan-{plan.pk}"')[1], html.split(f'id="plan-{late.pk}"')[1]
    # The plan with 250.00 paid: next is row 2, 150.00 left on it; 450.00 of 1000.00 paid, 550.00 left.
    assert cell(first, "data-next-amount") == "$150.00"
    assert cell(first, "data-next-due") == "03/15/2026"
    assert cell(first, "data-paid") == "$450.00"
    assert cell(first, "data-remaining") == "$550.00"
    assert 'data-progress="45"' in first
    assert "$450.00 paid of $1,000.00" in first
    assert f'href="/portal/plans/{plan.pk}/"' in first
    # The other one: its first 100.00 row was due 15 February: overdue, highlighted.
    assert 'data-overdue="100.00"' in second
    assert "Overdue: $100.00. Please pay as soon as you can." in second
    assert cell(second, "data-remaining") == "$400.00"
    assert "data-overdue" not in first.split('id="plan-')[0]


def test_a_pending_application_says_it_waits_for_approval(client, customer, owner, today):
    pending = plan_make(actor=owner, customer=customer)
    InstallmentPlan.objects.filter(pk=pending.pk).update(status="pending")
    enter(client, customer)
    html = client.get("/portal/").content.decode()
    assert "Waiting for the shop's approval." in html


# A plan --------------------------------------------------------------------------------------------------------


def test_the_plan_page_shows_its_figures_whole_schedule_and_payments(client, customer, plan, today):
    enter(client, customer)
    response = client.get(f"/portal/plans/{plan.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert cell(html, 'data-figure="total"') == "$1,000.00"
    assert cell(html, 'data-figure="down-payment"') == "$200.00"
    assert cell(html, 'data-figure="financed"') == "$800.00"
    assert cell(html, 'data-figure="total-payable"') == "$1,000.00"
    assert cell(html, 'data-figure="paid"') == "$450.00"
    assert cell(html, 'data-figure="remaining"') == "$550.00"
    assert "1 of 4 installments paid" in html
    rows = {int(number): chunk for number, chunk in re.findall(r'data-row="(\d)"(.*?)</tr>', html, re.S)}
    assert sorted(rows) == [1, 2, 3, 4]
    assert [cell(rows[n], 'data-cell="due"') for n in (1, 2, 3, 4)] == ["$200.00"] * 4
    assert [cell(rows[n], 'data-cell="paid"') for n in (1, 2, 3, 4)] == ["$200.00", "$50.00", "$0.00", "$0.00"]
    assert "principal $200.00" in rows[1] and "Paid" in rows[1]
    assert "principal $50.00" in rows[2] and "Partially paid" in rows[2]
    assert "Pending" in rows[3]
    assert "03/15/2026" in rows[2]
    # Its payments: the 250.00 and the down payment, both with a receipt.
    payments = list(Payment.objects.filter(plan=plan).order_by("-payment_number"))
    assert [p.amount for p in payments] == [Decimal("250.00"), Decimal("200.00")]
    for payment in payments:
        assert f'href="/portal/payments/{payment.pk}/receipt/"' in html
    assert "style=" not in html and "<script>" not in html


def test_the_plan_page_is_a_404_for_another_customers_or_merchants_plan(
    client, customer, owner, other_owner, other_merchant, today
):
    theirs = plan_make(actor=owner, customer=CustomerFactory(merchant=customer.merchant))
    elsewhere = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant, phone=customer.phone))
    enter(client, customer)
    assert client.get(f"/portal/plans/{theirs.pk}/").status_code == 404
    assert client.get(f"/portal/plans/{elsewhere.pk}/").status_code == 404
    assert client.get("/portal/plans/not-a-uuid/").status_code == 404


def test_not_logged_in_the_pages_send_to_the_log_in(client, customer, plan, today):
    enter(client, customer)
    client.post("/portal/logout/")
    login = f"/portal/m/{customer.merchant_id}/"
    payment = Payment.objects.filter(plan=plan).first()
    note = message(customer)
    for path in (
        "/portal/",
        f"/portal/plans/{plan.pk}/",
        "/portal/payments/",
        f"/portal/payments/{payment.pk}/receipt/",
        "/portal/messages/",
        f"/portal/messages/{note.pk}/",
    ):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, login), path
    note.refresh_from_db()
    assert note.read_at is None


def test_a_staff_session_sees_no_portal_page(client, clerk, plan, today):
    client.force_login(clerk)
    assert client.get(f"/portal/plans/{plan.pk}/").status_code == 403


def test_the_plan_page_in_arabic_is_right_to_left(client, customer, plan, today):
    Customer.objects.filter(pk=customer.pk).update(language="ar")
    enter(client, customer)
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert 'lang="ar" dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html
    assert ">الجدول</h2>" in html  # Schedule
    assert ">الدفعات</h2>" in html  # Payments
    assert "الأرقام" in html  # Figures
    assert "العودة إلى خططك" in html  # Back to your plans


# Payments and receipts -----------------------------------------------------------------------------------------


def test_payments_page_marks_pending_and_failed_ones(client, customer, owner, plan, today):
    pending = payment_post(
        actor=owner, plan=plan, amount=Decimal("100.00"), payment_date=date(2026, 2, 27), status="pending"
    )
    failed = payment_post(
        actor=owner, plan=plan, amount=Decimal("75.00"), payment_date=date(2026, 2, 26), status="pending"
    )
    payment_fail(actor=owner, payment=failed, reason="The transfer never arrived.")
    enter(client, customer)
    html = client.get("/portal/payments/").content.decode()
    items = dict(re.findall(r'data-payment="([0-9a-f-]+)" data-status="\w+">(.*?)</li>', html, re.S))
    assert list(items) == [str(pending.pk), str(failed.pk)] + [
        str(p.pk) for p in Payment.objects.filter(plan=plan, status="completed").order_by("-payment_date")
    ]
    assert cell(items[str(pending.pk)], 'data-cell="amount"') == "$100.00"
    assert "Waiting for the shop to confirm." in items[str(pending.pk)]
    assert "/receipt/" not in items[str(pending.pk)]
    assert "Not confirmed by the shop: The transfer never arrived." in items[str(failed.pk)]
    assert "/receipt/" not in items[str(failed.pk)]
    assert f"Plan {plan.reference}" in items[str(pending.pk)]


def test_a_receipt_for_a_completed_payment_printable(client, customer, owner, plan, today):
    payment = Payment.objects.get(plan=plan, payment_number=2)
    enter(client, customer)
    response = client.get(f"/portal/payments/{payment.pk}/receipt/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"No. {plan.reference}-2" in html
    assert cell(html, 'data-receipt="amount"') == "$250.00"
    assert 'Total paid on the plan</dt><dd class="col-7 money">$450.00</dd>' in html
    assert cell(html, 'data-receipt="remaining"') == "$550.00"
    assert cell(html, 'data-receipt="installments-paid"') == "1"
    assert "March 15, 2026" in html  # next due
    assert 'media="print"' in html and "data-print" in html
    assert "Principal" in html


def test_no_receipt_for_a_pending_payment_nor_anyone_elses(
    client, customer, owner, other_owner, other_merchant, plan, today
):
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status="pending")
    theirs = plan_make(actor=owner, customer=CustomerFactory(merchant=customer.merchant))
    elsewhere = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    enter(client, customer)
    for payment in (
        pending,
        Payment.objects.get(plan=theirs),
        Payment.objects.get(plan=elsewhere),
    ):
        assert client.get(f"/portal/payments/{payment.pk}/receipt/").status_code == 404


# Messages ------------------------------------------------------------------------------------------------------


def test_messages_list_marks_unread_and_opening_one_reads_it(client, customer, today):
    first = message(customer, subject="Payment due soon")
    second = message(customer, subject="Payment overdue", channel="email")
    message(customer, subject="Not sent yet", status="queued", day=date(2026, 2, 20))
    enter(client, customer)
    html = client.get("/portal/messages/").content.decode()
    assert "Payment due soon" in html and "Payment overdue" in html and "Not sent yet" not in html
    assert html.count('data-read="no"') == 2
    assert 'data-unread="2"' in html
    assert "Mark all read" in html

    response = client.get(f"/portal/messages/{first.pk}/")
    assert response.status_code == 200
    assert "Payment due soon: 200.00 on 15 February.<br>Thank you." in response.content.decode()
    first.refresh_from_db()
    assert first.read_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    entry = Entry.objects.get(object_id=str(first.pk), operation="update")
    assert (entry.source, entry.action, str(entry.actor_customer_id)) == (
        Source.PORTAL,
        "notification.mark_read",
        str(customer.pk),
    )
    assert entry.actor_id is None
    html = client.get("/portal/messages/").content.decode()
    assert html.count('data-read="no"') == 1 and 'data-unread="1"' in html

    assert client.get("/portal/messages/read-all/").status_code == 405
    response = client.post("/portal/messages/read-all/", follow=True)
    assert response.redirect_chain == [("/portal/messages/", 302)]
    assert "1 message marked read." in response.content.decode()
    second.refresh_from_db()
    assert second.read_at is not None


def test_another_customers_message_is_a_404_and_stays_unread(client, customer, other_merchant, today):
    theirs = message(CustomerFactory(merchant=customer.merchant))
    elsewhere = message(CustomerFactory(merchant=other_merchant))
    enter(client, customer)
    for note in (theirs, elsewhere):
        assert client.get(f"/portal/messages/{note.pk}/").status_code == 404
        note.refresh_from_db()
        assert note.read_at is None
    client.post("/portal/messages/read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


# Query counts --------------------------------------------------------------------------------------------------


@pytest.fixture
def busy_customer(customer, owner, today):
    """Three plans with payments (one pending) and five messages."""
    for _ in range(3):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), status="pending")
    for day in range(1, 6):
        message(customer, day=date(2026, 2, day))
    return customer


@pytest.mark.parametrize("page", ["/portal/", "plan", "/portal/payments/", "/portal/messages/", "receipt"])
def test_query_counts_do_not_grow_with_the_rows(client, busy_customer, page, django_assert_max_num_queries):
    enter(client, busy_customer)
    plan = busy_customer.plans.first()
    path = {
        "plan": f"/portal/plans/{plan.pk}/",
        "receipt": f"/portal/payments/{Payment.objects.filter(plan=plan, payment_number=2).get().pk}/receipt/",
    }.get(page, page)
    # Session, customer and merchant; the page's reads (plans + all their rows; or the plan, its rows, its
    # payments; or the payments; or the messages and their count); the menu's unread count.
    with django_assert_max_num_queries(7):
        response = client.get(path)
    assert response.status_code == 200


# The staff side ------------------------------------------------------------------------------------------------


def test_the_staff_customer_page_shows_the_portal_activity(client, customer, manager, viewer, today):
    note = message(customer)
    enter(client, customer)
    client.get(f"/portal/messages/{note.pk}/")
    client.post("/portal/logout/")

    client.force_login(manager)
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    panel = html.split('id="portal-activity"')[1].split("</section>")[0]
    assert 'data-portal-links="1"' in panel
    assert "1 live portal link" in panel
    assert "last used 03/01/2026" in panel
    assert 'data-action="notification.mark_read"' in panel and "Message read" in panel
    assert "Opened the portal with a personal link" in panel
    assert 'data-action="portal.link_issue"' not in panel  # issued by the system, not on the portal

    client.force_login(viewer)  # a role that does not read the audit trail sees the links only
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    panel = html.split('id="portal-activity"')[1].split("</section>")[0]
    assert "1 live portal link" in panel and "Message read" not in panel


# The payoff quote ----------------------------------------------------------------------------------------------


def test_the_plan_page_quotes_what_closes_the_plan_today_or_on_a_day_picked(client, customer, plan, today):
    enter(client, customer)
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert 'name="date" id="id_date" value="2026-03-01"' in html
    # 550.00 left: all principal (no finance charge), no late fee, no rebate rule.
    assert cell(html, 'data-payoff="principal"') == "$550.00"
    assert cell(html, 'data-payoff="interest"') == "$0.00"
    assert cell(html, 'data-payoff="fees"') == "$0.00"
    assert cell(html, 'data-payoff="rebate"') == "$0.00"
    assert cell(html, 'data-payoff="amount"') == "$550.00"
    assert "To pay on March 1, 2026" in html

    html = client.get(f"/portal/plans/{plan.pk}/?date=2026-04-20").content.decode()
    assert "To pay on April 20, 2026" in html
    assert cell(html, 'data-payoff="amount"') == "$550.00"

    html = client.get(f"/portal/plans/{plan.pk}/?date=2025-12-01").content.decode()
    assert 'data-payoff="errors"' in html and 'data-payoff="amount"' not in html
    assert "is before plan" in html
    html = client.get(f"/portal/plans/{plan.pk}/?date=tomorrow").content.decode()
    assert 'data-payoff="errors"' in html and "Enter a valid date." in html


def test_a_closed_plan_has_no_payoff_quote(client, customer, owner, today):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("800.00"), payment_date=date(2026, 2, 20))
    enter(client, customer)
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert "Completed" in html
    assert 'id="payoff"' not in html
    assert cell(html, 'data-figure="remaining"') == "$0.00"


def test_a_receipt_message_opens_its_plan_and_receipt(client, customer, plan, today):
    payment = Payment.objects.get(plan=plan, payment_number=2)
    note = message(customer, subject="Payment received")
    Notification.objects.filter(pk=note.pk).update(kind="payment_receipt", plan=plan, payment=payment)
    enter(client, customer)
    html = client.get(f"/portal/messages/{note.pk}/").content.decode()
    assert f'href="/portal/plans/{plan.pk}/"' in html
    assert f'href="/portal/payments/{payment.pk}/receipt/"' in html


def test_the_pages_speak_spanish(client, customer, plan, today):
    Customer.objects.filter(pk=customer.pk).update(language="es")
    enter(client, customer)
    html = client.get("/portal/").content.decode()
    assert 'lang="es" dir="ltr"' in html
    assert "Próximo pago" in html and "Calendario y pagos" in html
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert "Precio total" in html and "Liquidar todo" in html
    html = client.get("/portal/messages/").content.decode()
    assert "Mensajes de la tienda" in html


def test_interest_and_late_fees_show_on_the_figures_rows_and_payoff(client, customer, owner, today):
    # 800.00 financed at a flat 12 % a year over four months: 32.00 of interest, 8.00 on each row of 208.00.
    plan = plan_make(actor=owner, customer=customer, finance_charge_method="flat", interest_rate=Decimal("12"))
    late_fee_make(
        installment=Installment.objects.get(plan=plan, number=1), period=date(2026, 2, 20), amount=Decimal("10.00")
    )
    # 100.00 goes to the late fee (10.00), then row 1's interest (8.00), then its principal (82.00).
    payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), payment_date=date(2026, 2, 25))
    enter(client, customer)
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert cell(html, 'data-figure="finance-charge"') == "$32.00"
    assert cell(html, 'data-figure="total-payable"') == "$1,032.00"
    assert cell(html, 'data-figure="late-fees"') == "$10.00"
    assert cell(html, 'data-figure="paid"') == "$300.00"
    assert cell(html, 'data-figure="remaining"') == "$742.00"
    row = re.search(r'data-row="1"(.*?)</tr>', html, re.S).group(1)
    assert cell(row, 'data-cell="due"') == "$208.00"
    assert cell(row, 'data-cell="paid"') == "$90.00"
    assert "principal $82.00 · interest $8.00 · late fee $10.00 of $10.00" in " ".join(row.split())
    # Closing on 1 March: the principal left (718.00), all the interest not paid (24.00), no fee left.
    assert cell(html, 'data-payoff="principal"') == "$718.00"
    assert cell(html, 'data-payoff="interest"') == "$24.00"
    assert cell(html, 'data-payoff="fees"') == "$0.00"
    assert cell(html, 'data-payoff="amount"') == "$742.00"


def test_the_plan_page_discloses_the_cost_of_credit_in_the_customers_language(client, customer, owner, today):
    # 800.00 financed at a flat 12 % a year over four months: 32.00 of finance charge, 19.05 % a year.
    plan = plan_make(actor=owner, customer=customer, finance_charge_method="flat", interest_rate=Decimal("12"))
    Customer.objects.filter(pk=customer.pk).update(language="ar")
    enter(client, customer)
    html = client.get(f"/portal/plans/{plan.pk}/").content.decode()
    assert re.search(r">معدل النسبة السنوي</dt><dd[^>]*data-disclosure=\"apr\" data-apr=\"19.05\">", html)
    assert 'data-disclosure="amount-financed"' in html and 'data-disclosure="total-of-payments"' in html
    assert "تكلفة الائتمان" in html
