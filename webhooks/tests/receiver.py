"""A local webhook receiver for the tests: a threaded http.server on one of the tests' ports, recording every
request; it can answer 200, answer 500, or be stopped (connections refused) and started again on the same port."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 20417


class Receiver:
    def __init__(self, port: int = PORT) -> None:
        self.port = port
        self.status = 200
        self.received: list[dict] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/taqsit"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "status": receiver.status}
                )
                answer = json.dumps({"ok": receiver.status == 200}).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[dict]:
        """The bodies answered 200, parsed, in the order received."""
        return [json.loads(item["body"]) for item in self.received if item["status"] == 200]
