"""`email-partners check-credentials`: one authentication request per stack's vendor, before an `up`.

A preview makes no request (so a wrong password shows only at `up`); this asks each vendor once,
with the stack's own settings (secrets decrypted by the engine, in memory only), and says which
identity was accepted or refused, never a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from providers.platforms.credentials import check_credentials

from ..engine.cli import stack_config, stack_names
from ..engine.errors import EngineError
from ..project.stacks import customer_stacks, load_stack


def credentials_line(stack: str, platform: Optional[str], project_dir: Path) -> tuple[bool, str]:
    """(accepted, what happened) for the stack's vendor; also `review --check-credentials`."""
    try:
        config = stack_config(stack, project_dir)
    except EngineError as exc:
        return False, str(exc)
    return check_credentials(platform or "", config)


@dataclass
class CredentialsCheck:
    stack: str
    outcome: str  # ok, FAILED, skipped
    line: str


def check_stacks(project_dir: Path, stacks: Sequence[str] = ()) -> list[CredentialsCheck]:
    """Each named stack's identity checked (every customer stack in the backend when none is named)."""
    checks = []
    in_backend = stack_names(project_dir)
    for name in stacks or [s.name for s in customer_stacks(project_dir)]:
        if not stacks and name not in in_backend:
            checks.append(CredentialsCheck(name, "skipped", "not in the backend yet, so its secrets cannot be read "
                                                            "(its first `pulumi preview` or `up` creates it there)"))
            continue
        declared = load_stack(project_dir, name)
        accepted, line = credentials_line(name, declared.platform, project_dir)
        checks.append(CredentialsCheck(name, "ok" if accepted else "FAILED", line))
    return checks
