"""The portal's own way in: the merchant's page, a code by SMS, self-registration; all in the portal's language."""

import re

import pytest

from auditlog.models import Entry
from customers.models import Customer
from portal.auth import SESSION_CUSTOMER
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_a_customer_logs_in_with_a_code(client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks):
    page = client.get(f"/portal/m/{merchant.pk}/")
    assert page.status_code == 200
    assert "Your plans at Viejos Recuerdos" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/m/{merchant.pk}/", {"destination": "415 555 0123"})
    assert response.status_code == 302 and response["Location"] == f"/portal/m/{merchant.pk}/code/"
    page = client.get(response["Location"]).content.decode()
    assert "If this phone or e-mail address is known to the shop" in page
    code = _code(sms_outbox[0]["body"])
    wrong = client.post(f"/portal/m/{merchant.pk}/code/", {"code": "000000" if code != "000000" else "111111"})
    assert "This code is not right, or it has expired" in wrong.content.decode()
    response = client.post(f"/portal/m/{merchant.pk}/code/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.session[SESSION_CUSTOMER] == str(customer.pk)
    assert "Hello, Amina Haddad" in client.get("/portal/").content.decode()


def test_an_unknown_phone_goes_to_the_same_code_page(
    client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/m/{merchant.pk}/", {"destination": "+14155550999"})
    assert response["Location"] == f"/portal/m/{merchant.pk}/code/"
    assert sms_outbox == []
    response = client.post(f"/portal/m/{merchant.pk}/code/", {"code": "123456"})
    assert "This code is not right, or it has expired" in response.content.decode()
    assert SESSION_CUSTOMER not in client.session


def test_a_closed_or_unknown_portal_is_a_404_page(client, merchant):
    Merchant.objects.update(portal_enabled=False)
    response = client.get(f"/portal/m/{merchant.pk}/")
    assert response.status_code == 404 and "This portal is not open" in response.content.decode()
    response = client.get("/portal/m/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_registration_is_a_404_where_not_allowed(client, merchant):
    response = client.get(f"/portal/m/{merchant.pk}/register/")
    assert response.status_code == 404
    assert "Registration is not open" in response.content.decode()
    assert "Register" not in client.get(f"/portal/m/{merchant.pk}/").content.decode()


def test_a_customer_registers_in_arabic(client, merchant, sms_outbox, django_capture_on_commit_callbacks):
    Merchant.objects.update(portal_self_registration=True)
    client.post("/portal/language/", {"language": "ar", "next": f"/portal/m/{merchant.pk}/register/"})
    page = client.get(f"/portal/m/{merchant.pk}/register/").content.decode()
    assert 'lang="ar" dir="rtl"' in page and "سجّل لدى Viejos Recuerdos" in page
    body = {"name": "Omar Saleh", "phone": "4155550199", "email": "", "national_id": "", "language": "ar"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/m/{merchant.pk}/register/", body)
    assert response.status_code == 302 and response["Location"] == f"/portal/m/{merchant.pk}/code/"
    assert not Customer.objects.filter(phone="+14155550199").exists()
    response = client.post(f"/portal/m/{merchant.pk}/code/", {"code": _code(sms_outbox[0]["body"])})
    assert response["Location"] == "/portal/"
    customer = Customer.objects.get(phone="+14155550199")
    assert (customer.origin, customer.language, customer.created_by) == ("portal", "ar", None)
    assert client.session[SESSION_CUSTOMER] == str(customer.pk)
    home = client.get("/portal/").content.decode()
    assert "مرحبًا، Omar Saleh" in home
    entry = Entry.objects.get(object_type="customers.customer", operation="insert")
    assert (entry.source, entry.actor_customer_id, entry.action) == ("portal", customer.pk, "portal.register")


def test_the_register_form_names_each_bad_field(client, merchant):
    Merchant.objects.update(portal_self_registration=True)
    body = {"name": "Omar", "phone": "12", "email": "", "national_id": "", "language": "en"}
    response = client.post(f"/portal/m/{merchant.pk}/register/", body)
    assert response.status_code == 200
    assert "&#x27;12&#x27; is not a valid phone number for US." in response.content.decode()


def test_the_code_page_without_a_code_asked_goes_back(client, merchant):
    response = client.get(f"/portal/m/{merchant.pk}/code/")
    assert response["Location"] == f"/portal/m/{merchant.pk}/"
