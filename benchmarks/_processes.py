"""A benchmark ends every process it starts: each child carries the run's marker in its environment
(the engine hands its environment to every plugin, whatever process group the plugin gets), and
whatever still runs with it at the end is named and killed."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import uuid

from tests.processes import MARKER, command_line, marked


@contextlib.contextmanager
def ending_leftovers(name: str):
    value = f"bench-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.environ[MARKER] = value
    try:
        yield
    finally:
        deadline = time.monotonic() + 15
        while (left := marked(value)) and time.monotonic() < deadline:
            time.sleep(0.25)
        for pid in left:
            print(f"benchmark {name}: ended a process it left running: pid {pid}: {command_line(pid)[:200]}",
                  file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        print(f"benchmark {name}: processes left running at the end: {len(left)} (ended)", file=sys.stderr)
