"""`email-partners recover STACK...`: finish what an interrupted `pulumi up` left, in one command.

After a killed run (kill -9, a CI time-out, a lost machine) a stack can hold the dead run's lock
and the engine's record of the operations it had in flight. The order matters (see README,
"Interrupted runs"), so this command does it for each stack:

1. the `up`, which takes over what the killed run made (each SubAccount and Cakemail DKIM key
   recognises its own object) and puts the rest of the stack as declared;
2. when that `up` finds the stack locked, the lock is removed only when it is provably stale:
   written by a process of this host that no longer exists. A lock of another host, or of a
   process still alive, is named (user, host, pid, time) and the stack is left alone;
3. after a successful `up`, the engine's stale pending operations are cleared
   (`pulumi refresh --clear-pending-creates`): never before, when the object is in no state yet.

The lock format is the engine's (operations/backend/locks.py), read from the engine's own refusal
(the SDK classifies it as ConcurrentUpdateError), which lists every lock of the stack with its URL;
so file and PostgreSQL backends are treated alike. A file
lock is deleted by its path (only that lock); other backends use `pulumi cancel`, run only when
every lock of the stack is stale.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from ..backend.locks import Lock, locks_in_refusal
from ..engine.cli import exported_state, run_checked, run_cli
from ..engine.environment import engine_env
from ..engine.errors import ConcurrentUpdateError, EngineError, classified
from ..engine.urns import kind_of_urn, name_of_urn
from ..errors import OperationError
from ..history.audit import Action, Audit
from ..ownership.index import refreshed

Say = Callable[[str], None]


def remove_stale(stack: str, locks: list[Lock], project_dir: Path, env: dict) -> None:
    """Delete each lock file by its path; a lock elsewhere than a file goes through `pulumi cancel`
    (which removes every lock of the stack: the caller checked that all of them are stale)."""
    others = []
    for lock in locks:
        parsed = urlparse(lock.url or "")
        if parsed.scheme != "file":
            others.append(lock)
            continue
        path = Path(unquote(parsed.path))
        try:
            content = json.loads(path.read_text())
        except FileNotFoundError:
            continue  # gone meanwhile: nothing to remove
        if content.get("pid") != lock.pid or content.get("hostname") != lock.hostname:
            raise EngineError(f"lock {path} changed while recovering: left alone")
        path.unlink()
    if others:
        run_checked(["cancel", "--yes", "--stack", stack], project_dir, env)


def pending_operations(stack: str, project_dir: Path, env: dict) -> list[str]:
    """What the engine recorded as in flight when the run ended: "SubAccount acme-account (creating)"."""
    deployment = exported_state(stack, project_dir, env) or {}
    return [f"{kind_of_urn(op['resource']['urn'])} {name_of_urn(op['resource']['urn'])} ({op.get('type', 'pending')})"
            for op in deployment.get("pending_operations") or []]


def up_args(stack: str, project_dir: Path) -> list[str]:
    args = ["up", "--yes", "--skip-preview", "--stack", stack]
    if (project_dir / "policies").is_dir():
        args += ["--policy-pack", str(project_dir / "policies")]  # the same mandatory rules as every change
    return args


def recover_stack(stack: str, project_dir: Path, say: Say = print, warn: Say = print) -> bool:
    """Recover one stack (see the module docstring). Its run is recorded in the history: what was done
    (in the lines said), why it failed, and the vendor objects the stack manages afterwards."""
    audit = Audit("recover", project_dir)
    action = audit.add(Action(stack, "failed"))
    done: list[str] = []

    def said(text: str) -> None:
        say(text)
        if text.startswith(f"{stack}: "):
            done.append(text[len(stack) + 2:])

    def warned(text: str) -> None:
        warn(text)
        action.error = text[len(stack) + 2:] if text.startswith(f"{stack}: ") else text

    try:
        ok = _recover(stack, project_dir, said, warned)
        action.result = "recovered" if ok else "failed"
        return ok
    except Exception as exc:
        action.error = str(exc)
        raise
    finally:
        try:
            action.objects = refreshed(project_dir).objects_of(stack)
        except OperationError:
            pass
        action.detail = "; ".join(done) or None
        audit.record()


def _recover(stack: str, project_dir: Path, say: Say, warn: Say) -> bool:
    env = engine_env()
    pending = pending_operations(stack, project_dir, env)
    if pending:
        say(f"{stack}: the last run ended with {len(pending)} operation(s) in flight: {', '.join(pending)}")
    result = run_cli(up_args(stack, project_dir), project_dir, env)
    if isinstance(classified(result), ConcurrentUpdateError):
        locks = locks_in_refusal(result.stdout + result.stderr)
        live = [lock for lock in locks if lock.stale_because is None]
        if not locks or live:
            for lock in live or locks:
                where = "this host" if lock.hostname == socket.gethostname() else f"host {lock.hostname}"
                warn(f"{stack}: locked by {lock} on {where}: the process may still be running, so the lock "
                     f"stays. Wait for it to end (or, once you know it is gone, `pulumi cancel --stack {stack}`); "
                     f"nothing was changed.")
            return False
        for lock in locks:
            say(f"{stack}: removing the stale lock of {lock}: {lock.stale_because}")
        remove_stale(stack, locks, project_dir, env)
        result = run_cli(up_args(stack, project_dir), project_dir, env)
    say(result.stdout.rstrip())
    if result.returncode != 0:
        warn(f"{stack}: the up failed: {result.stderr.strip()[-2000:]}")
        return False
    if pending_operations(stack, project_dir, env):
        run_checked(["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack],
                    project_dir, env)
        say(f"{stack}: cleared the engine's record of the interrupted operation(s), now in state")
    say(f"{stack}: recovered at {datetime.now().astimezone().isoformat(timespec='seconds')}")
    return True
