"""WhatsApp as a channel, end to end against a local fake of the Cloud API: which channel a customer's phone gets,
template messages in the customer's language with the SMS text's values, the SMS sent instead when a number is not
on WhatsApp or the provider reports a permanent failure, temporary failures retried, and the provider's signed
status webhook (delivered, read, failed), for the message's own merchant only.

The clock is frozen at 2026-03-01 12:00 UTC; the merchant "Viejos Recuerdos" (USD, UTC) reminds 3 days ahead and
uses WhatsApp, without quiet hours. Plans are 1000.00 with 200.00 down and four monthly rows of 200.00.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.messages import TEMPLATES, WHATSAPP_PARAMETERS, whatsapp_parameters
from notifications.models import Notification, NotificationSettings
from notifications.services import (
    customer_channels,
    notification_deliver,
    notifications_dispatch,
    notifications_requeue,
    payment_receipt_notify,
    phone_channel_for,
    reminders_queue,
)
from notifications.tests.whatsapp_fake import RATE_LIMITED, FakeCloudApi
from payments.services import payment_post
from taqsit.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Channel = Notification.Channel
Status = Notification.Status
Delivery = Notification.DeliveryStatus
SECRET = "app-secret-of-the-test"
WEBHOOK = "/hooks/whatsapp/"


@pytest.fixture
def provider(settings):
    with FakeCloudApi() as fake:
        settings.WHATSAPP_BACKEND = "http"
        settings.WHATSAPP_API_URL = fake.url
        settings.WHATSAPP_TOKEN = "EAAG-test-token"
        settings.WHATSAPP_APP_SECRET = SECRET
        settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
        settings.WHATSAPP_TIMEOUT = 5
        yield fake


@pytest.fixture
def policy(merchant):
    return NotificationSettings.objects.create(
        merchant=merchant, whatsapp_enabled=True, quiet_hours_start=None, quiet_hours_end=None
    )


def _reminder_for(owner, customer, *, first_due: date = date(2026, 3, 4)) -> Notification:
    plan_make(actor=owner, customer=customer, first_due_date=first_due)
    reminders_queue(merchant=customer.merchant, day=DAY)
    return Notification.objects.get(customer=customer, channel__in=[Channel.WHATSAPP, Channel.SMS])


def _deliver_all(django_capture_on_commit_callbacks) -> int:
    """Hand out what is due and run the deliveries (eager tasks) after the commit, as a worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        return notifications_dispatch()


def _parameters(request: dict) -> list[str]:
    (component,) = request["template"]["components"]
    return [parameter["text"] for parameter in component["parameters"]]


# Which channel --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sms", "whatsapp", "phone_channel", "preferred", "sms_opt_out", "expected"),
    [
        (True, False, "whatsapp", "", False, "sms"),  # WhatsApp off: SMS, whatever the default
        (True, False, "whatsapp", "whatsapp", False, "sms"),  # preferred, but not allowed by the merchant
        (True, True, "whatsapp", "", False, "whatsapp"),  # the merchant's default
        (True, True, "sms", "", False, "sms"),
        (True, True, "sms", "whatsapp", False, "whatsapp"),  # the customer's choice over the merchant's default
        (True, True, "whatsapp", "sms", False, "sms"),
        (True, True, "whatsapp", "sms", True, "whatsapp"),  # prefers SMS but opted out of it
        (False, True, "whatsapp", "sms", False, "whatsapp"),  # SMS off
        (True, False, "whatsapp", "", True, None),  # opted out of the only phone channel
        (False, False, "whatsapp", "", False, None),
    ],
)
def test_a_customers_phone_gets_one_channel_chosen_by_merchant_and_customer(
    owner, merchant, sms, whatsapp, phone_channel, preferred, sms_opt_out, expected
):
    policy = NotificationSettings.objects.create(
        merchant=merchant, sms_enabled=sms, whatsapp_enabled=whatsapp, phone_channel=phone_channel, email_enabled=True
    )
    customer = CustomerFactory(
        merchant=merchant, email="amina@example.com", preferred_channel=preferred, sms_opt_out=sms_opt_out
    )
    plan_make(actor=owner, customer=customer, first_due_date=date(2026, 3, 4))

    reminders_queue(merchant=merchant, day=DAY)

    queued = set(Notification.objects.filter(customer=customer).values_list("channel", flat=True))
    assert queued == {"email"} | ({expected} if expected else set())
    # The reminders' SQL and the decisions' and receipts' Python choose alike.
    assert phone_channel_for(customer=customer, policy=policy) == expected
    assert set(customer_channels(customer=customer, policy=policy)) == queued


