"""The WhatsApp backends: the Cloud API adapter against a local fake of the provider, its reading of the provider's
refusals (permanent or temporary), logging, and configuration."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.channels.whatsapp import (
    HttpWhatsAppBackend,
    LocmemWhatsAppBackend,
    LoggingWhatsAppBackend,
    WhatsAppError,
    language_code,
    template_name,
    whatsapp_backend,
)
from notifications.tests.whatsapp_fake import (
    NOT_ON_WHATSAPP,
    PHONE_NUMBER_ID,
    RATE_LIMITED,
    TEMPLATE_MISSING,
    FakeCloudApi,
    provider_error,
)


@pytest.fixture
def http_settings(settings):
    settings.WHATSAPP_BACKEND = "http"
    settings.WHATSAPP_TOKEN = "EAAG-test-token"
    settings.WHATSAPP_TIMEOUT = 5
    return settings


def test_a_template_message_is_posted_with_bearer_auth(http_settings):
    with FakeCloudApi() as provider:
        http_settings.WHATSAPP_API_URL = provider.url

        message_id = whatsapp_backend().send(
            to="+14155550123",
            template="taqsit_reminder_upcoming",
            language="es",
            parameters=["Viejos Recuerdos", "1", "P-000001", "200,00\xa0US$", "4 de marzo de 2026"],
        )

    assert message_id == "wamid.HBgL0001"
    assert 21000 <= provider.server.server_address[1] < 22000
    (request,) = provider.requests
    assert request["_path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request["_authorization"] == "Bearer EAAG-test-token"
    assert request["_content_type"] == "application/json"
    assert provider.sent() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "14155550123",
            "type": "template",
            "template": {
                "name": "taqsit_reminder_upcoming",
                "language": {"code": "es"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Viejos Recuerdos"},
                            {"type": "text", "text": "1"},
                            {"type": "text", "text": "P-000001"},
                            {"type": "text", "text": "200,00\xa0US$"},
                            {"type": "text", "text": "4 de marzo de 2026"},
                        ],
                    }
                ],
            },
        }
    ]


@pytest.mark.parametrize(
    ("status", "body", "code", "permanent", "message"),
    [
        (
            400,
            NOT_ON_WHATSAPP,
            131026,
            True,
            "The WhatsApp provider answered HTTP 400, error 131026: (#131026) Message undeliverable "
            "Message Undeliverable.",
        ),
        (
            404,
            TEMPLATE_MISSING,
            132001,
            True,
            "The WhatsApp provider answered HTTP 404, error 132001: (#132001) Template name does not exist in the "
            "translation template name (taqsit_x) does not exist in es",
        ),
        (
            400,
            provider_error(100, "Invalid parameter", "Invalid phone number"),
            100,
            True,
            "The WhatsApp provider answered HTTP 400, error 100: (#100) Invalid parameter Invalid phone number",
        ),
        (
            400,
            RATE_LIMITED,
            130429,
            False,
            "The WhatsApp provider answered HTTP 400, error 130429: (#130429) Rate limit hit "
            "Cloud API message throughput has been reached.",
        ),
        (429, None, None, False, "The WhatsApp provider answered HTTP 429: "),
        (
            503,
            provider_error(131026, "Message undeliverable", "Message Undeliverable."),
            131026,
            False,
            "The WhatsApp provider answered HTTP 503, error 131026: (#131026) Message undeliverable "
            "Message Undeliverable.",
        ),
        (500, None, None, False, "The WhatsApp provider answered HTTP 500: "),
    ],
)
def test_a_refusal_says_whether_trying_again_can_help(http_settings, status, body, code, permanent, message):
    with FakeCloudApi() as provider:
        http_settings.WHATSAPP_API_URL = provider.url
        provider.answers.append((status, body))

        with pytest.raises(WhatsAppError) as error:
            whatsapp_backend().send(to="+14155550123", template="taqsit_x", language="en", parameters=["a"])

    assert (str(error.value), error.value.code, error.value.permanent) == (message, code, permanent)


def test_an_unreachable_provider_is_a_temporary_failure(http_settings):
    provider = FakeCloudApi()  # bound but never served, then closed: nothing listens on its port
    url = provider.url
    provider.server.server_close()
    http_settings.WHATSAPP_API_URL = url

    with pytest.raises(WhatsAppError) as error:
        whatsapp_backend().send(to="+14155550123", template="taqsit_x", language="en", parameters=["a"])

    assert str(error.value).startswith("The WhatsApp provider could not be reached: ")
    assert (error.value.code, error.value.permanent) == (None, False)


def test_an_answer_naming_no_message_is_a_temporary_failure(http_settings):
    with FakeCloudApi() as provider:
        http_settings.WHATSAPP_API_URL = provider.url
        provider.answers.append((200, {"messaging_product": "whatsapp"}))

        with pytest.raises(WhatsAppError) as error:
            whatsapp_backend().send(to="+14155550123", template="taqsit_x", language="en", parameters=["a"])

    assert str(error.value) == (
        'The WhatsApp provider\'s answer names no message: b\'{"messaging_product": "whatsapp"}\''
    )
    assert error.value.permanent is False


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("", "t", "WHATSAPP_BACKEND=http needs WHATSAPP_API_URL, an http:// or https:// URL."),
        ("ftp://graph.example.com/", "t", "WHATSAPP_BACKEND=http needs WHATSAPP_API_URL, an http:// or https:// URL."),
        (
            "https://graph.facebook.com/v21.0/1/messages",
            "",
            "WHATSAPP_BACKEND=http needs WHATSAPP_TOKEN, the API's access token.",
        ),
    ],
)
def test_the_http_backend_refuses_an_incomplete_configuration(http_settings, url, token, message):
    http_settings.WHATSAPP_API_URL = url
    http_settings.WHATSAPP_TOKEN = token

    with pytest.raises(ImproperlyConfigured) as error:
        HttpWhatsAppBackend()

    assert str(error.value) == message


def test_the_default_backend_only_logs(settings, caplog):
    settings.WHATSAPP_BACKEND = "logging"
    caplog.set_level(logging.INFO, logger="notifications.channels.whatsapp")

    backend = whatsapp_backend()
    message_id = backend.send(to="+14155550123", template="taqsit_x", language="ar", parameters=["a", "b"])

    assert isinstance(backend, LoggingWhatsAppBackend)
    assert message_id.startswith("log-")
    records = [r.getMessage() for r in caplog.records if r.name == "notifications.channels.whatsapp"]
    assert records == [f"WhatsApp {message_id} to +14155550123: taqsit_x (ar) ['a', 'b']"]


def test_a_backend_by_dotted_path_and_an_unknown_one(settings):
    settings.WHATSAPP_BACKEND = "notifications.channels.whatsapp.LocmemWhatsAppBackend"
    assert isinstance(whatsapp_backend(), LocmemWhatsAppBackend)

    settings.WHATSAPP_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured) as error:
        whatsapp_backend()
    assert str(error.value) == "WHATSAPP_BACKEND 'carrier-pigeon' is not a known backend."


def test_template_names_and_language_codes_follow_the_settings(settings):
    settings.WHATSAPP_TEMPLATES = {"overdue_alert": "shop_overdue"}
    settings.WHATSAPP_LANGUAGE_CODES = {"en": "en_US", "ar": "ar", "es": "es_MX"}

    assert [template_name(key) for key in ("overdue_alert", "payment_receipt_paid_off")] == [
        "shop_overdue",
        "taqsit_payment_receipt_paid_off",
    ]
    assert [language_code(code) for code in ("en", "ar", "es")] == ["en_US", "ar", "es_MX"]
