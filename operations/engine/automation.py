"""The Automation API's side of the engine: one workspace for the project, its stacks opened without
selecting them, one operation per call, its results as engine events (operations/engine/events.py).

One LocalWorkspace serves every thread: each operation is its own `pulumi` process with an explicit
`--stack`. What must not run concurrently is `pulumi stack select`, which rewrites the project's
current-stack file in PULUMI_HOME; so stacks are opened without selecting them and created with
`stack init --no-select`. A stack missing from the backend shows as StackNotFoundError from the
operation itself, so a fleet run lists nothing first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from .environment import engine_bin_dir, engine_env, interruptible_engine, require_backend, with_ownership_index


def project_workspace(project_dir: Path, env: Optional[Mapping[str, str]] = None):
    """The project's workspace, running this project's engine build with `env` (engine_env by default)."""
    from pulumi import automation as auto

    env = with_ownership_index(dict(env or engine_env()), project_dir)
    require_backend(env, project_dir)
    interruptible_engine()
    return auto.LocalWorkspace(
        work_dir=str(project_dir), env_vars=env, pulumi_home=env.get("PULUMI_HOME"),
        pulumi_command=auto.PulumiCommand(root=str(engine_bin_dir().parent), skip_version_check=True))


def init_stack_in_workspace(workspace, name: str) -> None:
    """Create the stack in the backend, keeping its stack file (config, encryption salt)."""
    workspace.pulumi_command.run(["stack", "init", "--stack", name, "--no-select", "--non-interactive"],
                                 workspace.work_dir, dict(workspace.env_vars))  # raises CommandError


def open_stack(workspace, name: str):
    """An Automation API stack for an existing stack, without `stack select` (see above). The SDK's
    private API (`StackInitMode`, the attributes __init__ sets): tests/unit/test_inline_program.py pins it."""
    from pulumi import automation as auto
    from pulumi.automation._stack import StackInitMode

    stack = object.__new__(auto.Stack)
    stack.name, stack.workspace, stack._mode = name, workspace, StackInitMode.SELECT
    return stack


FLEET_OPERATIONS = ("preview", "up", "refresh", "drift")


def run_operation(stack, operation: str, on_event, refresh: bool = False,
                  policy_pack: Optional[Path] = None, program=None) -> None:
    """One engine operation; results arrive as engine events (the summary event has the counts:
    the Automation API's own refresh summary is the last update's, wrong for `--preview-only`).
    `refresh` (preview, up) reads the resources first, so drift is part of the plan; `policy_pack`
    (preview, up) runs the pack, whose mandatory rules then block the change. `program`: the
    project's program run in this process (operations/engine/inline.py), else the engine starts it."""
    packs = {"policy_packs": [str(policy_pack)]} if policy_pack is not None else {}
    if operation == "preview":
        stack.preview(on_event=on_event, refresh=refresh, program=program, **packs)
    elif operation == "up":
        stack.up(on_event=on_event, refresh=refresh, program=program, **packs)
    elif operation == "refresh":
        stack.refresh(on_event=on_event, program=program)
    elif operation == "drift":
        # One `preview --refresh`: its refresh steps say what changed since the state was written, its plan
        # what differs from the code, which still answers "is the platform what the code says?" after a refresh.
        stack.preview(refresh=True, on_event=on_event, program=program)
    else:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(FLEET_OPERATIONS)}")


def policy_pack_of(project_dir: Path, disabled: bool = False) -> Optional[Path]:
    """The project's policy pack (`policies/`), run wherever the tool changes or previews a customer
    unless the user said `--no-policy`."""
    pack = project_dir / "policies"
    return pack if pack.is_dir() and not disabled else None


