"""Which customer stack files a pull request touches, as git sees them since a base ref.

A deleted stack file is the most dangerous change a review can miss: the customer's account stays
live and its state stays in the backend, but nothing manages it any more (the fleet only sees stack
files). A rename is the same thing plus a new customer: a stack's name is its identity.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

import yaml

from ..errors import UsageError
from ..project.stacks import CUSTOMER_KEY


@dataclass
class RemovedStack:
    """A stack whose file is gone since the base; `renamed_to` when git (or its content) says rename."""

    name: str
    config: dict[str, Any]
    renamed_to: Optional[str] = None

    @property
    def platform(self) -> Optional[str]:
        return (self.config.get(CUSTOMER_KEY) or {}).get("platform")


@dataclass
class StackFileChanges:
    changed: list[str] = field(default_factory=list)       # added, modified, or the new name of a rename
    removed: list[RemovedStack] = field(default_factory=list)

    @property
    def renamed_from(self) -> dict[str, str]:
        return {r.renamed_to: r.name for r in self.removed if r.renamed_to}


def _stack_name(path: str) -> Optional[str]:
    p = PurePosixPath(path.strip())
    if p.parent == PurePosixPath("stacks") and p.name.startswith("Pulumi.") and p.suffix == ".yaml":
        return p.name[len("Pulumi."):-len(".yaml")]
    return None


def _git(project_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True)


def _config_at(project_dir: Path, ref: str, path: str) -> dict[str, Any]:
    shown = _git(project_dir, "show", f"{ref}:./{path}")
    try:
        data = yaml.safe_load(shown.stdout) if shown.returncode == 0 else None
    except yaml.YAMLError:
        data = None
    return (data or {}).get("config") or {} if isinstance(data, dict) else {}


def _declaration_now(project_dir: Path, name: str) -> Any:
    try:
        data = yaml.safe_load((project_dir / "stacks" / f"Pulumi.{name}.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    return ((data.get("config") or {}) if isinstance(data, dict) else {}).get(CUSTOMER_KEY)


def stack_file_changes(project_dir: Path, base: str, option: str = "--base") -> StackFileChanges:
    """Stack files added, modified, renamed or deleted since `base` (committed or not, untracked too);
    `option` names the option that gave `base` in a usage error."""
    diff = _git(project_dir, "diff", "-z", "--name-status", "-M", "--relative", base, "--", "stacks")
    if diff.returncode != 0:
        raise UsageError(f"{option} {base}: git cannot compare with it: {diff.stderr.strip()}")
    untracked = _git(project_dir, "ls-files", "-z", "--others", "--exclude-standard", "--", "stacks").stdout
    changes = StackFileChanges()
    fields = diff.stdout.split("\0")
    i = 0
    added: list[str] = []
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[0] in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if status[0] == "R" and _stack_name(old):
                changes.removed.append(RemovedStack(_stack_name(old), _config_at(project_dir, base, old),
                                                    renamed_to=_stack_name(new)))
            if _stack_name(new):
                changes.changed.append(_stack_name(new))
            continue
        path = fields[i + 1]
        i += 2
        name = _stack_name(path)
        if name is None:
            continue
        if status[0] == "D":
            changes.removed.append(RemovedStack(name, _config_at(project_dir, base, path)))
        else:
            changes.changed.append(name)
            if status[0] == "A":
                added.append(name)
    for path in untracked.split("\0"):
        name = _stack_name(path) if path else None
        if name:
            changes.changed.append(name)
            added.append(name)
    # A rename git could not see (a deleted file and an untracked one): the same declaration under a new name.
    for removed in changes.removed:
        if removed.renamed_to is None and removed.config.get(CUSTOMER_KEY) is not None:
            twin = next((a for a in added if _declaration_now(project_dir, a) == removed.config[CUSTOMER_KEY]
                         and a not in changes.renamed_from), None)
            removed.renamed_to = twin
    changes.changed = sorted(set(changes.changed))
    changes.removed.sort(key=lambda r: r.name)
    return changes
