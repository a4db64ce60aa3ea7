"""CLI: python -m emulator --host 127.0.0.1 --port 8710 --db PATH [--port-file F] [--seed-demo].

Serves until SIGINT/SIGTERM. --port 0 picks a free port and --port-file publishes it, so scripts
can start the emulator in the background and find it without racing for a fixed port.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import demo
from .core.store import Store
from .server import VENDORS, EmulatorServer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8710, help="0 picks a free port")
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    parser.add_argument("--port-file", help="write the chosen port to this file")
    parser.add_argument("--seed-demo", action="store_true",
                        help="create the demo credentials of every vendor if absent (emulator/demo.py)")
    parser.add_argument("--publish-dns", action="store_true",
                        help="publish the DNS records the vendors' sending domains and DKIM keys "
                             "expect, so they validate without a test publishing them")
    return parser.parse_args(argv)


def _write_port_file(path: str, port: int) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{port}\n")
    os.replace(tmp, path)  # readers never see a half-written file


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_demo:
        store = Store(args.db, VENDORS)
        try:
            demo.seed(store)
        finally:
            store.close()

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    server = EmulatorServer(args.db, host=args.host, port=args.port,
                            publish_dns=args.publish_dns).start()
    try:
        if args.seed_demo:  # before anyone is told the port: the demo's accounts are there once it is known
            demo.seed_accounts(server.url)
        if args.port_file:
            _write_port_file(args.port_file, server.port)
        print(f"partner emulator listening on {server.url} (db: {args.db})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
