"""Request log of every vendor call, so tests can assert what a client actually sent.

Only the method, path, query and body are kept, with secret-bearing keys masked at any depth;
headers (and so Authorization) are never stored.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from flask import Request, g

from .store import Store, dumps, loads

SECRET_KEYS = frozenset({"password", "refresh_token", "access_token", "client_secret"})
MASK = "***"
MAX_TEXT_BODY = 4096


def mask(value: Any) -> Any:
    """Copy of value with every dict entry under a secret key replaced by '***'."""
    if isinstance(value, dict):
        return {k: (MASK if str(k).lower() in SECRET_KEYS else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _multidict(md) -> dict[str, Any]:
    return {k: (v[0] if len(v) == 1 else v) for k, v in md.to_dict(flat=False).items()}


def request_body(req: Request) -> Any:
    """Parsed JSON, form dict, short text, or None; secrets masked."""
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return mask(_multidict(req.form))
    raw = req.get_data(cache=True)
    if not raw:
        return None
    parsed = req.get_json(force=True, silent=True)
    if parsed is not None:
        return mask(parsed)
    text = raw[:MAX_TEXT_BODY].decode("utf-8", "replace")
    if any(key in text.lower() for key in SECRET_KEYS):  # unparseable: can't mask, so omit
        return MASK
    return text


def record(store: Store, req: Request, vendor: str, status: int, fault: bool,
           started: float | None = None) -> int:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    duration = int((time.monotonic() - started) * 1000) if started is not None else None
    window = g.get("rate_limit_window")  # the vendor's rate-limit window it was counted in (rate_limits.py)
    limited = None if window is None else {"limit": window.limit, "remaining": window.remaining, "reset": window.reset}
    cur = store.execute(
        "INSERT INTO request_log (time, vendor, method, path, query, body, status, fault,"
        " duration_ms, rate_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now, vendor, req.method, req.path, dumps(mask(_multidict(req.args))),
         dumps(request_body(req)), status, int(fault), duration, None if limited is None else dumps(limited)))
    return int(cur.lastrowid)


def entries(store: Store, vendor: str | None = None, since_id: int = 0,
            limit: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM request_log WHERE id > ?"
    params: list[Any] = [since_id]
    if vendor:
        sql += " AND vendor = ?"
        params.append(vendor)
    sql += " ORDER BY id"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    rows = store.query(sql, tuple(params))
    return [{"id": r["id"], "time": r["time"], "vendor": r["vendor"], "method": r["method"],
             "path": r["path"], "query": loads(r["query"]), "body": loads(r["body"]),
             "status": r["status"], "fault": bool(r["fault"]), "duration_ms": r["duration_ms"],
             "rate_limit": loads(r["rate_limit"])}
            for r in rows]


def clear(store: Store) -> None:
    store.execute("DELETE FROM request_log")
