"""`email-partners backend copy --to URL`: a team's existing state moved onto another backend (a file
backend onto the team's PostgreSQL), every stack and the run history, secrets still encrypted.

For each stack of the project in the backend in use, in the engine's own terms: `pulumi stack export`
there (ciphertexts as they are: nothing is decrypted), `pulumi stack init` in the target (the stack
file keeps its encryption salt, so its secrets still decrypt with the same passphrase) and `pulumi
stack import`; then a `pulumi preview --expect-no-changes` of the copy (of one that holds resources), which must
plan nothing.
A stack the target already has with the very same resources counts as copied (a copy that was cut
short is run again); one with other state is refused, named, and left as it is. The run history's
entries are copied too (those the target lacks, by run). When every stack is copied, a file backend
is marked as moved (MOVED_FILE beside its stacks: where to, when, by whom): the tool then refuses to
run the engine on it, so that no customer is changed in two places. Each copied stack is recorded in
the target's run history, with the vendor objects it manages.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from providers.ownership import VendorObject, backend_label

from ..backend.location import MOVED_FILE, current_backend, file_root
from ..engine.cli import init_stack, list_stacks, run_checked, run_cli
from ..engine.environment import READ_MOVED_VARIABLE, engine_env
from ..engine.errors import EngineError
from ..errors import OperationError, UsageError
from ..history.audit import Action, Audit
from ..history.model import actor, now_utc
from ..history.store import HistoryStore, location_for
from ..notifications.store import copy_deliveries
from ..ownership.index import read_ownership, refreshed
from ..values import SECRET_SIG

Say = Callable[[str], None]


@dataclass
class StackCopy:
    stack: str
    result: str = "failed"            # copied, already there, failed
    resources: int = 0
    error: Optional[str] = None
    objects: list[VendorObject] = field(default_factory=list)


@dataclass
class BackendCopy:
    source: str                       # labels (no password)
    target: str
    stacks: list[StackCopy] = field(default_factory=list)
    history_entries: int = 0
    notifications: int = 0  # messages to sinks (what each was told), copied with the runs
    moved: bool = False               # the source is marked as moved

    @property
    def ok(self) -> bool:
        return all(s.result != "failed" for s in self.stacks)


def _opaque(value: Any) -> Any:
    """A value with each secret as one stand-in: an import encrypts each secret afresh, so two copies of one
    state hold different ciphertexts for the same value (which nothing here decrypts)."""
    if isinstance(value, dict):
        return "[secret]" if SECRET_SIG in value else {k: _opaque(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_opaque(v) for v in value]
    return value


def _resources(deployment: dict[str, Any]) -> list[tuple]:
    """What a copy must hold the same of: each resource's URN, id, inputs and outputs (secrets as stand-ins)."""
    return [(r.get("urn"), r.get("id"), json.dumps(_opaque(r.get("inputs")), sort_keys=True),
             json.dumps(_opaque(r.get("outputs")), sort_keys=True))
            for r in (deployment.get("deployment") or {}).get("resources") or []]


def copy_stack(stack: str, project_dir: Path, source_env: dict[str, str], target_env: dict[str, str],
               in_target: bool) -> StackCopy:
    done = StackCopy(stack)
    try:
        exported = json.loads(run_checked(["stack", "export", "--stack", stack], project_dir, source_env))
        done.resources = len(_resources(exported))
        if in_target:
            theirs = json.loads(run_checked(["stack", "export", "--stack", stack], project_dir, target_env))
            if _resources(theirs) != _resources(exported):
                done.error = (f"the target already has stack {stack} with other state: it was left as it is, and "
                              f"nothing of {stack} was copied")
                return done
            done.result = "already there"
        else:
            init_stack(stack, project_dir, env=target_env)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "state.json"
                path.write_text(json.dumps(exported))
                run_checked(["stack", "import", "--stack", stack, "--file", str(path)], project_dir, target_env)
        if not done.resources:  # an empty stack (never deployed): nothing a preview could compare
            done.result = done.result if done.result == "already there" else "copied"
            return done
        check = run_cli(["preview", "--stack", stack, "--expect-no-changes"], project_dir, target_env)
        if check.returncode != 0:
            done.result = "failed"
            done.error = ("the copy does not preview without changes: "
                          + (check.stderr.strip() or check.stdout.strip())[-1500:])
            return done
        done.result = done.result if done.result == "already there" else "copied"
    except (EngineError, ValueError) as exc:
        done.error = str(exc)
    return done


def copy_history(source_url: str, target_url: str) -> tuple[int, int]:
    """The source's run history entries the target lacks (by run), in one transaction, then the
    notifications it lacks (by delivery): how many of each."""
    source = HistoryStore(location_for(source_url, engine_env()))
    target = HistoryStore(location_for(target_url, engine_env()))
    known = target.run_ids()
    entries = [e for e in reversed(source.entries()) if e.run_id not in known]
    target.record(entries)
    return len(entries), copy_deliveries(source, target)


def copy_backend(project_dir: Path, to_url: str, parallel: int = 2, say: Say = print) -> BackendCopy:
    source_env = engine_env(**{READ_MOVED_VARIABLE: "1"})
    source = current_backend(source_env)
    if source is None:
        raise UsageError("no state backend is set to copy from: set PULUMI_BACKEND_URL to it (the team's new backend "
                         "goes in --to)")
    target_env = engine_env(PULUMI_BACKEND_URL=to_url)
    report = BackendCopy(source=backend_label(source.url) or "?", target=backend_label(to_url) or "?")
    if report.source == report.target:
        raise UsageError(f"--to names the backend in use ({report.target}): nothing to copy")
    names = list_stacks(project_dir, source_env)
    in_target = set(list_stacks(project_dir, target_env))
    objects = read_ownership(project_dir, source_env)
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        report.stacks = list(pool.map(lambda name: copy_stack(name, project_dir, source_env, target_env,
                                                              name in in_target), names))
    for done in report.stacks:
        done.objects = objects.objects_of(done.stack)
        say(f"{done.stack}: {done.result}" + (f" ({done.resources} resources)" if done.result != "failed" else "")
            + (f": {done.error}" if done.error else ""))
    try:
        report.history_entries, report.notifications = copy_history(source.url, to_url)
    except OperationError as exc:
        say(f"the run history was not copied: {exc}")
        report.stacks.append(StackCopy("(run history)", error=str(exc)))
    audit = Audit("backend copy", project_dir, target_env)
    for done in report.stacks:
        if done.stack != "(run history)":
            audit.add(Action(done.stack, done.result, done.objects, f"from {report.source} to {report.target}",
                             error=done.error))
    audit.record()
    if report.ok and source.kind == "file":
        record = {"to": report.target, "at": now_utc(), "by": actor(source_env), "stacks": names}
        (file_root(source.url) / MOVED_FILE).write_text(json.dumps(record, indent=2) + "\n")
        report.moved = True
    if report.ok:
        try:
            refreshed(project_dir, target_env)  # the ownership index of the backend the team uses from now on
        except OperationError:
            pass
    return report
