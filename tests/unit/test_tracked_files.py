"""The suite builds its projects from the files git tracks (tests/tracked.py): a user's own untracked stack
file, environment or policy setting in the checkout never changes a result."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

from ..tracked import REPO, copy_tracked, tracked


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin", "HOME": str(root)})


def test_a_users_untracked_stack_file_is_left_out_of_every_copy(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "stacks" / "environments").mkdir(parents=True)
    (checkout / "Pulumi.yaml").write_text("name: email-partners\n")
    (checkout / "stacks" / "customer.py").write_text("# the program\n")
    (checkout / "stacks" / "Pulumi.demo-cakemail.yaml").write_text("config: {}\n")
    (checkout / "stacks" / "environments" / "staging.yaml").write_text("providers: {}\n")
    git(checkout, "init", "-q")
    git(checkout, "add", "-A")
    git(checkout, "commit", "-qm", "tracked")
    # What a user following the README leaves behind: their own customer, environment and page.
    (checkout / "stacks" / "Pulumi.demo-cakemail.staging.yaml").write_text("config: {}\n")
    (checkout / "stacks" / "environments" / "mine.yaml").write_text("providers: {}\n")
    (checkout / "status.html").write_text("<html></html>\n")
    copied = copy_tracked(tmp_path / "copy", "Pulumi.yaml", "stacks", root=checkout)
    assert sorted(map(str, copied)) == ["Pulumi.yaml", "stacks/Pulumi.demo-cakemail.yaml", "stacks/customer.py",
                                        "stacks/environments/staging.yaml"]
    assert not (tmp_path / "copy" / "stacks" / "Pulumi.demo-cakemail.staging.yaml").exists()
    assert [p.stem for p in tracked("stacks/environments", root=checkout)] == ["staging"]


def test_no_test_copies_or_lists_the_checkouts_own_project_folders():
    """Copying stacks/ or policies/ whole, or globbing them, would take a user's files along (a stack file, an
    environment, a policy setting of their own): tests go through tests/tracked.py instead."""
    found = []
    for path in [*(REPO / "tests").rglob("*.py")]:
        if path.name in ("tracked.py", "test_tracked_files.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("copytree", "glob", "rglob", "iterdir") and "REPO" in ast.unparse(node) \
                    and any(folder in ast.unparse(node) for folder in ("stacks", "policies")):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:100]}")
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("environment_names") and \
                    "REPO" in ast.unparse(node):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:100]}")
    assert found == []
