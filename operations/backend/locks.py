"""The engine's stack locks: one model, read from the backend (read only) or from the engine's refusal.

While an update runs, the engine holds `.pulumi/locks/organization/<project>/<stack>/<id>.json`
(`.pulumi/locks/<stack>/...` in the legacy layout) holding who, where and since when
(pkg/backend/diy/lock.go: `{pid, username, hostname, timestamp}`): files in a file backend, rows of
the PostgreSQL backend's table. A lock left by a killed run stays until `pulumi cancel`. An `up` that
finds its stack locked is refused with one line per lock, with its URL (`locks_in_refusal`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from pydantic import BaseModel, Field

from .location import Backend

LOCKS = ".pulumi/locks/"
# One line per lock in the engine's refusal: "  <url>: created by <user>@<host> (pid <pid>) at <RFC 3339 time>".
LOCK_LINE = re.compile(r"^\s*(?P<url>\S+): created by (?P<who>.+?) \(pid (?P<pid>\d+)\) at (?P<at>\S+)\s*$", re.M)


class Lock(BaseModel):
    """One lock held on a stack: who, where, since when."""

    username: Optional[str] = None
    hostname: Optional[str] = None
    pid: Optional[int] = None
    since: Optional[str] = None
    url: Optional[str] = Field(None, exclude=True, description="where the engine keeps it (its refusal names it)")

    def __str__(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid}) since {self.since}"

    @property
    def stale_because(self) -> Optional[str]:
        """Why the lock is provably stale, or None when it is not provably so."""
        if self.hostname != socket.gethostname() or self.pid is None:
            return None  # another machine's process: this host cannot tell whether it runs
        if process_exists(self.pid):
            return None
        return f"process {self.pid} of this host no longer exists"


def process_exists(pid: int) -> bool:
    """A process that has exited but not been reaped yet (a zombie) runs no more: it counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def locks_in_refusal(message: str) -> list[Lock]:
    """The locks an engine's "the stack is currently locked" refusal lists."""
    locks = []
    for match in LOCK_LINE.finditer(message):
        user, _, host = match["who"].rpartition("@")
        locks.append(Lock(url=match["url"], username=user, hostname=host, pid=int(match["pid"]), since=match["at"]))
    return locks


def _stack_of(key: str, project: str) -> Optional[str]:
    parts = key[len(LOCKS):].split("/")
    if len(parts) == 4 and parts[0] == "organization" and parts[1] == project:
        return parts[2]
    if len(parts) == 2:
        return parts[0]
    return None


def _lock(content: bytes) -> Lock:
    try:
        data = json.loads(content)
    except ValueError:
        return Lock()
    since = data.get("timestamp")
    try:
        since = datetime.fromisoformat(str(since).replace("Z", "+00:00")).isoformat(timespec="seconds")
    except ValueError:
        pass
    return Lock(username=data.get("username"), hostname=data.get("hostname"), pid=data.get("pid"), since=since)


def read_locks(backend: Optional[Backend], project: str, names: Sequence[str]) -> dict[str, Lock]:
    """The lock held on each named stack, if any (one listing for the whole fleet)."""
    wanted = set(names)
    if backend is None or backend.kind == "other":
        return {}
    found: dict[str, Lock] = {}
    for key, content in _lock_blobs(backend):
        stack = _stack_of(key, project)
        if stack in wanted and key.endswith(".json"):
            found.setdefault(stack, _lock(content))
    return found


def _lock_blobs(backend: Backend) -> list[tuple[str, bytes]]:
    if backend.kind == "file":
        root = backend.root / LOCKS
        if not root.is_dir():
            return []
        blobs = []
        for path in root.rglob("*.json"):
            try:
                blobs.append((LOCKS + path.relative_to(root).as_posix(), path.read_bytes()))
            except OSError:
                continue  # released while we looked
        return blobs
    rows = backend.read(lambda table: table.under(LOCKS), [])
    return [(key, base64.b64decode(data or "")) for key, data in rows]
