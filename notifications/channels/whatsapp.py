"""WhatsApp backends behind one small interface, chosen by the WHATSAPP_BACKEND setting (as SMS_BACKEND is).

- ``logging`` (the default): writes the message to the log; nothing leaves the machine.
- ``http``: the WhatsApp Business Cloud API: ``POST WHATSAPP_API_URL`` (``https://graph.facebook.com/v21.0/
  <phone-number-id>/messages``) with the Bearer WHATSAPP_TOKEN and a JSON body sending a *template message*
  (``"type": "template"``): the template's name, its language code and the body's parameters, in order. A 2xx
  answer's ``messages[0].id`` (a ``wamid.``) is the provider's message id, which its status webhook names.
- ``locmem``: keeps messages in ``LocmemWhatsAppBackend.outbox`` (tests).
- or the dotted path of any class with ``send(*, to, template, language, parameters) -> str``.

A refusal is a ``WhatsAppError`` that says whether trying again can help (``permanent``): the number is not on
WhatsApp (131026), the template is missing or its parameters do not match (132xxx), the number is invalid... are
permanent, and the message goes by SMS instead; a rate limit, the provider's 5xx, a timeout are temporary and retried
as an SMS is (notifications/services.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import ClassVar, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

ALIASES = {
    "logging": "notifications.channels.whatsapp.LoggingWhatsAppBackend",
    "http": "notifications.channels.whatsapp.HttpWhatsAppBackend",
    "locmem": "notifications.channels.whatsapp.LocmemWhatsAppBackend",
}

# The provider's error codes that a later attempt may get past (Meta's "Cloud API error codes"): throttling of the
# app, the account or the pair of numbers, and its own temporary trouble. Any other refusal is permanent.
TEMPORARY_CODES = frozenset(
    {
        1,  # API unknown: possibly a temporary outage
        2,  # API service: temporary downtime or overload
        4,  # API too many calls
        80007,  # rate limit issues (the business account)
        130429,  # rate limit hit (throughput)
        131000,  # something went wrong
        131016,  # service unavailable
        131048,  # spam rate limit hit
        131056,  # pair rate limit hit (too many messages to one number)
        133004,  # server temporarily unavailable
    }
)
NOT_ON_WHATSAPP = 131026  # "Message undeliverable": not a WhatsApp user, an old app, terms not accepted...


class WhatsAppError(Exception):
    """The provider refused or could not be reached; the message says why, ``code`` is the provider's error code
    (None when it gave none) and ``permanent`` whether sending again can help."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


def error_is_permanent(code: int | None) -> bool:
    """A refusal with ``code`` is final (the message goes by SMS instead) unless the code is a temporary one."""
    return code is not None and code not in TEMPORARY_CODES


class WhatsAppBackend(Protocol):
    def send(self, *, to: str, template: str, language: str, parameters: list[str]) -> str:
        """Send the template ``template`` in ``language`` with the body's ``parameters`` to the E.164 number
        ``to``; return the provider's message id, or raise ``WhatsAppError``."""
        ...


class LoggingWhatsAppBackend:
    """Development default: the message goes to the log, nothing is sent."""

    def send(self, *, to: str, template: str, language: str, parameters: list[str]) -> str:
        message_id = f"log-{uuid.uuid4()}"
        logger.info("WhatsApp %s to %s: %s (%s) %s", message_id, to, template, language, parameters)
        return message_id


class LocmemWhatsAppBackend:
    """Keeps what was sent in memory, as Django's locmem e-mail backend does."""

    outbox: ClassVar[list[dict]] = []

    def send(self, *, to: str, template: str, language: str, parameters: list[str]) -> str:
        message_id = f"wamid.locmem-{len(self.outbox) + 1}"
        self.outbox.append(
            {"to": to, "template": template, "language": language, "parameters": list(parameters), "id": message_id}
        )
        return message_id


def template_body(*, to: str, template: str, language: str, parameters: list[str]) -> dict:
    """The Cloud API's JSON body of a template message (the number without its "+", as the provider writes it)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.removeprefix("+"),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in parameters]},
            ],
        },
    }


class HttpWhatsAppBackend:
    """The WhatsApp Business Cloud API, configured from the environment (WHATSAPP_API_URL, WHATSAPP_TOKEN,
    WHATSAPP_TIMEOUT)."""

    def __init__(self) -> None:
        self.url = settings.WHATSAPP_API_URL
        self.timeout = settings.WHATSAPP_TIMEOUT
        if urlsplit(self.url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("WHATSAPP_BACKEND=http needs WHATSAPP_API_URL, an http:// or https:// URL.")
        if not settings.WHATSAPP_TOKEN:
            raise ImproperlyConfigured("WHATSAPP_BACKEND=http needs WHATSAPP_TOKEN, the API's access token.")
        self.authorization = f"Bearer {settings.WHATSAPP_TOKEN}"

    def send(self, *, to: str, template: str, language: str, parameters: list[str]) -> str:
        body = template_body(to=to, template=template, language=language, parameters=parameters)
        request = Request(  # noqa: S310 - the scheme is checked to be http(s) in __init__
            self.url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - checked in __init__
                payload = response.read()
        except HTTPError as exc:
            raise _refusal(exc.code, exc.read()) from exc
        except (URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WhatsAppError(f"The WhatsApp provider could not be reached: {reason}") from exc
        answer = _json(payload)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not messages or not isinstance(messages, list) or not isinstance(messages[0], dict):
            raise WhatsAppError(f"The WhatsApp provider's answer names no message: {payload[:300]!r}")
        return str(messages[0].get("id") or "")


def _json(payload: bytes):
    try:
        return json.loads(payload or b"{}")
    except ValueError:
        return {}


def _refusal(status: int, payload: bytes) -> WhatsAppError:
    """The error an HTTP error answer stands for: 429 and 5xx are temporary; another refusal is permanent unless
    its ``error.code`` is a temporary one."""
    answer = _json(payload)
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    text = " ".join(str(part) for part in (error.get("message"), details) if part) or payload[:300].decode(
        "utf-8", "replace"
    )
    label = f"HTTP {status}, error {code}" if code is not None else f"HTTP {status}"
    if status == 429 or status >= 500:
        permanent = False
    elif code is not None:
        permanent = error_is_permanent(code)
    else:
        permanent = 400 <= status < 500
    return WhatsAppError(f"The WhatsApp provider answered {label}: {text}", code=code, permanent=permanent)


def whatsapp_backend() -> WhatsAppBackend:
    """A new instance of the configured backend (settings are read each time, so tests can override them)."""
    path = ALIASES.get(settings.WHATSAPP_BACKEND, settings.WHATSAPP_BACKEND)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"WHATSAPP_BACKEND {settings.WHATSAPP_BACKEND!r} is not a known backend.") from exc
    return backend_class()


def template_name(key: str) -> str:
    """The provider's template for a message (its kind, or kind_variant): WHATSAPP_TEMPLATES's, else taqsit_<key>."""
    return settings.WHATSAPP_TEMPLATES.get(key) or f"taqsit_{key}"


def language_code(language: str) -> str:
    """The provider's code of a customer language (WHATSAPP_LANGUAGE_CODES: en, ar, es by default)."""
    return settings.WHATSAPP_LANGUAGE_CODES.get(language) or language
