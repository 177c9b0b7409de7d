"""SMS backends behind one small interface, chosen by the SMS_BACKEND setting.

- ``logging`` (the default): writes the message to the log; nothing leaves the machine.
- ``http``: a Twilio-style REST API: ``POST SMS_API_URL`` with the form fields To, From and Body and HTTP basic
  auth (SMS_API_USER, SMS_API_TOKEN); a 2xx answer's JSON ``sid`` (or ``id``) is the provider's message id.
  Twilio is ``https://api.twilio.com/2010-04-01/Accounts/<sid>/Messages.json``; many providers copy it.
- ``locmem``: keeps messages in ``LocmemSmsBackend.outbox`` (tests).
- or the dotted path of any class with ``send(*, to, body) -> str``.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import ClassVar, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

ALIASES = {
    "logging": "notifications.channels.sms.LoggingSmsBackend",
    "http": "notifications.channels.sms.HttpSmsBackend",
    "locmem": "notifications.channels.sms.LocmemSmsBackend",
}


class SmsError(Exception):
    """The provider refused or could not be reached; the message says why."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send ``body`` to the E.164 number ``to``; return the provider's message id, or raise."""
        ...


class LoggingSmsBackend:
    """Development default: the message goes to the log, nothing is sent."""

    def send(self, *, to: str, body: str) -> str:
        message_id = f"log-{uuid.uuid4()}"
        logger.info("SMS %s to %s: %s", message_id, to, body)
        return message_id


class LocmemSmsBackend:
    """Keeps what was sent in memory, as Django's locmem e-mail backend does."""

    outbox: ClassVar[list[dict[str, str]]] = []

    def send(self, *, to: str, body: str) -> str:
        message_id = f"locmem-{len(self.outbox) + 1}"
        self.outbox.append({"to": to, "body": body, "id": message_id})
        return message_id


class HttpSmsBackend:
    """A Twilio-style REST API configured from the environment (SMS_API_URL, SMS_API_USER, SMS_API_TOKEN,
    SMS_FROM, SMS_TIMEOUT)."""

    def __init__(self) -> None:
        self.url = settings.SMS_API_URL
        self.sender = settings.SMS_FROM
        self.timeout = settings.SMS_TIMEOUT
        if urlsplit(self.url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_API_URL, an http:// or https:// URL.")
        if not self.sender:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_FROM, the sender's number or name.")
        credentials = f"{settings.SMS_API_USER}:{settings.SMS_API_TOKEN}".encode()
        self.authorization = "Basic " + base64.b64encode(credentials).decode("ascii")

    def send(self, *, to: str, body: str) -> str:
        request = Request(  # noqa: S310 - the scheme is checked to be http(s) in __init__
            self.url,
            data=urlencode({"To": to, "From": self.sender, "Body": body}).encode(),
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - checked in __init__
                payload = response.read()
        except HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise SmsError(f"The SMS provider answered HTTP {exc.code}: {detail}") from exc
        except (URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"The SMS provider could not be reached: {reason}") from exc
        try:
            answer = json.loads(payload or b"{}")
        except ValueError:
            answer = {}
        return str(answer.get("sid") or answer.get("id") or "") if isinstance(answer, dict) else ""


def sms_backend() -> SmsBackend:
    """A new instance of the configured backend (settings are read each time, so tests can override them)."""
    path = ALIASES.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"SMS_BACKEND {settings.SMS_BACKEND!r} is not a known backend.") from exc
    return backend_class()
