"""The repository's files as git tracks them: what the tests build their projects from.

A user's own files in the checkout (a stack file of their own in stacks/, an environment, a policy
setting, a status.html) must never change a test's result, so every test that copies the project, or
lists its stacks or environments, takes the tracked files only (`git ls-files`: committed or staged).
A copy that is not a git checkout (an unpacked archive) has no untracked files to tell apart: all its
files are taken then.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tracked(*paths: str, root: Path = REPO) -> list[Path]:
    """The tracked files under `paths` (relative to `root`), as paths relative to it, that exist."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *paths], cwd=root, capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout: nothing is untracked
        found = [p for path in paths for p in ((root / path).rglob("*") if (root / path).is_dir() else [root / path])]
        return sorted(p.relative_to(root) for p in found if p.is_file() and "__pycache__" not in p.parts)
    return sorted(Path(name) for name in listed.stdout.split("\0") if name and (root / name).is_file())


def copy_tracked(dest: Path, *paths: str, root: Path = REPO) -> list[Path]:
    """Copy the tracked files under `paths` into `dest`, keeping their places; the copies, relative to `dest`."""
    copied = tracked(*paths, root=root)
    for relative in copied:
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, dest / relative)
    return copied
