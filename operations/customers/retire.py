"""`email-partners retire STACK`: end a customer on purpose, every guard kept.

Retiring deletes the customer's account with its contacts and campaigns (where a platform's API
cannot delete accounts, Sign-Up.to's, the account stays). The engine refuses to delete a protected resource before any
provider is called, naming only `pulumi state unprotect`; this command says instead what the
project's guard is and how it is lifted, and does the rest in the right order:

1. the stack file must say `account.protect: false` (a reviewed change), and where the API cannot
   delete accounts `account.on_destroy: keep`; the state must have recorded it (`pulumi up` after the edit);
2. the acknowledgement: the stack's name typed at the prompt, or `--confirm STACK`;
3. no other stack of the backend manages what the destroy deletes (operations/ownership/): two
   stacks recording one account is refused, naming the other and the take-over that leaves it to it;
4. `pulumi destroy`, then `pulumi stack rm` (which deletes the stack file too);
5. what happened to the account, in words, and in the run history (who, which account, what became of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from providers.ownership import VendorObject
from providers.platforms import describe, names

from ..engine.cli import exported_state, run_checked
from ..engine.errors import EngineError
from ..engine.urns import kind_of_type
from ..errors import OperationError, UsageError
from ..history.audit import Action, Audit
from ..ownership.index import refreshed
from ..project.stacks import load_stack, stack_file


class Refused(UsageError):
    """A retirement the guards do not allow yet: nothing was changed (the CLI exits 2 with the message)."""


def refuse(message: str) -> None:
    raise Refused(f"{message} Nothing was changed.")


@dataclass
class Retirement:
    """What retiring a stack will do, once its guards are lifted: `what` says it in words."""

    stack: str
    shown: Path                       # the stack file, relative to the project
    in_backend: bool
    deployed: bool                    # the state holds a SubAccount
    what: str
    platform: Optional[str] = None
    objects: list[VendorObject] = field(default_factory=list)  # what the stack manages (the audit trail)


def recorded_account(stack: str, project_dir: Path) -> tuple[bool, Optional[dict]]:
    """(the backend has the stack, the SubAccount in its state or None)."""
    deployment = exported_state(stack, project_dir)
    if deployment is None:
        return False, None
    resources = deployment.get("resources") or []
    return True, next((r for r in resources if kind_of_type(r.get("type", "")) == "SubAccount"), None)


def prepare_retirement(project_dir: Path, stack: str) -> Retirement:
    """Check every guard (refused with what to do), and say what retiring will do."""
    declared = load_stack(project_dir, stack)
    account = declared.declaration.get("account") or {}
    shown = stack_file(project_dir, stack).relative_to(project_dir)
    if account.get("protect", True) is not False:
        refuse(f"{stack}: its account is protected. Retiring deletes the customer's account with all its contacts "
               f"and campaigns: to do it on purpose, set `protect: false` under `account` in {shown} (a reviewed "
               f"change), run `pulumi up --stack {stack}` so the state records it, then run this again.")
    platform = describe(declared.platform) if declared.platform in names() else None
    undeletable = platform is not None and not platform.deletes_accounts
    if undeletable and account.get("on_destroy") != "keep":
        refuse(f"{stack}: {platform.title}'s API cannot delete an account, so retiring leaves it on {platform.title}: "
               f"set `on_destroy: keep` under `account` in {shown} to say so, run `pulumi up --stack {stack}`, then "
               f"run this again.")
    in_backend, recorded = recorded_account(stack, project_dir)
    if recorded is not None and recorded.get("protect"):
        refuse(f"{stack}: {shown} says `account.protect: false` but the state still protects the account: run "
               f"`pulumi up --stack {stack}` first (it records the change), then run this again.")
    account_id = ((recorded or {}).get("outputs") or {}).get("account_id")
    what = (f"the {platform.title} account {account_id} stays on {platform.title} (on_destroy: keep) and is no "
            f"longer managed" if undeletable else
            f"the {declared.platform} account {account_id} is deleted with all its contacts and campaigns")
    if recorded is None:
        what = "nothing was deployed"
    kept = ({o.noun for o in platform.owned if o.resource == "SubAccount"}
            if undeletable and account.get("on_destroy") == "keep" else set())
    objects = _only_owner(stack, kept, project_dir)
    return Retirement(stack, shown, in_backend, recorded is not None, what, declared.platform, objects)


def _only_owner(stack: str, kept: set[str], project_dir: Path) -> list[VendorObject]:
    """What the stack manages; refused when another stack of the backend manages any of it too and the
    destroy would delete it (where the account stays, on Sign-Up.to, the other stack keeps it alone)."""
    ownership = refreshed(project_dir)
    objects = ownership.objects_of(stack)
    for entry in ownership.shared():
        others = sorted({o.stack for o in entry.owners} - {stack})
        if entry.object not in objects or not others:
            continue
        if entry.object.noun in kept:
            continue  # left on the platform (on_destroy: keep): the other stack stays its one owner
        refuse(f"{stack}: {entry.object} is also managed by stack {', '.join(others)}, so retiring {stack} would "
               f"delete what {others[0]} manages. To end {stack} and leave it to {others[0]}: `email-partners "
               f"take-over {others[0]} --from {stack}` (it forgets it here, without deleting it, and removes {stack}).")
    return objects


def retire(project_dir: Path, retirement: Retirement, confirmation: Optional[str]) -> None:
    """Destroy and remove the stack, once `confirmation` is its name (refused otherwise)."""
    stack = retirement.stack
    if confirmation != stack:
        refuse(f"the acknowledgement {confirmation!r} is not the stack's name {stack!r}.")
    audit = Audit("retire", project_dir)
    action = audit.add(Action(stack, "retired", retirement.objects, retirement.what, platform=retirement.platform))
    try:
        if retirement.deployed:
            run_checked(["destroy", "--yes", "--skip-preview", "--stack", stack], project_dir)
        if retirement.in_backend:
            run_checked(["stack", "rm", "--yes", "--stack", stack], project_dir)  # deletes the file too
        stack_file(project_dir, stack).unlink(missing_ok=True)
    except EngineError as exc:
        action.result, action.error = "failed", str(exc)
        raise
    finally:
        audit.record()
    try:
        refreshed(project_dir)  # the ownership index no longer names it
    except OperationError:
        pass
