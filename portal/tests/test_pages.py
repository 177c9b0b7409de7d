"""The portal's pages: a link logs the customer in; home shows their plans; the walls between the customer's
session and the staff's hold both ways."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.portal_links import portal_link_issue, portal_links_revoke
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from portal.auth import SESSION_CUSTOMER, SESSION_EPOCH, SESSION_MERCHANT
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db


def _path(issued) -> str:
    return reverse("portal:link", kwargs={"token": issued.token})


def test_a_link_logs_the_customer_in_and_opens_home(client, customer, link, owner, today):
    plan = plan_make(actor=owner, customer=customer)
    before = client.session.session_key
    response = client.get(_path(link))
    assert response.status_code == 302 and response["Location"] == "/portal/"
    session = client.session
    assert session.session_key != before
    assert session[SESSION_CUSTOMER] == str(customer.pk)
    assert session[SESSION_MERCHANT] == str(customer.merchant_id)
    assert session[SESSION_EPOCH] == 0
    assert "_auth_user_id" not in session

    page = client.get("/portal/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store" or "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "Hello, Amina Haddad" in html
    assert plan.reference in html
    # 1000.00 with 200.00 down (paid at activation), four monthly rows of 200.00 from 15 January: the first
    # (15 February) is unpaid on 1 March.
    assert "Feb. 15, 2026" in html or "02/15/2026" in html
    assert "$800.00" in html  # remaining
    assert "$200.00" in html  # next amount due, and paid (the down payment)


def test_home_shows_only_the_customers_own_plans(client, customer, link, owner, today):
    other = CustomerFactory(merchant=customer.merchant, name="Omar Said")
    theirs = plan_make(actor=owner, customer=other)
    client.get(_path(link))
    html = client.get("/portal/").content.decode()
    assert theirs.reference not in html
    assert "You have no plans with this shop yet." in html


@pytest.mark.parametrize("mangle", ["revoked", "expired", "tampered", "portal_off"])
def test_a_bad_link_is_a_404_page_saying_only_expired_or_not_valid(client, customer, link, mangle, today):
    token = link.token
    if mangle == "revoked":
        portal_links_revoke(customer=customer, actor=None)
    elif mangle == "expired":
        from customers.models import PortalLink

        PortalLink.objects.update(expires_at=link.expires_at.replace(year=2020))
    elif mangle == "tampered":
        token = "A" + token[1:] if token[0] != "A" else "B" + token[1:]
    else:
        Merchant.objects.update(portal_enabled=False)
    response = client.get(reverse("portal:link", kwargs={"token": token}))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link has expired or is not valid" in html
    assert SESSION_CUSTOMER not in client.session


def test_without_a_session_home_sends_to_the_shops_code_page_or_says_to_ask_the_shop(client, customer, link):
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "Your link has expired" in response.content.decode()

    client.get(_path(link))
    portal_links_revoke(customer=customer, actor=None)
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/m/{customer.merchant_id}/"


def test_revoking_ends_an_open_portal_session(client, customer, link):
    client.get(_path(link))
    assert client.get("/portal/").status_code == 200
    portal_links_revoke(customer=customer, actor=None)
    assert client.get("/portal/").status_code == 302


def test_turning_the_portal_off_ends_the_session(client, customer, link):
    client.get(_path(link))
    Merchant.objects.update(portal_enabled=False)
    response = client.get("/portal/")
    assert response.status_code == 403


def test_logout(client, customer, link):
    client.get(_path(link))
    assert "Log out of your portal" in client.get("/portal/logout/").content.decode()
    response = client.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == f"/portal/m/{customer.merchant_id}/"
    assert SESSION_CUSTOMER not in client.session
    assert client.get("/portal/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/customers/", "/plans/", "/customers/new/", "/accounts/password/change/"])
def test_a_portal_session_never_reaches_a_staff_page(client, link, path):
    client.get(_path(link))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_staff_session_is_no_customer(client, clerk, customer):
    client.force_login(clerk)
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "Your link has expired" in response.content.decode()


def test_a_staff_session_in_the_same_browser_is_left_alone(client, clerk, customer, link):
    client.force_login(clerk)
    client.get(_path(link))
    assert client.get("/portal/").status_code == 200
    assert client.get("/customers/").status_code == 200
    client.post("/portal/logout/")
    assert client.get("/customers/").status_code == 200
    assert client.get("/portal/").status_code == 302


def test_a_link_of_merchant_a_opens_only_merchant_as_portal(client, customer, link, other_merchant):
    client.get(_path(link))
    # Merchant B's code page is B's, not a way into A's customer.
    response = client.get(f"/portal/m/{other_merchant.pk}/")
    assert response.status_code == 200
    assert "Send me a code" in response.content.decode()
    assert client.session[SESSION_MERCHANT] == str(customer.merchant_id)
    # The session names A's merchant: a customer id under B's merchant is no customer.
    session = client.session
    session[SESSION_MERCHANT] = str(other_merchant.pk)
    session.save()
    assert client.get("/portal/").status_code == 302


def test_the_portal_speaks_the_customers_language_and_remembers_the_switch(client, customer, link):
    Customer.objects.filter(pk=customer.pk).update(language="ar")
    client.get(_path(link))
    page = client.get("/portal/")
    html = page.content.decode()
    assert 'lang="ar" dir="rtl"' in html
    assert page["Content-Language"] == "ar"
    response = client.post("/portal/language/", {"language": "es", "next": "/portal/"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    html = client.get("/portal/").content.decode()
    assert 'lang="es" dir="ltr"' in html
    assert "Planes" in html or "planes" in html
    # Anything but a portal address is not a place to go back to.
    response = client.post("/portal/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/portal/"
    response = client.post("/portal/language/", {"language": "en", "next": "/customers/"})
    assert response["Location"] == "/portal/"


def test_the_portal_page_is_mobile_first_and_csp_clean(client, customer, link):
    client.get(_path(link))
    html = client.get("/portal/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "/static/css/portal.css" in html
    assert "style=" not in html
    assert "<script>" not in html


def test_a_plan_in_another_currency_is_shown_in_it(client, customer, owner, today):
    Merchant.objects.filter(pk=customer.merchant_id).update(currency="KWD")
    customer.merchant.refresh_from_db()
    plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("100.000"),
        down_payment=Decimal("0"),
        start_date=date(2026, 1, 15),
    )
    client.get(_path(portal_link_issue(customer=customer)))
    html = client.get("/portal/").content.decode()
    assert "100.000" in html