# Template messages --------------------------------------------------------------------------------------------


def test_each_templates_parameters_are_the_sms_texts_fields_in_order():
    sms_fields = {}
    for kind, parts in TEMPLATES.items():
        for part, text in parts.items():
            if part.startswith("sms"):
                key = kind + part.removeprefix("sms")
                sms_fields[key] = tuple(name for _, name, _, _ in string.Formatter().parse(str(text)) if name)

    assert {key: fields for key, fields in sms_fields.items() if key != "guarantor_overdue"} == WHATSAPP_PARAMETERS
    assert whatsapp_parameters(
        kind="plan_rejected",
        fields={"merchant": "Viejos Recuerdos", "plan": "P-000001", "amount": "$1.00", "reason": ""},
    ) == ["Viejos Recuerdos", "P-000001", "$1.00", "-"]


def test_reminders_go_as_templates_in_the_customers_language_with_the_sms_values(
    owner, merchant, policy, provider, django_capture_on_commit_callbacks
):
    english = CustomerFactory(merchant=merchant, name="Amina Haddad", language="en", phone="+14155550101")
    arabic = CustomerFactory(merchant=merchant, name="سارة", language="ar", phone="+14155550102")
    spanish = CustomerFactory(merchant=merchant, name="Lucía", language="es", phone="+14155550103")
    for customer in (english, arabic, spanish):
        plan_make(actor=owner, customer=customer, first_due_date=date(2026, 3, 4))
    assert reminders_queue(merchant=merchant, day=DAY) == 3

    assert _deliver_all(django_capture_on_commit_callbacks) == 3

    assert {request["_authorization"] for request in provider.requests} == {"Bearer EAAG-test-token"}
    sent = {request["to"]: request for request in provider.requests}
    assert {to: (r["type"], r["template"]["name"], r["template"]["language"]["code"]) for to, r in sent.items()} == {
        "14155550101": ("template", "taqsit_reminder_upcoming", "en"),
        "14155550102": ("template", "taqsit_reminder_upcoming", "ar"),
        "14155550103": ("template", "taqsit_reminder_upcoming", "es"),
    }
    assert {to: _parameters(request) for to, request in sent.items()} == {
        "14155550101": ["Viejos Recuerdos", "1", "P-000001", "$200.00", "March 4, 2026"],
        "14155550102": ["Viejos Recuerdos", "1", "P-000002", "\u200f200.00\xa0US$", "4 مارس 2026"],
        "14155550103": ["Viejos Recuerdos", "1", "P-000003", "200,00\xa0US$", "4 de marzo de 2026"],
    }
    message = Notification.objects.get(customer=spanish)
    assert (message.channel, message.status, message.attempts, message.sent_at) == (
        Channel.WHATSAPP,
        Status.SENT,
        1,
        NOON,
    )
    assert (message.delivery_status, message.delivery_status_at) == (Delivery.SENT, NOON)
    assert message.provider_id.startswith("wamid.HBgL")
    assert (message.template, message.template_parameters) == (
        "taqsit_reminder_upcoming",
        ["Viejos Recuerdos", "1", "P-000003", "200,00\xa0US$", "4 de marzo de 2026"],
    )
    # What the customer reads, as the SMS says it (the shop's list and the portal show it).
    assert (
        message.body
        == "Viejos Recuerdos: la cuota 1 del plan P-000003, por 200,00\xa0US$, vence el 4 de marzo de 2026."
    )


