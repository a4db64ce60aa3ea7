"""`promote STACK --to ENV`: the change rehearsed on a copy, carried to the stack it was copied from.

1. The copy's base: its record (stacks/copies/<copy>.yaml, written by `clone`), or, for a copy made
   before clone kept one, `--base REF`: the git commit where both stack files were as clone left them.
2. The plan (changes.py): only the copy's own change, mapped back through the copy rules. A field
   that needs a decision refuses the whole promotion, naming it; nothing is written.
3. The rehearsal: the copy's stack file must be what its last `up` deployed (the backend's state
   compared with the file by the providers' own code, as the status page's "needs up"), or the
   change was never tried (`--unrehearsed` promotes it all the same).
4. The target's stack file, edited in place (stack_file.py), and its diff. `dry_run` stops here.
5. Recorded: stacks/promotions/<target>.yaml (review shows it), the run history, and the copy's
   base moved forward, so the next promotion carries only what is rehearsed after this one.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from ..backend.location import BackendError, current_backend
from ..backend.state import read_stacks
from ..drift.secrets import with_opaque_state
from ..history.model import Promotion, PromotedField, RunEntry, actor, git_commit, now_utc
from ..history.runs import record, run_fields
from ..project.environments import load_environment
from ..project.stacks import CUSTOMER_KEY, CustomerStack, load_stack, project_name
from ..status.read import needs_up_check
from .changes import PromotionError, PromotionPlan, applied, plan_promotion, words
from .records import (CopyRecord, PromotionRecord, read_copy_record, write_copy_record, write_promotion_record,
                      without_secrets)
from .stack_file import edited_text, unified_diff


@dataclass
class Promoted:
    """What `promote` did: the plan, the target's file and its diff; `written` False for a dry run or
    when there was nothing to promote."""

    plan: PromotionPlan
    target_file: Path
    diff: str = ""
    written: bool = False
    record_file: Optional[Path] = None
    base_file: Optional[Path] = None
    warnings: list[str] = field(default_factory=list)


def refusal(plan: PromotionPlan) -> str:
    """Every field that needs a decision, with the way to give it."""
    lines = [f"{plan.copy_stack} -> {plan.target}: {len(plan.decisions)} change(s) cannot be promoted without a "
             f"decision; nothing was written:"]
    for decision in plan.decisions:
        how = (f"pass --set {decision.field}=VALUE, or edit stacks/Pulumi.{plan.target}.yaml by hand"
               if decision.settable else f"edit stacks/Pulumi.{plan.target}.yaml by hand")
        change = "" if decision.copy_old is None and decision.copy_new is None \
            else f" (on the copy: {words(decision.copy_old)} -> {words(decision.copy_new)})"
        lines.append(f"  {decision.field}{change}: {decision.reason}; {how}")
    return "\n".join(lines)


def _file_at(project_dir: Path, ref: str, stack: str) -> dict[str, Any]:
    """A stack's declaration as committed at `ref`."""
    shown = subprocess.run(["git", "show", f"{ref}:./stacks/Pulumi.{stack}.yaml"], cwd=project_dir,
                           capture_output=True, text=True)
    if shown.returncode != 0:
        raise PromotionError(f"--base {ref}: git has no stacks/Pulumi.{stack}.yaml there ({shown.stderr.strip()})")
    try:
        return ((yaml.safe_load(shown.stdout) or {}).get("config") or {}).get(CUSTOMER_KEY) or {}
    except (yaml.YAMLError, AttributeError) as exc:
        raise PromotionError(f"--base {ref}: stacks/Pulumi.{stack}.yaml is not a stack file there: {exc}") from None


def base_from_git(project_dir: Path, ref: str, copy: CustomerStack, target: str, env: Mapping[str, str]) -> CopyRecord:
    """The copy's base from git, for a copy made before clone kept a record: both files at `ref`, and the
    copy environment's rules as they are now."""
    source, copied = _file_at(project_dir, ref, target), _file_at(project_dir, ref, copy.name)
    if not copied:
        raise PromotionError(f"--base {ref}: stacks/Pulumi.{copy.name}.yaml declares no customer there")
    names = [str(s.get("domain") or "").lower() for s in copied.get("sending_domains") or []]
    sources = [str(s.get("domain") or "").lower() for s in source.get("sending_domains") or []]
    at = now_utc()
    return CopyRecord(stack=copy.name, source=target, environment=copy.environment or "", rules=load_environment(
        project_dir, copy.environment or "").spec.copies, copied_at=at, based_at=at, based_on=f"--base {ref}",
        commit=ref, source_declaration=source, copy_declaration=copied, domains=dict(zip(names, sources)))


def no_record(copy: CustomerStack, to: str) -> str:
    return (f"{copy.name} has no copy record (stacks/copies/{copy.name}.yaml): it was cloned before `clone` kept "
            f"one, or made by hand, so its rehearsed change cannot be told from the copy rules' rewrites. Pass "
            f"--base REF, a git commit where stacks/Pulumi.{copy.name}.yaml was as clone wrote it (e.g. the commit "
            f"that added it: `git log --diff-filter=A --format=%h -- stacks/Pulumi.{copy.name}.yaml`), and --as "
            f"TARGET if the target is not {copy.customer}.{to}; or clone it again with --force (which rewrites the "
            f"copy from its source, losing its changes)")


