"""Recording a run in the history, and finding a customer's runs.

A run's entries are written in one transaction (operations/fleet/record.py and
operations/review/record.py build them). A history that cannot be written is a warning, never a
failed run: the operation's work is done by then. Where the history is kept: store.py.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from ..backend.location import current_backend
from ..project.stacks import ProjectError, customer_stacks
from .model import RunEntry, actor, git_commit, tool_version
from .store import HistoryError, HistoryStore, location_for


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def store_for(env: Optional[Mapping[str, str]] = None) -> HistoryStore:
    """The history of the state backend the engine uses (PULUMI_BACKEND_URL, else `pulumi login`'s)."""
    env = os.environ if env is None else env
    backend = current_backend(env)
    return HistoryStore(location_for(backend.url if backend else None, env))


def run_fields(project_dir: Path, exit_status: Optional[int], started_at: str,
               env: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """What every entry of one run shares: its id and start, the commit, who ran it."""
    env = os.environ if env is None else env
    return dict(run_id=uuid.uuid4().hex, started_at=started_at, git_commit=git_commit(project_dir, env),
                actor=actor(env), tool_version=tool_version(), run_exit_status=exit_status)


def record(entries: Sequence[RunEntry], env: Optional[Mapping[str, str]] = None,
           warn: Callable[[str], None] = _stderr) -> bool:
    """One run's entries in one transaction; False (and a warning) when the history cannot be written."""
    try:
        store_for(env).record(entries)
        return True
    except (HistoryError, OSError) as exc:
        warn(f"warning: the run history was not recorded: {exc}")
        return False


def stacks_named(project_dir: Path, name: str, recorded: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The stacks `name` means: itself, and every stack whose name or customer matches it (a shell
    pattern works too), among the project's stack files and the stacks the history holds runs of
    (`recorded`: (stack, customer) pairs), so a retired customer is found under every stack it had."""
    names = {name} if not any(c in name for c in "*?[") else set()
    try:
        stacks = [(s.name, s.customer) for s in customer_stacks(project_dir)]
    except ProjectError:
        stacks = []
    for stack, customer in [*stacks, *recorded]:
        if fnmatch.fnmatchcase(stack, name) or fnmatch.fnmatchcase(customer, name):
            names.add(stack)
    return sorted(names)
