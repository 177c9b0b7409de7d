"""The borrower API's log-in endpoints: a code by phone or e-mail, tokens for the code, self-registration."""

import re

import pytest
from django.core import mail

from auditlog.models import Entry
from customers.models import Customer
from portal.tokens import PortalAccessToken
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db

SENT = {
    "detail": "If this phone or e-mail address is known to the shop, a 6-digit code is on its way. "
    "It works for 10 minutes."
}


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def _post(api_client, path, body, capture):
    with capture(execute=True):
        return api_client.post(f"/api/portal/auth/{path}/", body, format="json")


def test_code_then_token_by_phone(api_client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks):
    response = _post(
        api_client, "code", {"merchant": str(merchant.pk), "phone": "4155550123"}, django_capture_on_commit_callbacks
    )
    assert (response.status_code, response.json()) == (202, SENT)
    code = _code(sms_outbox[0]["body"])
    response = _post(
        api_client,
        "token",
        {"merchant": str(merchant.pk), "phone": "+1 415 555 0123", "code": code},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200, response.json()
    assert PortalAccessToken(response.json()["access"])["customer_id"] == str(customer.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get("/api/portal/me/").json()["name"] == "Amina Haddad"


def test_code_then_token_by_e_mail(api_client, merchant, customer, django_capture_on_commit_callbacks):
    _post(
        api_client,
        "code",
        {"merchant": str(merchant.pk), "email": "amina@example.com"},
        django_capture_on_commit_callbacks,
    )
    code = _code(mail.outbox[0].body)
    response = _post(
        api_client,
        "token",
        {"merchant": str(merchant.pk), "email": "AMINA@example.com", "code": code},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200


def test_an_unknown_phone_gets_the_same_202_and_nothing_is_sent(
    api_client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    response = _post(
        api_client, "code", {"merchant": str(merchant.pk), "phone": "+14155550999"}, django_capture_on_commit_callbacks
    )
    assert (response.status_code, response.json()) == (202, SENT)
    assert sms_outbox == [] and mail.outbox == []


def test_the_code_request_is_checked(api_client, merchant, other_merchant, django_capture_on_commit_callbacks):
    both = _post(
        api_client,
        "code",
        {"merchant": str(merchant.pk), "phone": "+14155550123", "email": "a@example.com"},
        django_capture_on_commit_callbacks,
    )
    assert (both.status_code, both.json()) == (
        400,
        {"phone": ["Give a phone number or an e-mail address (one of them)."]},
    )
    neither = _post(api_client, "code", {"merchant": str(merchant.pk)}, django_capture_on_commit_callbacks)
    assert neither.status_code == 400 and "phone" in neither.json()
    Merchant.objects.filter(pk=other_merchant.pk).update(portal_enabled=False)
    closed = _post(
        api_client,
        "code",
        {"merchant": str(other_merchant.pk), "phone": "+14155550123"},
        django_capture_on_commit_callbacks,
    )
    assert (closed.status_code, closed.json()) == (
        400,
        {"merchant": ["No shop with an open customer portal has this id."]},
    )
    bad_phone = _post(
        api_client, "code", {"merchant": str(merchant.pk), "phone": "12"}, django_capture_on_commit_callbacks
    )
    assert bad_phone.status_code == 400 and list(bad_phone.json()) == ["phone"]


def test_five_wrong_codes_lock_the_phone(
    api_client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "portal_auth_ip": "100/minute",
            "portal_auth_destination": "100/minute",
        },
    }
    _post(
        api_client, "code", {"merchant": str(merchant.pk), "phone": "+14155550123"}, django_capture_on_commit_callbacks
    )
    code = _code(sms_outbox[0]["body"])
    wrong = "000000" if code != "000000" else "111111"
    body = {"merchant": str(merchant.pk), "phone": "+14155550123"}
    for _attempt in range(5):
        response = _post(api_client, "token", {**body, "code": wrong}, django_capture_on_commit_callbacks)
        assert response.status_code == 400
    response = _post(api_client, "token", {**body, "code": code}, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (
        400,
        {"code": ["Too many wrong codes: try again in 15 minutes."]},
    )


def test_the_log_in_endpoints_are_throttled_per_phone(
    api_client, merchant, customer, django_capture_on_commit_callbacks
):
    body = {"merchant": str(merchant.pk), "phone": "+14155550123", "code": "123456"}
    answers = [_post(api_client, "token", body, django_capture_on_commit_callbacks).status_code for _ in range(6)]
    assert answers == [400, 400, 400, 400, 400, 429]


def test_registration_is_refused_where_the_merchant_does_not_allow_it(
    api_client, merchant, django_capture_on_commit_callbacks
):
    body = {"merchant": str(merchant.pk), "name": "Omar Saleh", "phone": "+14155550199"}
    response = _post(api_client, "register", body, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (
        409,
        {"non_field_errors": ["This shop does not take registrations on its portal: ask the shop to register you."]},
    )
    assert Customer.objects.filter(phone="+14155550199").count() == 0


@pytest.fixture
def registering(merchant):
    Merchant.objects.filter(pk=merchant.pk).update(portal_self_registration=True)
    merchant.refresh_from_db()
    return merchant


def test_registration_creates_a_self_registered_customer_after_the_code(
    api_client, registering, sms_outbox, django_capture_on_commit_callbacks
):
    body = {
        "merchant": str(registering.pk),
        "name": " Omar Saleh ",
        "phone": "(415) 555-0199",
        "email": "Omar@Example.com",
        "national_id": "784-1980",
        "language": "ar",
    }
    response = _post(api_client, "register", body, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (202, SENT)
    assert Customer.objects.filter(phone="+14155550199").count() == 0
    (sms,) = sms_outbox
    assert sms["to"] == "+14155550199"
    assert sms["body"].endswith("هو رمزك لدى Viejos Recuerdos. صالح لمدة 10 دقائق؛ لا تشاركه مع أحد.")
    code = _code(sms["body"])
    token = {"merchant": str(registering.pk), "phone": "+14155550199", "code": code, "register": True}
    response = _post(api_client, "token", token, django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.json()
    customer = Customer.objects.get(phone="+14155550199")
    assert (customer.name, customer.email, customer.national_id, customer.language) == (
        "Omar Saleh",
        "omar@example.com",
        "784-1980",
        "ar",
    )
    assert (customer.origin, customer.created_by, customer.merchant) == ("portal", None, registering)
    assert PortalAccessToken(response.json()["access"])["customer_id"] == str(customer.pk)
    # The audit trail credits the customer, from the portal.
    entry = Entry.objects.get(object_type="customers.customer", object_id=str(customer.pk), operation="insert")
    assert (entry.source, entry.actor_customer_id, entry.actor_id, entry.action) == (
        "portal",
        customer.pk,
        None,
        "portal.register",
    )
    assert entry.merchant_id == registering.pk


def test_registering_a_phone_already_a_customers_logs_that_customer_in_and_duplicates_nothing(
    api_client, registering, customer, sms_outbox, django_capture_on_commit_callbacks
):
    body = {"merchant": str(registering.pk), "name": "Someone Else", "phone": "+14155550123"}
    response = _post(api_client, "register", body, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (202, SENT)
    code = _code(sms_outbox[0]["body"])
    token = {"merchant": str(registering.pk), "phone": "+14155550123", "code": code, "register": True}
    response = _post(api_client, "token", token, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert PortalAccessToken(response.json()["access"])["customer_id"] == str(customer.pk)
    assert Customer.objects.filter(merchant=registering).count() == 1
    assert Customer.objects.get(pk=customer.pk).name == "Amina Haddad"


def test_a_national_id_another_customer_has_is_refused_without_naming_them(
    api_client, registering, customer, sms_outbox, django_capture_on_commit_callbacks
):
    Customer.objects.filter(pk=customer.pk).update(national_id="784-1980")
    body = {"merchant": str(registering.pk), "name": "Omar", "phone": "+14155550199", "national_id": "784-1980"}
    assert _post(api_client, "register", body, django_capture_on_commit_callbacks).status_code == 202
    code = _code(sms_outbox[0]["body"])
    token = {"merchant": str(registering.pk), "phone": "+14155550199", "code": code, "register": True}
    response = _post(api_client, "token", token, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["We could not register you with these details: please ask the shop to register you."]},
    )
    assert "Amina" not in response.content.decode()
    assert Customer.objects.filter(phone="+14155550199").count() == 0


def test_registration_details_are_checked_by_name(api_client, registering, django_capture_on_commit_callbacks):
    body = {"merchant": str(registering.pk), "name": "", "phone": "12", "email": "nope", "language": "fr"}
    response = _post(api_client, "register", body, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert sorted(response.json()) == ["email", "language", "name"]
    body = {"merchant": str(registering.pk), "name": "Omar", "phone": "12"}
    response = _post(api_client, "register", body, django_capture_on_commit_callbacks)
    assert (response.status_code, list(response.json())) == (400, ["phone"])


def test_a_login_code_is_no_registration_code(
    api_client, registering, customer, sms_outbox, django_capture_on_commit_callbacks
):
    _post(
        api_client,
        "code",
        {"merchant": str(registering.pk), "phone": "+14155550123"},
        django_capture_on_commit_callbacks,
    )
    code = _code(sms_outbox[0]["body"])
    token = {"merchant": str(registering.pk), "phone": "+14155550123", "code": code, "register": True}
    assert _post(api_client, "token", token, django_capture_on_commit_callbacks).status_code == 400


def test_a_portal_write_is_credited_to_the_customer(api_client, customer, link):
    tokens = api_client.post("/api/portal/auth/link/", {"token": link.token}, format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.patch("/api/portal/me/", {"language": "es"}, format="json").status_code == 200
    entry = Entry.objects.filter(object_type="customers.customer", operation="update").latest("id")
    assert entry.after == {"language": "es"}
    assert (entry.source, entry.actor_customer_id, entry.actor_id, entry.action, entry.role) == (
        "portal",
        customer.pk,
        None,
        "portal.language_set",
        "",
    )
    assert entry.context["merchant"] == str(customer.merchant_id)
    # Using the link is recorded too (its last use), credited to the customer.
    used = Entry.objects.filter(object_type="customers.portallink", operation="update").latest("id")
    assert (used.source, used.customer_id, used.actor_customer_id, used.actor_id) == (
        "portal",
        customer.pk,
        customer.pk,
        None,
    )
    assert list(used.after) == ["last_used_at"]


def test_a_registration_without_a_language_takes_the_shops(
    api_client, registering, sms_outbox, django_capture_on_commit_callbacks
):
    Merchant.objects.filter(pk=registering.pk).update(language="es")
    body = {"merchant": str(registering.pk), "name": "Omar Saleh", "phone": "+14155550199"}
    assert _post(api_client, "register", body, django_capture_on_commit_callbacks).status_code == 202
    assert sms_outbox[0]["body"].endswith(
        "es tu código para Viejos Recuerdos. Vale 10 minutos; no lo compartas con nadie."
    )
    token = {
        "merchant": str(registering.pk),
        "phone": "+14155550199",
        "code": _code(sms_outbox[0]["body"]),
        "register": True,
    }
    assert _post(api_client, "token", token, django_capture_on_commit_callbacks).status_code == 200
    assert Customer.objects.get(phone="+14155550199").language == "es"
