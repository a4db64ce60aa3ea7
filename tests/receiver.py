"""A webhook receiver on loopback for the notification tests: it keeps what the sinks send, and can
answer with a status of the test's choosing or never answer at all."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """`status`: the answer to every request; `hang`: hold each request without answering until the
    receiver stops (the connection stays open: the sender must give up by itself)."""

    status: int = 200
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _server: Optional[http.server.ThreadingHTTPServer] = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "Receiver":
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the library's name
                length = int(self.headers.get("Content-Length", "0"))
                receiver.received.append(Received(self.path, dict(self.headers.items()), self.rfile.read(length)))
                if receiver.hang:
                    receiver._stop.wait(120)
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - the library's signature
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]
