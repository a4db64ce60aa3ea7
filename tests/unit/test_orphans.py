"""The fleet ends what an engine leaves behind: a process whose parent exited during the runs (as a
language host does when the engine exits without ending it) is ended when the runs are over."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_an_orphan_of_a_run_is_ended_when_the_runs_are_over():
    # In a process of its own: the tool becomes the subreaper of what it starts, which a test worker must not.
    script = textwrap.dedent("""
        import os, subprocess, sys
        from operations.engine.orphans import ending_orphans
        with ending_orphans():
            # `sh` starts a long sleep and exits at once: the sleep is an orphan, like a leaked language host.
            pid = int(subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], capture_output=True,
                                     text=True, check=True).stdout)
            os.kill(pid, 0)  # still running at the end of the runs
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("ended")
        else:
            print("still running", pid)
            os.kill(pid, 9)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ended", result.stdout + result.stderr