def test_a_receipt_goes_as_its_template_with_the_values_of_when_it_was_written(owner, customer, policy, provider):
    plan = plan_make(actor=owner, customer=customer, first_due_date=date(2026, 3, 4))
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=DAY)

    assert payment_receipt_notify(payment=payment) == 1
    message = Notification.objects.get(payment=payment)
    assert (message.channel, message.template) == (Channel.WHATSAPP, "taqsit_payment_receipt")
    parameters = [
        "Viejos Recuerdos",
        "$200.00",
        "March 1, 2026",
        "Cash",
        "P-000001",
        "$600.00",
        "$200.00",
        "April 4, 2026",
    ]
    assert message.template_parameters == parameters

    assert notification_deliver(notification_id=message.pk).status == Status.SENT

    (request,) = provider.requests
    assert (request["template"]["name"], request["template"]["language"]["code"], _parameters(request)) == (
        "taqsit_payment_receipt",
        "en",
        parameters,
    )


# An SMS instead -----------------------------------------------------------------------------------------------


def test_a_number_not_on_whatsapp_gets_the_same_reminder_by_sms_once(
    owner, customer, policy, provider, sms_outbox, django_capture_on_commit_callbacks
):
    provider.not_on_whatsapp.add(customer.phone.removeprefix("+"))
    message = _reminder_for(owner, customer)

    assert _deliver_all(django_capture_on_commit_callbacks) == 1

    message.refresh_from_db()
    assert (message.channel, message.status, message.attempts, message.last_error) == (
        Channel.WHATSAPP,
        Status.FAILED,
        1,  # a permanent refusal is not tried again
        "WhatsAppError: The WhatsApp provider answered HTTP 400, error 131026: (#131026) Message undeliverable "
        "Message Undeliverable.",
    )
    assert len(provider.requests) == 1
    fallback = message.fallback
    assert (fallback.channel, fallback.kind, fallback.status, fallback.installment_id, fallback.day) == (
        Channel.SMS,
        Notification.Kind.REMINDER_UPCOMING,
        Status.SENT,
        message.installment_id,
        DAY,
    )
    text = "Viejos Recuerdos: installment 1 of plan P-000001, $200.00, is due on March 4, 2026."
    assert sms_outbox == [{"to": customer.phone, "body": text, "id": "locmem-1"}]
    assert fallback.body == text

    # Nothing goes twice: another dispatch, the failed message "sent again" from the admin.
    assert _deliver_all(django_capture_on_commit_callbacks) == 0
    assert notifications_requeue(notifications=Notification.objects.all()) == 0
    assert (len(provider.requests), len(sms_outbox), Notification.objects.count()) == (1, 1, 2)


def test_no_sms_instead_when_the_customer_opted_out_of_sms(
    owner, merchant, policy, provider, sms_outbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(merchant=merchant, sms_opt_out=True)
    provider.not_on_whatsapp.add(customer.phone.removeprefix("+"))
    _reminder_for(owner, customer)

    _deliver_all(django_capture_on_commit_callbacks)

    assert list(Notification.objects.values_list("channel", "status")) == [(Channel.WHATSAPP, Status.FAILED)]
    assert sms_outbox == []


def test_a_temporary_failure_is_retried_and_no_sms_goes(owner, customer, policy, provider, sms_outbox):
    message = _reminder_for(owner, customer)
    provider.answers.append((400, RATE_LIMITED))

    first = notification_deliver(notification_id=message.pk)

    assert (first.status, first.retry_in) == (Status.QUEUED, 60)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        Status.QUEUED,
        1,
        "WhatsAppError: The WhatsApp provider answered HTTP 400, error 130429: (#130429) Rate limit hit "
        "Cloud API message throughput has been reached.",
    )

    assert notification_deliver(notification_id=message.pk).status == Status.SENT

    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id) == (Status.SENT, 2, "wamid.HBgL0001")
    assert [request["to"] for request in provider.requests] == [customer.phone.removeprefix("+")] * 2
    assert provider.sent()[0] == provider.sent()[1]
    assert sms_outbox == []
    assert Notification.objects.count() == 1


