"""What every engine run gets from operations/automation.py: the DIY backend's listing parallelism
(the PostgreSQL `stack ls` hang) and SIGINT not ignored (the engine stops plugins with it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from operations.automation import DIY_BACKEND_PARALLEL, engine_env

REPO = Path(__file__).resolve().parents[2]


def test_every_engine_run_lists_stacks_with_one_worker():
    assert engine_env({"PATH": "/usr/bin"})["PULUMI_DIY_BACKEND_PARALLEL"] == DIY_BACKEND_PARALLEL == "1"
    # Someone who set the engine's own variable keeps it.
    assert engine_env({"PATH": "/usr/bin", "PULUMI_DIY_BACKEND_PARALLEL": "2"})["PULUMI_DIY_BACKEND_PARALLEL"] == "2"


def _ignored_in_child(ignore: list[str]) -> set[str]:
    """Start a Python process with `ignore` ignored (as nohup and `cmd &` do), let it build the engine's
    environment, and read which signals a process it then starts has ignored (/proc's SigIgn mask)."""
    code = f"""
import signal, subprocess
for name in {ignore!r}:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
from operations.automation import engine_env
env = engine_env()
print(subprocess.run(["grep", "SigIgn", "/proc/self/status"], capture_output=True, text=True, env=env).stdout)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PULUMI_BIN_DIR": "/nonexistent"}).stdout
    mask = int(out.split()[-1], 16)
    return {name for name in ("SIGHUP", "SIGINT") if mask & (1 << (getattr(__import__("signal"), name) - 1))}


def test_engine_processes_get_sigint_even_when_the_tool_was_started_with_it_ignored():
    assert _ignored_in_child(["SIGINT", "SIGHUP"]) == {"SIGHUP"}  # nohup's SIGHUP stays ignored: it costs nothing
    assert _ignored_in_child([]) == set()


def test_stacks_in_backend_asks_one_name_then_lists_once(monkeypatch, tmp_path):
    """The first name alone (`stack output`), the listing once from the second name on: each answer
    at the cost of at most two engine runs, however many names are asked."""
    import json as json_module

    from operations import automation

    calls = []

    def fake_run_cli(args, project_dir, env=None, check=False, timeout=None, input=None):
        calls.append(args[:2])
        if args[:2] == ["stack", "output"]:
            found = args[3] == "alpha.production"
            return subprocess.CompletedProcess(args, 0 if found else 255, "{}",
                                               "" if found else f"error: no stack named '{args[3]}' found")
        listing = [{"name": "alpha.production"}, {"name": "org/email-partners/beta.production"}]
        return subprocess.CompletedProcess(args, 0, json_module.dumps(listing), "")

    monkeypatch.setattr(automation, "run_cli", fake_run_cli)
    names = automation.stack_names(tmp_path)
    assert "alpha.production" in names and calls == [["stack", "output"]]
    assert "beta.production" in names and "gamma.production" not in names and "alpha.production" in names
    assert calls == [["stack", "output"], ["stack", "ls"]]
