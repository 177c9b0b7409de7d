"""A throwaway Twilio-style SMS provider on 127.0.0.1, on a port below 32768 (never the internet)."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def json_reply(handler: BaseHTTPRequestHandler, status: int, body: dict | None) -> None:
    """Answer ``status`` with ``body`` as JSON (no body for None)."""
    payload = json.dumps(body).encode() if body is not None else b""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def local_server(handler: type[BaseHTTPRequestHandler], ports: range, what: str) -> ThreadingHTTPServer:
    """A threaded server on 127.0.0.1 on a free port of ``ports`` (a few tried at random)."""
    last_error: OSError | None = None
    for port in random.sample(ports, 50):
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:  # taken: try another
            last_error = exc
    raise RuntimeError(f"No free port {what}: {last_error}")


class StubSmsProvider:
    """Answers every POST with ``status`` and ``body`` and records what it was sent."""

    def __init__(self, *, status: int = 201, body: dict | None = None) -> None:
        self.status = status
        self.body = body if body is not None else {"sid": "SM0001", "status": "queued"}
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self.server = self._bind()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/2010-04-01/Accounts/AC1/Messages.json"

    def _bind(self) -> ThreadingHTTPServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                with stub._lock:
                    stub.requests.append(
                        {"path": self.path, "authorization": self.headers.get("Authorization"), "form": form}
                    )
                json_reply(self, stub.status, stub.body)

            def log_message(self, *args) -> None:
                pass

        return local_server(Handler, range(20000, 32000), "below 32768 for the stub SMS provider")

    def __enter__(self) -> StubSmsProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
