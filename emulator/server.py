"""EmulatorServer: run the emulator app in a background thread, for tests and the CLI.

This is where the vendors are chosen: VENDORS lists the packages the app serves, in order, and
is handed to the core's app factory (the core never imports a vendor). werkzeug's threaded
server lets a slow (latency-faulted) request not block the others, and binding port 0 lets
parallel test runs each get their own free port.
"""

from __future__ import annotations

import threading
from typing import Iterable

from werkzeug.serving import BaseWSGIServer, make_server

from .cakemail import VENDOR as CAKEMAIL
from .ciirus import VENDOR as CIIRUS
from .core import Vendor, create_app
from .sendgrid import VENDOR as SENDGRID
from .signupto import VENDOR as SIGNUPTO

VENDORS: tuple[Vendor, ...] = (CAKEMAIL, SIGNUPTO, CIIRUS, SENDGRID)


class EmulatorServer:
    """Start/stop the emulator on host:port (0 = any free port); also a context manager."""

    def __init__(self, db_path: str, host: str = "127.0.0.1", port: int = 0,
                 publish_dns: bool = False, vendors: Iterable[Vendor] = VENDORS):
        self.db_path = str(db_path)
        self.publish_dns = publish_dns
        self.vendors = tuple(vendors)
        self.host = host
        self.port = port
        self.app = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "EmulatorServer":
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self.app = create_app(self.db_path, self.vendors, publish_dns=self.publish_dns)
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self._server.daemon_threads = True  # a hung client never blocks interpreter exit
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"partner-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.app.extensions["emulator_store"].close()
        self._server = self._thread = None

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
