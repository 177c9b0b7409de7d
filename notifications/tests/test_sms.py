"""The SMS backends: the Twilio-style HTTP adapter against a local stub provider, logging, and configuration."""

from __future__ import annotations

import base64
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.channels.sms import (
    HttpSmsBackend,
    LocmemSmsBackend,
    LoggingSmsBackend,
    SmsError,
    sms_backend,
)
from notifications.tests.sms_stub import StubSmsProvider


@pytest.fixture
def http_settings(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_API_USER = "AC1"
    settings.SMS_API_TOKEN = "secret-token"
    settings.SMS_FROM = "+15005550006"
    settings.SMS_TIMEOUT = 5
    return settings


def test_the_http_backend_posts_to_from_and_body_with_basic_auth(http_settings):
    with StubSmsProvider(status=201, body={"sid": "SM42"}) as provider:
        http_settings.SMS_API_URL = provider.url

        message_id = sms_backend().send(to="+14155550123", body="Viejos Recuerdos: ¿mañana? غدًا")

    assert message_id == "SM42"
    assert provider.server.server_address[1] < 32768
    (request,) = provider.requests
    assert request["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request["authorization"] == "Basic " + base64.b64encode(b"AC1:secret-token").decode()
    assert request["form"] == {"To": "+14155550123", "From": "+15005550006", "Body": "Viejos Recuerdos: ¿mañana? غدًا"}


def test_an_id_field_is_taken_when_there_is_no_sid(http_settings):
    with StubSmsProvider(status=200, body={"id": 7}) as provider:
        http_settings.SMS_API_URL = provider.url

        assert sms_backend().send(to="+14155550123", body="Hello") == "7"


def test_a_refusal_raises_with_the_providers_answer(http_settings):
    with StubSmsProvider(status=400, body={"code": 21211, "message": "Invalid 'To' Phone Number"}) as provider:
        http_settings.SMS_API_URL = provider.url

        with pytest.raises(SmsError) as error:
            sms_backend().send(to="+10000000000", body="Hello")

    assert str(error.value) == (
        'The SMS provider answered HTTP 400: {"code": 21211, "message": "Invalid \'To\' Phone Number"}'
    )


def test_an_unreachable_provider_raises(http_settings):
    provider = StubSmsProvider()  # bound but never served, then closed: nothing listens on its port
    url = provider.url
    provider.server.server_close()
    http_settings.SMS_API_URL = url

    with pytest.raises(SmsError) as error:
        sms_backend().send(to="+14155550123", body="Hello")

    assert str(error.value).startswith("The SMS provider could not be reached: ")


@pytest.mark.parametrize(
    ("url", "sender", "message"),
    [
        ("", "+15005550006", "SMS_BACKEND=http needs SMS_API_URL, an http:// or https:// URL."),
        ("file:///etc/passwd", "+15005550006", "SMS_BACKEND=http needs SMS_API_URL, an http:// or https:// URL."),
        ("https://sms.example.com/send", "", "SMS_BACKEND=http needs SMS_FROM, the sender's number or name."),
    ],
)
def test_the_http_backend_refuses_an_incomplete_configuration(http_settings, url, sender, message):
    http_settings.SMS_API_URL = url
    http_settings.SMS_FROM = sender

    with pytest.raises(ImproperlyConfigured) as error:
        HttpSmsBackend()

    assert str(error.value) == message


def test_the_default_backend_only_logs(settings, caplog):
    settings.SMS_BACKEND = "logging"
    caplog.set_level(logging.INFO, logger="notifications.channels.sms")

    backend = sms_backend()
    message_id = backend.send(to="+14155550123", body="Hello")

    assert isinstance(backend, LoggingSmsBackend)
    assert message_id.startswith("log-")
    sms_records = [record.getMessage() for record in caplog.records if record.name == "notifications.channels.sms"]
    assert sms_records == [f"SMS {message_id} to +14155550123: Hello"]


def test_a_backend_by_dotted_path_and_an_unknown_one(settings):
    settings.SMS_BACKEND = "notifications.channels.sms.LocmemSmsBackend"
    assert isinstance(sms_backend(), LocmemSmsBackend)

    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured) as error:
        sms_backend()
    assert str(error.value) == "SMS_BACKEND 'carrier-pigeon' is not a known backend."
