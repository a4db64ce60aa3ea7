"""The engine's stack locks, as it keeps them in a DIY backend, read only.

While an update runs, the engine holds `.pulumi/locks/organization/<project>/<stack>/<id>.json`
(`.pulumi/locks/<stack>/...` in the legacy layout) holding who, where and since when
(pkg/backend/diy/lock.go): files in a file backend, rows of the PostgreSQL backend's table. A lock
left by a killed run stays until `pulumi cancel`.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Optional, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel

from .backend_state import CONNECT_TIMEOUT_SECONDS, Backend, BackendError, file_root, redacted

LOCKS = ".pulumi/locks/"


class StackLock(BaseModel):
    stack: str
    username: Optional[str] = None
    hostname: Optional[str] = None
    pid: Optional[int] = None
    since: Optional[str] = None


def _stack_of(key: str, project: str) -> Optional[str]:
    rest = key[len(LOCKS):]
    parts = rest.split("/")
    if len(parts) == 4 and parts[0] == "organization" and parts[1] == project:
        return parts[2]
    if len(parts) == 2:
        return parts[0]
    return None


def _lock(stack: str, content: bytes) -> StackLock:
    try:
        data = json.loads(content)
    except ValueError:
        return StackLock(stack=stack)
    since = data.get("timestamp")
    try:
        since = datetime.fromisoformat(str(since).replace("Z", "+00:00")).isoformat(timespec="seconds")
    except ValueError:
        pass
    return StackLock(stack=stack, username=data.get("username"), hostname=data.get("hostname"), pid=data.get("pid"),
                     since=since)


def read_locks(backend: Optional[Backend], project: str, names: Sequence[str]) -> dict[str, StackLock]:
    """The lock held on each named stack, if any (one listing for the whole fleet)."""
    wanted = set(names)
    if backend is None or backend.kind == "other":
        return {}
    found: dict[str, StackLock] = {}
    for key, content in _lock_blobs(backend):
        stack = _stack_of(key, project)
        if stack in wanted and key.endswith(".json"):
            found.setdefault(stack, _lock(stack, content))
    return found


def _lock_blobs(backend: Backend) -> list[tuple[str, bytes]]:
    if backend.kind == "file":
        root = file_root(backend.url) / LOCKS
        if not root.is_dir():
            return []
        blobs = []
        for path in root.rglob("*.json"):
            try:
                blobs.append((LOCKS + path.relative_to(root).as_posix(), path.read_bytes()))
            except OSError:
                continue  # released while we looked
        return blobs
    import psycopg
    from psycopg import sql

    parts = urlsplit(backend.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    table = query.pop("table", "pulumi_state")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise BackendError(f"the state backend {redacted(backend.url)} names table {table!r}, which is not a plain "
                           f"table name")
    # The engine keeps the bucket's keys under the URL's path (postgres://host/db: "db/.pulumi/..."),
    # as operations/backend_state.py reads them.
    prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
    try:
        with psycopg.connect(urlunsplit(parts._replace(query=urlencode(query))),
                             connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.read_only = True
            rows = conn.execute(sql.SQL("SELECT key, data->>'data' FROM {} WHERE starts_with(key, %s)")
                                .format(sql.Identifier(table)), (prefix + LOCKS,)).fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    except psycopg.Error as exc:
        raise BackendError(f"cannot read the locks in {redacted(backend.url)}: {' '.join(str(exc).split())[:300]}") \
            from None
    return [(key[len(prefix):], base64.b64decode(data or "")) for key, data in rows]
