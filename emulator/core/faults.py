"""Fault injection for vendor routes: error statuses, latency and dropped connections.

Faults are stored (so they survive a restart like everything else) and consumed atomically, one
per matching request, by a before_request hook that only runs for vendor paths; the control API
itself can never be faulted, so a test can always clean up.
"""

from __future__ import annotations

import re
import socket
import time
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from flask import Response, g, jsonify, request

from . import requestlog
from .store import Store
from .vendor import Vendor

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class FaultSpecError(ValueError):
    """A POST /_control/faults body that cannot be used."""


def _number(payload: dict, key: str, kind: type, minimum: float, maximum: float | None = None):
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            kind is int and not float(value).is_integer()):
        raise FaultSpecError(f"{key!r} must be {'an integer' if kind is int else 'a number'}")
    if value < minimum or (maximum is not None and value > maximum):
        raise FaultSpecError(f"{key!r} must be between {minimum} and {maximum or 'infinity'}")
    return kind(value)


def parse_spec(payload: Any) -> dict[str, Any]:
    """Validate a fault spec; raises FaultSpecError with a message for the 400 answer."""
    if not isinstance(payload, dict):
        raise FaultSpecError("body must be a JSON object")
    path = payload.get("path")
    if not isinstance(path, str) or not path:
        raise FaultSpecError("'path' (a regular expression) is required")
    try:
        re.compile(path)
    except re.error as exc:
        raise FaultSpecError(f"'path' is not a valid regular expression: {exc}") from None
    method = payload.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise FaultSpecError(f"'method' must be one of {', '.join(METHODS)}")
        method = method.upper()
    drop = payload.get("drop", False)
    after_processing = payload.get("after_processing", False)
    if not isinstance(drop, bool) or not isinstance(after_processing, bool):
        raise FaultSpecError("'drop' and 'after_processing' must be booleans")
    spec = {
        "path": path, "method": method, "drop": drop, "after_processing": after_processing,
        "status": _number(payload, "status", int, 100, 599),
        "retry_after": _number(payload, "retry_after", float, 0),
        "latency_ms": _number(payload, "latency_ms", int, 0, 600_000),
        "count": _number(payload, "count", int, 1) or 1,
        "share": _number(payload, "share", float, 0) if payload.get("share") is not None else 1.0,
    }
    if not 0 < spec["share"] <= 1:
        raise FaultSpecError("'share' must be above 0 and at most 1 (the fraction of matching requests hit)")
    if spec["status"] is None and spec["latency_ms"] is None and not drop:
        raise FaultSpecError("a fault needs at least one of 'status', 'latency_ms' or 'drop'")
    if after_processing and spec["status"] is None and not drop:
        raise FaultSpecError("'after_processing' goes with 'drop' or 'status': it replaces the real answer")
    return spec


def add(store: Store, spec: dict[str, Any]) -> int:
    cur = store.execute(
        "INSERT INTO faults (method, path, status, retry_after, latency_ms, drop_conn, after_processing,"
        " remaining, created, share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (spec["method"], spec["path"], spec["status"], spec["retry_after"], spec["latency_ms"],
         int(spec["drop"]), int(spec["after_processing"]), spec["count"], datetime.now(timezone.utc).isoformat(),
         spec.get("share", 1.0)))
    return int(cur.lastrowid)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "path": row["path"], "method": row["method"],
            "status": row["status"], "retry_after": row["retry_after"],
            "latency_ms": row["latency_ms"], "drop": bool(row["drop_conn"]),
            "after_processing": bool(row["after_processing"]),
            "remaining": row["remaining"], "share": row["share"]}


def pending(store: Store) -> list[dict[str, Any]]:
    return [_public(r) for r in store.query("SELECT * FROM faults ORDER BY id")]


def clear(store: Store) -> None:
    store.execute("DELETE FROM faults")


def take(store: Store, method: str, path: str) -> dict[str, Any] | None:
    """Consume one use of the oldest fault matching this request, if any.

    A fault with a `share` below 1 hits that fraction of its matching requests, spread evenly (the
    k-th match is hit when floor(k * share) grows); the others go on to the next fault."""
    with store.transaction() as conn:
        for row in conn.execute("SELECT * FROM faults ORDER BY id").fetchall():
            if row["method"] and row["method"] != method.upper():
                continue
            if not re.search(row["path"], path):
                continue
            if row["share"] < 1:
                seen = row["seen"] + 1
                conn.execute("UPDATE faults SET seen = ? WHERE id = ?", (seen, row["id"]))
                if int(seen * row["share"]) == int((seen - 1) * row["share"]):
                    continue
            if row["remaining"] <= 1:
                conn.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
            else:
                conn.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?",
                             (row["id"],))
            return _public(dict(row))
    return None


def _dropped_body():
    raise ConnectionAbortedError("connection dropped by emulator fault")
    yield b""  # pragma: no cover - makes this a generator


def _drop_connection() -> Response:
    """Close the client's TCP connection without a response.

    The socket is shut down and closed, then a response whose body raises ConnectionAbortedError
    is returned: werkzeug treats that as a dropped connection and quietly carries on, so the
    server thread survives.
    """
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    return Response(_dropped_body(), status=502)


def _format_retry_after(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def inject(store: Store, vendor: Vendor) -> Response | None:
    """before_request hook body: apply the next matching fault, or None to continue."""
    fault = take(store, request.method, request.path)
    if fault is None:
        return None
    g.fault = True
    if fault["latency_ms"]:
        time.sleep(fault["latency_ms"] / 1000)
    if fault["after_processing"]:
        g.fault_after_processing = fault  # serve the request for real; spoil only its answer
        return None
    return _spoiled_answer(store, vendor, fault)


def spoil_processed_answer(store: Store, vendor: Vendor, response: Response) -> Response:
    """after_request: the request was applied; now lose (or replace) its answer as the fault says."""
    fault = g.pop("fault_after_processing", None)
    if fault is None:
        return response
    requestlog.record(store, request, vendor.name, response.status_code, True, g.get("started"))
    g.logged = True
    return _spoiled_answer(store, vendor, fault, logged=True)


def _spoiled_answer(store: Store, vendor: Vendor, fault: dict[str, Any], logged: bool = False) -> Response | None:
    if fault["drop"]:
        if not logged:
            requestlog.record(store, request, vendor.name, 0, True, g.get("started"))
            g.logged = True
        return _drop_connection()
    if fault["status"] is None:
        return None  # latency only: the request proceeds normally
    status = fault["status"]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body, headers = vendor.error_body(status, f"{phrase} (injected fault #{fault['id']})")
    headers = dict(headers)
    if fault["retry_after"] is not None:
        headers["Retry-After"] = _format_retry_after(fault["retry_after"])
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response