def test_temporary_failures_to_the_last_attempt_send_the_sms_instead(
    owner, customer, policy, provider, sms_outbox, django_capture_on_commit_callbacks
):
    message = _reminder_for(owner, customer)
    provider.answers.extend([(503, None)] * 3)

    with django_capture_on_commit_callbacks(execute=True):
        results = [notification_deliver(notification_id=message.pk).status for _ in range(3)]

    assert results == [Status.QUEUED, Status.QUEUED, Status.FAILED]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.fallback.status) == (Status.FAILED, 3, Status.SENT)
    assert [sms["to"] for sms in sms_outbox] == [customer.phone]


# The status webhook -------------------------------------------------------------------------------------------


def _status(provider_id: str, status: str, timestamp: int, errors: list | None = None) -> dict:
    item = {"id": provider_id, "status": status, "timestamp": str(timestamp), "recipient_id": "14155552671"}
    if errors is not None:
        item["errors"] = errors
    return item


def _hook_body(*statuses: dict, phone_number_id: str = "106540352242922") -> bytes:
    """A status webhook's body as the provider sends it."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": phone_number_id,
                                },
                                "statuses": list(statuses),
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(WEBHOOK, data=body, content_type="application/json", **headers)


@pytest.fixture
def sent_message(owner, customer, policy, provider) -> Notification:
    message = _reminder_for(owner, customer)
    notification_deliver(notification_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.SENT, "wamid.HBgL0001")
    return message


def test_the_subscription_check_echoes_the_challenge_for_the_verify_token(api_client, provider):
    ok = api_client.get(
        WEBHOOK, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    )

    assert (ok.status_code, ok["Content-Type"], ok.content) == (200, "text/plain", b"1158201444")
    for query in (
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ):
        refused = api_client.get(WEBHOOK, query)
        assert (refused.status_code, refused.content) == (403, b"Forbidden")


def test_no_verify_token_configured_refuses_every_check(api_client, settings):
    settings.WHATSAPP_VERIFY_TOKEN = ""

    response = api_client.get(WEBHOOK, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})

    assert response.status_code == 403


def test_delivered_then_read_are_recorded_with_the_providers_times(api_client, sent_message):
    delivered, read = 1772370060, 1772370300  # 13:01 and 13:05 UTC
    body = _hook_body(_status("wamid.HBgL0001", "delivered", delivered), _status("wamid.HBgL0001", "read", read))

    response = _post(api_client, body, _signed(body))

    assert (response.status_code, response.json()) == (200, {"recorded": 2})
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.delivery_status, sent_message.delivery_status_at) == (
        Status.SENT,
        Delivery.READ,
        datetime(2026, 3, 1, 13, 5, tzinfo=UTC),
    )

    # A late "delivered" (webhooks come in any order) does not take "read" back.
    late = _hook_body(_status("wamid.HBgL0001", "delivered", delivered + 1))
    assert _post(api_client, late, _signed(late)).status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == Delivery.READ


SIGNATURES = {
    "missing": lambda body: None,
    "empty": lambda body: "",
    "no digest": lambda body: "sha256=",
    "another secret": lambda body: _signed(body, secret="another-secret"),
    "another body": lambda body: _signed(body + b" "),
    "sha1 label": lambda body: _signed(body).replace("sha256=", "sha1="),
    "upper-case digest of another body": lambda body: _signed(b"{}").upper(),
}


@pytest.mark.parametrize("signature", SIGNATURES)
def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(api_client, sent_message, signature):
    body = _hook_body(_status("wamid.HBgL0001", "read", 1772370300))

    response = _post(api_client, body, SIGNATURES[signature](body))

    assert (response.status_code, response.content) == (403, b"Forbidden")
    sent_message.refresh_from_db()
    assert (sent_message.delivery_status, sent_message.delivery_status_at) == (Delivery.SENT, NOON)


def test_no_app_secret_configured_refuses_every_post(api_client, sent_message, settings):
    settings.WHATSAPP_APP_SECRET = ""
    body = _hook_body(_status("wamid.HBgL0001", "read", 1772370300))

    assert _post(api_client, body, _signed(body, secret="")).status_code == 403


def test_a_permanent_failure_reported_later_sends_the_reminder_by_sms_once(
    api_client, sent_message, customer, sms_outbox, django_capture_on_commit_callbacks
):
    errors = [
        {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
        }
    ]
    body = _hook_body(_status("wamid.HBgL0001", "failed", 1772370060, errors))

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the provider may send the same webhook again
            assert _post(api_client, body, _signed(body)).status_code == 200

    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.delivery_status, sent_message.delivery_status_at) == (
        Status.SENT,
        Delivery.FAILED,
        datetime(2026, 3, 1, 13, 1, tzinfo=UTC),
    )
    assert sent_message.last_error == (
        "The WhatsApp provider reported error 131026: Message undeliverable Message Undeliverable."
    )
    assert sent_message.fallback.status == Status.SENT
    assert sms_outbox == [
        {
            "to": customer.phone,
            "body": "Viejos Recuerdos: installment 1 of plan P-000001, $200.00, is due on March 4, 2026.",
            "id": "locmem-1",
        }
    ]


def test_a_temporary_failure_reported_later_sends_the_message_again(
    api_client, sent_message, provider, sms_outbox, django_capture_on_commit_callbacks
):
    errors = [{"code": 131000, "title": "Something went wrong"}]
    body = _hook_body(_status("wamid.HBgL0001", "failed", 1772370060, errors))

    assert _post(api_client, body, _signed(body)).status_code == 200

    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.delivery_status, sent_message.dispatched_at) == (
        Status.QUEUED,
        Delivery.FAILED,
        None,
    )
    assert _deliver_all(django_capture_on_commit_callbacks) == 1
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.attempts, sent_message.provider_id, sent_message.delivery_status) == (
        Status.SENT,
        2,
        "wamid.HBgL0002",
        Delivery.SENT,
    )
    assert (len(provider.requests), sms_outbox) == (2, [])


def test_unknown_message_ids_and_other_events_are_ignored_with_200(api_client, sent_message):
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {"value": {"statuses": [_status("wamid.unknown", "read", 1772370300), {"status": "read"}]}},
                        {"value": {"messages": [{"from": "14155552671", "id": "wamid.in", "type": "text"}]}},
                        "not an object",
                    ]
                }
            ],
        }
    ).encode()

    response = _post(api_client, body, _signed(body))

    assert (response.status_code, response.json()) == (200, {"recorded": 0})
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == Delivery.SENT


def test_a_signed_body_that_is_not_json_is_a_400(api_client, provider):
    body = b"not json"

    response = _post(api_client, body, _signed(body))

    assert (response.status_code, response.json()) == (400, {"detail": "The body is not JSON."})


def test_a_status_reaches_only_the_merchant_of_the_message_it_names(api_client, sent_message, other_merchant, provider):
    """Two merchants' messages in one body (one WhatsApp number serves the platform): each status updates the
    message its id names, for that message's merchant, whatever else the body says."""
    other_owner = UserFactory(merchant=other_merchant, role="owner", username="other-owner")
    NotificationSettings.objects.create(
        merchant=other_merchant, whatsapp_enabled=True, quiet_hours_start=None, quiet_hours_end=None
    )
    theirs = _reminder_for(other_owner, CustomerFactory(merchant=other_merchant))
    notification_deliver(notification_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.provider_id == "wamid.HBgL0002"
    body = _hook_body(_status("wamid.HBgL0002", "read", 1772370300), phone_number_id=str(sent_message.merchant_id))

    assert _post(api_client, body, _signed(body)).json() == {"recorded": 1}

    theirs.refresh_from_db()
    sent_message.refresh_from_db()
    assert (theirs.delivery_status, sent_message.delivery_status) == (Delivery.READ, Delivery.SENT)


def test_the_webhook_is_throttled_per_address(api_client, provider, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "whatsapp_webhook": "2/minute"},
    }
    body = _hook_body()

    statuses = [_post(api_client, body, _signed(body)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_the_provider_needs_no_csrf_token_nor_session(sent_message):
    """The provider has no CSRF cookie: a client that enforces the checks, as a browser's request would be, is
    let in on the signature alone, and nothing sets a session."""
    strict = APIClient(enforce_csrf_checks=True)
    body = _hook_body(_status("wamid.HBgL0001", "delivered", 1772370060))

    response = _post(strict, body, _signed(body))

    assert (response.status_code, response.json()) == (200, {"recorded": 1})
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
