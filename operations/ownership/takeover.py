"""`email-partners take-over NEW --from OLD`: what stack OLD manages moves to stack NEW, in one operation.

A stack is one customer: everything OLD manages depends on its account, so a take-over moves all of
it and ends OLD. The steps, in the order that keeps every moment recoverable:

1. check (nothing changes): NEW's declaration covers every object OLD manages (an adoption of each,
   as `discover --include-managed` writes it), and no third stack manages any of them;
2. release: OLD's resources are marked retain-on-delete in its state (`pulumi stack export`, the
   flag set, `pulumi stack import`, which takes the engine's lock): from here no destroy of OLD
   deletes them;
3. adopt: NEW's `up`, with the policy pack, told that this is the take-over from OLD
   (TAKE_OVER_VARIABLE): the providers and the pack let exactly OLD's objects through, and a
   Cakemail account's metadata names NEW from then on. If it fails, step 2 is undone: nothing moved;
4. forget: OLD is removed from the backend without touching any vendor (`pulumi stack rm --force`),
   and its stack file with it;
5. both stacks' runs are recorded in the run history (who, which objects, from and to where).

Interrupted between 3 and 4, both stacks record the objects and OLD's are retained: the same
command run again finds NEW already holding them and finishes at step 4. `owners` shows such objects.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from providers.ownership import TAKE_OVER_VARIABLE, VendorObject

from ..engine.cli import exported_state, init_stack, run_checked, run_cli
from ..engine.environment import engine_env
from ..engine.errors import EngineError
from ..errors import OperationError, UsageError
from ..history.audit import Action, Audit
from ..project.stacks import load_stack, stack_file
from .claims import stack_claims
from .index import Ownership, refreshed

Say = Callable[[str], None]


class TakeOverRefused(UsageError):
    """A take-over that cannot be done as asked: nothing was changed."""


@dataclass
class TakeOver:
    """What a take-over will move (from `prepare`), for the acknowledgement and the record."""

    new: str
    old: str
    objects: list[VendorObject] = field(default_factory=list)
    new_holds: bool = False      # NEW already records every object (a resumed take-over, or two owners)
    new_in_backend: bool = True  # NEW's stack exists in the backend (else its file only: it is created first)

    @property
    def what(self) -> str:
        return (f"{', '.join(str(o) for o in self.objects)} move from stack {self.old} to stack {self.new} (nothing "
                f"is deleted or changed on the platform), and stack {self.old} is removed with its stack file")


def prepare(project_dir: Path, new: str, old: str) -> TakeOver:
    """Check that the take-over can be done (refused otherwise, nothing changed) and say what it moves."""
    if new == old:
        raise TakeOverRefused(f"a stack cannot take over from itself ({new})")
    declared = load_stack(project_dir, new)
    ownership = refreshed(project_dir)
    if old not in ownership.stacks:
        raise TakeOverRefused(f"stack {old} is not in this backend ({ownership.index.backend}): nothing to take over")
    if old in ownership.unread:
        raise TakeOverRefused(f"stack {old} cannot be read ({ownership.unread[old]}): nothing was changed")
    moved = ownership.objects_of(old)
    if not moved:
        raise TakeOverRefused(f"stack {old} manages no vendor object: retire it instead (`email-partners retire {old}`)")
    held = set(ownership.objects_of(new))
    claimed = {c.object for c in stack_claims(declared, project_dir)}
    missing = [o for o in moved if o not in held and o not in claimed]
    if missing:
        raise TakeOverRefused(
            f"stack {new} does not declare {', '.join(str(o) for o in missing)}, which {old} manages: a take-over "
            f"moves all of a customer, and nothing may be left without an owner. Declare each in {new} (an "
            f"adoption, as `email-partners discover --include-managed` writes it), then run this again. Nothing "
            f"was changed.")
    third = sorted({o.stack for obj in claimed for o in ownership.index.others_than(obj, new, old)})
    if third:
        raise TakeOverRefused(f"stack {new} would also take over what stack {', '.join(third)} manages: "
                              f"{_third_objects(ownership, claimed, new, old)}. Nothing was changed.")
    return TakeOver(new, old, moved, new_holds=all(o in held for o in moved), new_in_backend=new in ownership.stacks)


def _third_objects(ownership: Ownership, claimed: set[VendorObject], new: str, old: str) -> str:
    return ", ".join(str(obj) for obj in sorted(claimed, key=str) if ownership.index.others_than(obj, new, old))


def _with_retained(project_dir: Path, stack: str, env: dict[str, str],
                   retained: Optional[dict[str, Optional[bool]]] = None) -> dict[str, Optional[bool]]:
    """Set each vendor resource of `stack` retain-on-delete (or, given `retained`, back to what it was);
    the values before, by URN. One export and one import (the import holds the engine's lock)."""
    deployment = exported_state(stack, project_dir, env)
    if deployment is None:
        raise OperationError(f"stack {stack} is not in the backend any more")
    before: dict[str, Optional[bool]] = {}
    for resource in deployment.get("resources") or []:
        if not resource.get("custom") or str(resource.get("type", "")).startswith("pulumi:providers:"):
            continue
        before[resource["urn"]] = resource.get("retainOnDelete")
        value = True if retained is None else retained.get(resource["urn"])
        if value:
            resource["retainOnDelete"] = True
        else:
            resource.pop("retainOnDelete", None)
    document = {"version": 3, "deployment": deployment}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        path.write_text(json.dumps(document))
        run_checked(["stack", "import", "--stack", stack, "--file", str(path)], project_dir, env)
    return before


def _up_args(stack: str, project_dir: Path) -> list[str]:
    args = ["up", "--yes", "--skip-preview", "--stack", stack]
    if (project_dir / "policies").is_dir():
        args += ["--policy-pack", str(project_dir / "policies")]  # the same mandatory rules as every change
    return args


def take_over(project_dir: Path, plan: TakeOver, confirmation: Optional[str], say: Say = print) -> None:
    """Move the objects (see the module docstring); `confirmation` must be OLD's name, the stack that ends."""
    if confirmation != plan.old:
        raise TakeOverRefused(f"the acknowledgement {confirmation!r} is not the name of the stack that ends, "
                              f"{plan.old!r}. Nothing was changed.")
    env = engine_env()
    audit = Audit("take-over", project_dir)
    gained = audit.add(Action(plan.new, "taken over", plan.objects, f"from stack {plan.old}"))
    lost = audit.add(Action(plan.old, "handed over", plan.objects,
                            f"to stack {plan.new}: forgotten here, nothing deleted; the stack is removed"))
    try:
        before = _with_retained(project_dir, plan.old, env)
        say(f"{plan.old}: its resources are retained from now on (a destroy of it deletes nothing)")
        try:
            if not plan.new_in_backend:
                init_stack(plan.new, project_dir, env=env)  # a stack file not yet in the backend
            result = run_cli(_up_args(plan.new, project_dir), project_dir, {**env, TAKE_OVER_VARIABLE: plan.old})
            if result.returncode != 0:
                detail = (result.stderr.strip() or result.stdout.strip())[-2000:]
                raise EngineError(f"the `up` of {plan.new} failed: {detail}")
            say(result.stdout.rstrip())
            ownership = refreshed(project_dir)
            left = [o for o in plan.objects if o not in ownership.objects_of(plan.new)]
            if left:
                raise OperationError(f"after its `up`, {plan.new} does not record {', '.join(str(o) for o in left)}")
        except (EngineError, OperationError):
            _with_retained(project_dir, plan.old, env, before)
            say(f"{plan.old}: released again as it was; nothing moved")
            raise
        run_checked(["stack", "rm", "--force", "--yes", "--stack", plan.old], project_dir, env)
        stack_file(project_dir, plan.old).unlink(missing_ok=True)
        refreshed(project_dir)
    except (EngineError, OperationError) as exc:
        gained.result = lost.result = "failed"
        gained.error = lost.error = str(exc)
        raise
    finally:
        audit.record()


def interrupted_hint(plan: TakeOver) -> str:
    """What a user reads when the objects are already with NEW (a resumed take-over)."""
    return (f"stack {plan.new} already records {', '.join(str(o) for o in plan.objects)}; this finishes the take-over "
            f"from {plan.old}" if plan.new_holds else "")

