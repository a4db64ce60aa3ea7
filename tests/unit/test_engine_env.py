"""What every engine run gets from operations/engine/: the DIY backend's listing parallelism
(the PostgreSQL `stack ls` hang) and SIGINT not ignored (the engine stops plugins with it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from operations.engine.environment import DIY_BACKEND_PARALLEL, engine_env

REPO = Path(__file__).resolve().parents[2]


def test_every_engine_run_lists_stacks_with_one_worker():
    assert engine_env({"PATH": "/usr/bin"})["PULUMI_DIY_BACKEND_PARALLEL"] == DIY_BACKEND_PARALLEL == "1"
    # Someone who set the engine's own variable keeps it.
    assert engine_env({"PATH": "/usr/bin", "PULUMI_DIY_BACKEND_PARALLEL": "2"})["PULUMI_DIY_BACKEND_PARALLEL"] == "2"


def _ignored_in_child(ignore: list[str], tmp_path: Path) -> set[str]:
    """Start a Python process with `ignore` ignored (as nohup and `cmd &` do), let it start the engine the
    way every subcommand does (operations/engine/cli.py's run_cli; here a stand-in `pulumi` that prints
    its own /proc status), and read which signals the engine process has ignored (the SigIgn mask)."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\ngrep SigIgn /proc/self/status\n")
    fake.chmod(0o755)
    code = f"""
import signal
from pathlib import Path
for name in {ignore!r}:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
from operations.engine.cli import run_cli
print(run_cli(["version"], Path({str(tmp_path)!r})).stdout)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PULUMI_BIN_DIR": str(fake.parent),
                              "PULUMI_BACKEND_URL": f"file://{tmp_path}"}).stdout
    mask = int(out.split()[-1], 16)
    return {name for name in ("SIGHUP", "SIGINT") if mask & (1 << (getattr(__import__("signal"), name) - 1))}


def test_engine_processes_get_sigint_even_when_the_tool_was_started_with_it_ignored(tmp_path):
    assert _ignored_in_child(["SIGINT", "SIGHUP"], tmp_path / "a") == {"SIGHUP"}  # nohup's SIGHUP stays ignored: it costs nothing
    assert _ignored_in_child([], tmp_path / "b") == set()


def test_stacks_in_backend_asks_one_name_then_lists_once(monkeypatch, tmp_path):
    """The first name alone (`stack output`), the listing once from the second name on: each answer
    at the cost of at most two engine runs, however many names are asked."""
    import json as json_module

    from operations.engine import cli as engine_cli

    calls = []

    def fake_run_cli(args, project_dir, env=None, check=False, timeout=None, input=None):
        calls.append(args[:2])
        if args[:2] == ["stack", "output"]:
            found = args[3] == "alpha.production"
            return subprocess.CompletedProcess(args, 0 if found else 255, "{}",
                                               "" if found else f"error: no stack named '{args[3]}' found")
        listing = [{"name": "alpha.production"}, {"name": "org/email-partners/beta.production"}]
        return subprocess.CompletedProcess(args, 0, json_module.dumps(listing), "")

    monkeypatch.setattr(engine_cli, "run_cli", fake_run_cli)
    names = engine_cli.stack_names(tmp_path)
    assert "alpha.production" in names and calls == [["stack", "output"]]
    assert "beta.production" in names and "gamma.production" not in names and "alpha.production" in names
    assert calls == [["stack", "output"], ["stack", "ls"]]
