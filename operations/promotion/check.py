"""`promote --check`: which copies have a rehearsed change not yet in their target, and which targets
changed since their copy was made. From the stack files and the copy records only: no engine, no
vendor, nothing written. The status page shows the same per customer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Optional, Sequence

from pydantic import BaseModel, Field

from ..history.model import PromotedField
from ..project.stacks import CustomerStack, ProjectError, load_stack
from .changes import Decision, PromotionError, plan_promotion
from .records import CopyRecord, copy_records, read_promotion_record

State = Literal["in sync", "to promote", "target changed", "both changed", "needs a decision", "no record",
                "target missing", "unreadable"]
CLONED_HEADER = re.compile(r"^# .*cloned from stack '(?P<source>[^']+)'", re.M)


class CopyStatus(BaseModel):
    """One copy against its target (the stack it was copied from)."""

    copy_stack: str
    target: Optional[str] = None
    environment: Optional[str] = None
    target_environment: Optional[str] = None
    state: State
    base: Optional[str] = Field(None, description="the copy's base (its record's fingerprint)")
    based_at: Optional[str] = None
    to_promote: list[PromotedField] = Field(default_factory=list, description="what `promote` would write")
    needs_decision: list[Decision] = Field(default_factory=list)
    target_changed: list[PromotedField] = Field(default_factory=list, description="the target's own changes since "
                                                                                 "the copy's base")
    reason: Optional[str] = None


class PromotionStatus(BaseModel):
    """A customer's promotion facts for the status page: as a copy, and as a target."""

    as_copy: Optional[CopyStatus] = None
    last_promoted_from: Optional[str] = None
    last_promoted_at: Optional[str] = None


def copy_status(project_dir: Path, record: CopyRecord, copy: CustomerStack) -> CopyStatus:
    status = CopyStatus(copy_stack=copy.name, target=record.source, environment=copy.environment, state="in sync",
                        base=record.base, based_at=record.based_at)
    try:
        target = load_stack(project_dir, record.source)
    except ProjectError:
        status.state, status.reason = "target missing", f"no stacks/Pulumi.{record.source}.yaml"
        return status
    status.target_environment = target.environment
    try:
        plan = plan_promotion(record, copy.declaration, target.declaration, target.name)
    except PromotionError as exc:
        status.state, status.reason = "unreadable", str(exc)
        return status
    status.to_promote = [PromotedField(field=c.field, old=c.old, new=c.new) for c in plan.changes]
    status.needs_decision, status.target_changed = plan.decisions, plan.target_changed
    ahead, behind = bool(plan.changes or plan.decisions), bool(plan.target_changed)
    status.state = ("needs a decision" if plan.decisions else "both changed" if ahead and behind
                    else "to promote" if ahead else "target changed" if behind else "in sync")
    return status


def check_copies(project_dir: Path, stacks: Sequence[CustomerStack]) -> list[CopyStatus]:
    """Every copy among `stacks`: those with a record, and those whose file says clone made them but
    that have none (made before clone kept records: promote them with --base)."""
    records = {r.stack: r for r in copy_records(project_dir)}
    found = []
    for stack in stacks:
        if stack.name in records:
            found.append(copy_status(project_dir, records[stack.name], stack))
            continue
        header = CLONED_HEADER.search(stack.file.read_text().split("\nconfig:", 1)[0]) if stack.file.exists() else None
        if header:
            found.append(CopyStatus(copy_stack=stack.name, target=header["source"], environment=stack.environment,
                                    state="no record", reason="cloned before clone kept a base: promote with --base REF"))
    return found


def promotion_statuses(project_dir: Path, stacks: Sequence[CustomerStack]) -> dict[str, PromotionStatus]:
    """Per stack (those with anything to say): its copy's state, and the last promotion into it."""
    found: dict[str, PromotionStatus] = {}
    for status in check_copies(project_dir, stacks):
        found[status.copy_stack] = PromotionStatus(as_copy=status)
    for stack in stacks:
        try:
            last = read_promotion_record(project_dir, stack.name)
        except ProjectError:
            last = None
        if last is not None:
            entry = found.setdefault(stack.name, PromotionStatus())
            entry.last_promoted_from, entry.last_promoted_at = last.source, last.promoted_at
    return found