def rehearsal_gaps(project_dir: Path, stack: CustomerStack, env: Mapping[str, str]) -> tuple[list[str], Optional[str]]:
    """(what the copy's file declares that its last `up` did not deploy, or why that cannot be told)."""
    backend = current_backend(env)
    if backend is None:
        return [], "no state backend is configured"
    project = project_name(project_dir)
    try:
        state = read_stacks(backend, project, [stack.name])[stack.name]
    except BackendError as exc:
        return [], str(exc)
    if state.status == "not deployed":
        return [f"{stack.name} was never deployed"], None
    if state.status != "recorded":
        return [], state.reason or f"its state is {state.status}"
    # A write-only secret (a subuser's password) is never promoted: compared opaque, as the sweep does.
    state = state.model_copy(update={"resources": [with_opaque_state(r) for r in state.resources]})
    try:
        gaps = needs_up_check(project_dir, project)(stack, state)
    except Exception as exc:  # noqa: BLE001 - state only the engine reads: said, not fatal
        return [], f"its state cannot be compared here: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return [f"{d.type} {d.resource}" + (f" {d.field}" if d.field else "") + f": {d.op}" for d in gaps], None


def promote(project_dir: Path, stack: str, to: str, target_name: Optional[str] = None,
            overrides: Optional[Mapping[str, Any]] = None, base_ref: Optional[str] = None, dry_run: bool = False,
            unrehearsed: bool = False, env: Optional[Mapping[str, str]] = None) -> Promoted:
    """Carry the change rehearsed on copy `stack` into its source in environment `to` (the module docstring)."""
    env = os.environ if env is None else env
    started, started_at = time.monotonic(), now_utc()
    copy = load_stack(project_dir, stack)
    load_environment(project_dir, to)  # an unknown environment is named before anything else
    record = read_copy_record(project_dir, stack) if base_ref is None else None
    if record is None and base_ref is None:
        raise PromotionError(no_record(copy, to))
    target_name = target_name or (record.source if record else f"{copy.customer}.{to}")
    if target_name == stack:
        raise PromotionError(f"--as {target_name}: the copy itself; name the stack it was copied from")
    target = load_stack(project_dir, target_name)
    if target.environment != to:
        raise PromotionError(f"--to {to}: {target_name} is in environment {target.environment!r}, not {to!r} "
                             f"(pass --as with a stack of {to})")
    if record is None:
        record = base_from_git(project_dir, base_ref, copy, target_name, env)
    if target.platform != record.source_declaration.get("platform"):
        raise PromotionError(f"{target_name} is on {target.platform}, but {stack} was copied from a "
                             f"{record.source_declaration.get('platform')} customer: nothing to promote between them")
    plan = plan_promotion(record, copy.declaration, target.declaration, target_name, overrides)
    if plan.decisions:
        raise PromotionError(refusal(plan))
    result = Promoted(plan=plan, target_file=target.file)
    if not plan.changes:
        return result
    if not unrehearsed:
        gaps, unknown = rehearsal_gaps(project_dir, copy, env)
        if gaps:
            raise PromotionError(f"{stack} declares what its last `up` did not deploy, so the change was not "
                                 f"rehearsed: {'; '.join(gaps)}. Run `pulumi up --stack {stack}` first (or pass "
                                 f"--unrehearsed); nothing was written")
        if unknown:
            result.warnings.append(f"warning: cannot tell whether {stack}'s change was deployed ({unknown}); "
                                   f"promoting it all the same")
    old, new = edited_text(target.file, plan.changes)
    result.diff = unified_diff(target.file, project_dir, old, new)
    if dry_run:
        return result
    target.file.write_text(new)
    result.written = True
    commit, who = git_commit(project_dir, env), actor(env)
    fields = [change.model_dump() for change in plan.changes]
    result.record_file = write_promotion_record(project_dir, PromotionRecord(
        target=target_name, source=stack, base=plan.base, based_on=record.based_on, base_commit=record.commit,
        promoted_at=started_at, promoted_by=who, commit=commit, fields=fields, left_out=plan.left_out))
    copied = {str(s.get("domain") or "").lower() for s in copy.declaration.get("sending_domains") or []}
    result.base_file = write_copy_record(project_dir, record.model_copy(update={
        "source": target_name, "based_at": started_at, "based_on": "promote", "commit": commit,
        "source_declaration": without_secrets(applied(target.declaration, plan.changes)),
        "copy_declaration": without_secrets(copy.declaration),
        "domains": {k: v for k, v in plan.domains.items() if k in copied}}))
    _record_history(project_dir, target, plan, started, started_at, env)
    return result


def _record_history(project_dir: Path, target: CustomerStack, plan: PromotionPlan, started: float, started_at: str,
                    env: Mapping[str, str]) -> None:
    entry = RunEntry(**run_fields(project_dir, 0, started_at, env), operation="promote", stack=target.name,
                     customer=target.customer, platform=target.platform, environment=target.environment,
                     result="promoted", duration_seconds=round(time.monotonic() - started, 2),
                     promotion=Promotion(source=plan.copy_stack, base=plan.base, fields=[
                         PromotedField(field=c.field, old=c.old, new=c.new) for c in plan.changes]))
    record([entry], env)
