"""`--changed-since REF`: the customers a change since a git ref touches, as Terramate's `--changed` does.

- a stack file added, modified or renamed since REF: that customer (review/files.py finds them, and the
  deleted and renamed ones, which the fleet can no longer run: they are named, in review's words);
- an environment file (`stacks/environments/<env>.yaml`): every customer of that environment;
- the code every customer runs (the program, `stacks/*.py` and `Pulumi.yaml`; `providers/`; the policy
  pack, `policies/`; `pyproject.toml`, which pins the engine and the SDK): every customer.
Committed or not, untracked files included (what the working tree holds is what would run). On the
default branch after a merge, `--changed-since HEAD^` is the apply-on-merge selection.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import UsageError
from ..project.stacks import CustomerStack, split_stack_name
from ..review.files import RemovedStack, stack_file_changes
from ..review.plan import removed_review

ENVIRONMENTS = "stacks/environments/"
EVERY_CUSTOMER = ("Pulumi.yaml", "pyproject.toml", "providers/", "policies/")  # and stacks/*.py, the program
SHOWN = 5


def _is_program(path: str) -> bool:
    p = PurePosixPath(path)
    return str(p.parent) == "stacks" and p.suffix == ".py"


def affects_everyone(path: str) -> bool:
    if "__pycache__/" in path or path.endswith(".pyc"):
        return False  # interpreters' caches, when a repository does not ignore them
    return _is_program(path) or any(path == s or (s.endswith("/") and path.startswith(s)) for s in EVERY_CUSTOMER)


@dataclass
class ChangedSince:
    ref: str
    stacks: set[str] = field(default_factory=set)        # stack files added, modified, or a rename's new name
    environments: set[str] = field(default_factory=set)  # environments whose file changed
    shared: list[str] = field(default_factory=list)      # changed files every customer runs
    removed: list[RemovedStack] = field(default_factory=list)

    def selects(self, stack: CustomerStack) -> bool:
        return bool(self.shared) or stack.name in self.stacks or stack.environment in self.environments

    def notes(self) -> list[str]:
        """What the selection is, and each stack file the change deletes or renames (review's words)."""
        notes = []
        if self.shared:
            more = f" and {len(self.shared) - SHOWN} more" if len(self.shared) > SHOWN else ""
            notes.append(f"--changed-since {self.ref}: every customer (the code they all run changed: "
                         f"{', '.join(self.shared[:SHOWN])}{more})")
        else:
            parts = ([f"{len(self.stacks)} stack file(s)"] if self.stacks else []) + \
                    [f"environment {e} (stacks/environments/{e}.yaml)" for e in sorted(self.environments)]
            notes.append(f"--changed-since {self.ref}: the customers of {', '.join(parts)}" if parts else
                         f"--changed-since {self.ref}: no stack file, environment file or shared code changed")
        for removed in self.removed:
            review = removed_review(removed.name, split_stack_name(removed.name)[0], removed.platform,
                                    removed.renamed_to, set())
            notes.append(review.dangers[0].reason)
        return notes


def _git_paths(project_dir: Path, ref: str, option: str) -> list[str]:
    """Every path (relative to the project) that differs from REF in the working tree, untracked ones too."""
    diff = subprocess.run(["git", "diff", "-z", "--name-only", "--no-renames", "--relative", ref, "--"],
                          cwd=project_dir, capture_output=True, text=True)
    if diff.returncode != 0:
        raise UsageError(f"{option} {ref}: git cannot compare with it: {diff.stderr.strip()}")
    untracked = subprocess.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=project_dir,
                               capture_output=True, text=True).stdout
    return sorted({p for p in (diff.stdout + "\0" + untracked).split("\0") if p})


def changed_since(project_dir: Path, ref: str, option: str = "--changed-since") -> ChangedSince:
    files = stack_file_changes(project_dir, ref, option)
    paths = _git_paths(project_dir, ref, option)
    environments = {PurePosixPath(p).stem for p in paths
                    if p.startswith(ENVIRONMENTS) and p.endswith(".yaml") and "/" not in p[len(ENVIRONMENTS):]}
    return ChangedSince(ref=ref, stacks=set(files.changed), environments=environments,
                        shared=[p for p in paths if affects_everyone(p)], removed=files.removed)
