"""`status --serve`: the page on 127.0.0.1 only, built again on each load; `/status.json` serves its data."""

from __future__ import annotations

import http.server
import sys
from typing import Callable

from ..errors import OperationError, ToolError
from .data import StatusPage
from .page import render


def serve(build: Callable[[], StatusPage], port: int, say: Callable[[str], None] = print) -> None:
    """Serve until interrupted; a page that cannot be built is answered 503 with the reason."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the library's name
            path = self.path.split("?", 1)[0]
            if path not in ("/", "/index.html", "/status.json"):
                self.send_error(404, "the status page is at /")
                return
            try:
                page = build()
            except ToolError as exc:
                self.send_error(503, str(exc))
                return
            body = (page.model_dump_json(indent=2) if path == "/status.json" else render(page)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if path == "/status.json" else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the library's signature
            print(f"status: {self.address_string()} {format % args}", file=sys.stderr)

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        raise OperationError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc} (choose another "
                             f"with --port, or --port 0 for any free one)") from None
    say(f"serving the status page on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
