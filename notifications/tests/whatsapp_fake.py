"""A throwaway WhatsApp Business Cloud API on 127.0.0.1 (ports 21000-21999, never the internet), answering as the
provider does: a template message accepted gets ``{"messaging_product": "whatsapp", "contacts": [...],
"messages": [{"id": "wamid...."}]}``; a refusal is the provider's error body (``{"error": {"message", "type",
"code", "error_data": {"details"}, "fbtrace_id"}}``). It records every request (path, Authorization, JSON body)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notifications.tests.sms_stub import json_reply, local_server

PHONE_NUMBER_ID = "106540352242922"


def provider_error(code: int, message: str, details: str) -> dict:
    """The provider's error body, as its Cloud API answers a refused message."""
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEf123",
        }
    }


NOT_ON_WHATSAPP = provider_error(131026, "Message undeliverable", "Message Undeliverable.")
RATE_LIMITED = provider_error(130429, "Rate limit hit", "Cloud API message throughput has been reached.")
TEMPLATE_MISSING = provider_error(
    132001, "Template name does not exist in the translation", "template name (taqsit_x) does not exist in es"
)


class FakeCloudApi:
    """Accepts every template message, except: numbers in ``not_on_whatsapp`` get the provider's 131026 refusal, and
    while ``answers`` holds (status, body) pairs each request gets the next one instead."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.not_on_whatsapp: set[str] = set()
        self.answers: list[tuple[int, dict | None]] = []
        self._lock = threading.Lock()
        self._sent = 0
        self.server = self._bind()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v21.0/{PHONE_NUMBER_ID}/messages"

    def _answer(self, body: dict) -> tuple[int, dict | None]:
        with self._lock:
            self.requests.append(body)
            if self.answers:
                return self.answers.pop(0)
            to = body.get("to", "")
            if to in self.not_on_whatsapp:
                return 400, NOT_ON_WHATSAPP
            self._sent += 1
            message_id = f"wamid.HBgL{self._sent:04d}"
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        }

    def _bind(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw)
                body["_path"] = self.path
                body["_authorization"] = self.headers.get("Authorization")
                body["_content_type"] = self.headers.get("Content-Type")
                json_reply(self, *fake._answer(body))

            def log_message(self, *args) -> None:
                pass

        return local_server(Handler, range(21000, 22000), "in 21000-21999 for the fake WhatsApp API")

    def sent(self) -> list[dict]:
        """The requests without the recorded transport details."""
        return [{k: v for k, v in request.items() if not k.startswith("_")} for request in self.requests]

    def __enter__(self) -> FakeCloudApi:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
