"""Engine processes left running after their engine exited, ended by the tool that started them.

The engine starts each plugin in a process group of its own, and on the PostgreSQL backend an
engine run can exit leaving its language host (`pulumi-language-python`) running: an orphan,
re-parented to init, that lives on. While a subcommand runs, this process is the "child
subreaper" of what it starts (Linux `prctl(PR_SET_CHILD_SUBREAPER)`), so such orphans become its
own children; when the subcommand ends, none of its own engine runs is left, so those still
there are ended.
Elsewhere than Linux this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def _children() -> list[int]:
    """Live (non-zombie) processes whose parent is this process."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            found.append((int(entry.name), fields[0]))
    for pid, state in found:
        if state == "Z":  # an adopted orphan that has exited: reap it (no subprocess object waits for it)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
    return [pid for pid, state in found if state != "Z"]


def _become_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def ending_orphans():
    """Around engine runs that are all finished when the block ends (nothing of the tool's own is
    running then): every child process still there is an orphan of an engine, and is ended."""
    active = _become_subreaper()
    try:
        yield
    finally:
        if active:
            left = _children()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while left and time.monotonic() < deadline:
                time.sleep(0.1)
                left = _children()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid in left:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
