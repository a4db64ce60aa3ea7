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

The lock format is the engine's (pkg/backend/diy/lock.go: `{pid, username, hostname, timestamp}`
under `.pulumi/locks/<org>/<project>/<stack>/`), read from the engine's own refusal, which lists
every lock of the stack with its URL; so file and PostgreSQL backends are treated alike. A file
lock is deleted by its path (only that lock); other backends use `pulumi cancel`, run only when
every lock of the stack is stale.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

import click

from . import automation
from .exit_status import ExitStatus

LOCKED = "the stack is currently locked by"
# One line per lock in the engine's refusal: "  <url>: created by <user>@<host> (pid <pid>) at <RFC 3339 time>".
LOCK_LINE = re.compile(r"^\s*(?P<url>\S+): created by (?P<who>.+?) \(pid (?P<pid>\d+)\) at (?P<at>\S+)\s*$", re.M)


@dataclass(frozen=True)
class Lock:
    url: str
    user: str
    host: str
    pid: int
    at: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}) since {self.at}"

    @property
    def stale_because(self) -> Optional[str]:
        """Why the lock is provably stale, or None when it is not provably so."""
        if self.host != socket.gethostname():
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


def locks_in(message: str) -> list[Lock]:
    locks = []
    for match in LOCK_LINE.finditer(message):
        user, _, host = match["who"].rpartition("@")
        locks.append(Lock(match["url"], user, host, int(match["pid"]), match["at"]))
    return locks


def remove_stale(stack: str, locks: list[Lock], project_dir: Path, env: dict) -> None:
    """Delete each lock file by its path; a lock elsewhere than a file goes through `pulumi cancel`
    (which removes every lock of the stack: the caller checked that all of them are stale)."""
    others = []
    for lock in locks:
        parsed = urlparse(lock.url)
        if parsed.scheme != "file":
            others.append(lock)
            continue
        path = Path(unquote(parsed.path))
        try:
            content = json.loads(path.read_text())
        except FileNotFoundError:
            continue  # gone meanwhile: nothing to remove
        if content.get("pid") != lock.pid or content.get("hostname") != lock.host:
            raise automation.EngineError(f"lock {path} changed while recovering: left alone")
        path.unlink()
    if others:
        automation._checked(["cancel", "--yes", "--stack", stack], project_dir, env)


def pending_operations(stack: str, project_dir: Path, env: dict) -> list[str]:
    """What the engine recorded as in flight when the run ended: "SubAccount acme-account (creating)"."""
    exported = json.loads(automation._checked(["stack", "export", "--stack", stack], project_dir, env))
    return [f"{op['resource']['urn'].rsplit('::', 2)[-2].split(':')[-1]} {op['resource']['urn'].rsplit('::', 1)[-1]} "
            f"({op.get('type', 'pending')})" for op in (exported.get("deployment") or {}).get("pending_operations") or []]


def up_args(stack: str, project_dir: Path) -> list[str]:
    args = ["up", "--yes", "--skip-preview", "--stack", stack]
    if (project_dir / "policies").is_dir():
        args += ["--policy-pack", str(project_dir / "policies")]  # the same mandatory rules as every change
    return args


def recover_stack(stack: str, project_dir: Path, say=click.echo) -> bool:
    env = automation.engine_env()
    pending = pending_operations(stack, project_dir, env)
    if pending:
        say(f"{stack}: the last run ended with {len(pending)} operation(s) in flight: {', '.join(pending)}")
    result = automation.run_cli(up_args(stack, project_dir), project_dir, env)
    output = result.stdout + result.stderr
    if result.returncode != 0 and LOCKED in output:
        locks = locks_in(output)
        live = [lock for lock in locks if lock.stale_because is None]
        if not locks or live:
            for lock in live or locks:
                where = "this host" if lock.host == socket.gethostname() else f"host {lock.host}"
                say(f"{stack}: locked by {lock} on {where}: the process may still be running, so the lock "
                    f"stays. Wait for it to end (or, once you know it is gone, `pulumi cancel --stack {stack}`); "
                    f"nothing was changed.", err=True)
            return False
        for lock in locks:
            say(f"{stack}: removing the stale lock of {lock}: {lock.stale_because}")
        remove_stale(stack, locks, project_dir, env)
        result = automation.run_cli(up_args(stack, project_dir), project_dir, env)
        output = result.stdout + result.stderr
    say(result.stdout.rstrip())
    if result.returncode != 0:
        say(f"{stack}: the up failed: {result.stderr.strip()[-2000:]}", err=True)
        return False
    if pending_operations(stack, project_dir, env):
        automation._checked(["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack],
                            project_dir, env)
        say(f"{stack}: cleared the engine's record of the interrupted operation(s), now in state")
    say(f"{stack}: recovered at {datetime.now().astimezone().isoformat(timespec='seconds')}")
    return True


@click.command(help="After an interrupted `up` (killed, timed out): remove the stack's lock when provably stale, "
                    "run the `up` that takes over what the killed run made, then clear the pending operations.")
@click.argument("stacks", nargs=-1, required=True)
@click.pass_obj
def recover(ctx, stacks: tuple[str, ...]) -> ExitStatus:
    project_dir = ctx.require_stacks(stacks)
    ok = True
    for name in stacks:
        try:
            ok &= recover_stack(name, project_dir)
        except automation.EngineError as exc:
            click.echo(f"{name}: {exc}", err=True)
            ok = False
    return ExitStatus.OK if ok else ExitStatus.FAILED
