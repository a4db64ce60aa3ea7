"""Processes a test started, found again after their parent is gone.

The engine starts each plugin (language host, dynamic provider) in a process group of its own
(sdk/go/common/util/cmdutil: RegisterProcessGroup), so killing `pulumi`'s group leaves them
running, re-parented to init. What they keep is their session (a process group change does not
leave it) and their environment: a test that starts `pulumi` in a new session can end the whole
tree by session id, and the suite marks every child with EMAIL_PARTNERS_TEST_SESSION.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

MARKER = "EMAIL_PARTNERS_TEST_SESSION"


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat fields after the command name (state is [0], session is [3])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] not in ("Z", "X")
    except OSError:
        return False


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def in_session(sid: int) -> list[int]:
    found = []
    for pid in _pids():
        try:
            if int(_stat(pid)[3]) == sid and _alive(pid):
                found.append(pid)
        except (OSError, IndexError, ValueError):
            continue
    return found


def kill_session(sid: int, timeout: float = 10.0) -> list[str]:
    """SIGKILL every process of the session (the engine and every plugin it started), and wait.
    Returns what it found running ("pid: command line")."""
    deadline, found = time.monotonic() + timeout, {}
    while True:
        members = in_session(sid)
        if not members or time.monotonic() > deadline:
            return list(found.values())
        for pid in members:
            found.setdefault(pid, f"{pid}: {command_line(pid)[:200]}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def marked(value: str) -> list[int]:
    """Live processes whose environment carries MARKER=value (this process excluded)."""
    needle = f"{MARKER}={value}".encode()
    found = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") and _alive(pid):
                found.append(pid)
        except OSError:
            continue
    return found


def uptime() -> float:
    """Seconds since boot: the clock of /proc/<pid>/stat's start times."""
    return float(Path("/proc/uptime").read_text().split()[0])


def started_at(pid: int) -> float:
    """When the process started, in seconds since boot."""
    try:
        return int(_stat(pid)[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return -1.0
