"""`email-partners retire STACK`: end a customer on purpose, every guard kept.

Retiring deletes the customer's account with its contacts and campaigns (where a platform's API
cannot delete accounts, Sign-Up.to's, the account stays). The engine refuses to delete a protected resource before any
provider is called, naming only `pulumi state unprotect`; this command says instead what the
project's guard is and how it is lifted, and does the rest in the right order:

1. the stack file must say `account.protect: false` (a reviewed change), and where the API cannot
   delete accounts `account.on_destroy: keep`; the state must have recorded it (`pulumi up` after the edit);
2. the acknowledgement: the stack's name typed at the prompt, or `--confirm STACK`;
3. `pulumi destroy`, then `pulumi stack rm` (which deletes the stack file too);
4. what happened to the account, in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from providers.platforms import describe, names

from ..engine.cli import exported_state, run_checked
from ..engine.urns import kind_of_type
from ..errors import UsageError
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
    return Retirement(stack, shown, in_backend, recorded is not None, what)


def retire(project_dir: Path, retirement: Retirement, confirmation: Optional[str]) -> None:
    """Destroy and remove the stack, once `confirmation` is its name (refused otherwise)."""
    stack = retirement.stack
    if confirmation != stack:
        refuse(f"the acknowledgement {confirmation!r} is not the stack's name {stack!r}.")
    if retirement.deployed:
        run_checked(["destroy", "--yes", "--skip-preview", "--stack", stack], project_dir)
    if retirement.in_backend:
        run_checked(["stack", "rm", "--yes", "--stack", stack], project_dir)  # deletes the file too
    stack_file(project_dir, stack).unlink(missing_ok=True)
