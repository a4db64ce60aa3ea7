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

import json
import sys
from pathlib import Path
from typing import Optional

import click

from providers.platforms import describe, names

from . import automation
from .project import ProjectError, load_stack, stack_file


class Refused(Exception):
    """A retirement the guards do not allow yet: nothing was changed (the CLI exits 2 with the message)."""


def refuse(message: str) -> None:
    raise Refused(f"{message} Nothing was changed.")


NOT_IN_BACKEND = "not in the backend"


def recorded_account(stack: str, project_dir: Path) -> Optional[dict]:
    """The SubAccount in the stack's state: None when the stack has none, NOT_IN_BACKEND when the
    backend has no such stack."""
    result = automation.run_cli(["stack", "export", "--stack", stack], project_dir)
    if result.returncode != 0:
        if "no stack named" in result.stderr:
            return NOT_IN_BACKEND
        raise automation.EngineError(f"cannot read the state of {stack}: {result.stderr.strip()[-1000:]}")
    resources = (json.loads(result.stdout).get("deployment") or {}).get("resources") or []
    return next((r for r in resources if r.get("type", "").endswith(":SubAccount")), None)


@click.command(help="Retire a customer: destroy its stack (its account is deleted; on Sign-Up.to it stays) and "
                    "remove the stack and its file. Needs `account.protect: false` in the stack file, recorded by "
                    "an `up`, and the stack's name as acknowledgement.")
@click.argument("stack")
@click.option("--confirm", metavar="STACK", help="The stack's name again: the acknowledgement, without a prompt.")
@click.pass_obj
def retire(ctx, stack: str, confirm: Optional[str]) -> None:
    project_dir = ctx.project_dir
    try:
        declared = load_stack(project_dir, stack)
    except ProjectError as exc:
        raise click.UsageError(str(exc)) from None
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
    recorded = recorded_account(stack, project_dir)
    in_backend = recorded != NOT_IN_BACKEND
    recorded = recorded if in_backend else None
    if recorded is not None and recorded.get("protect"):
        refuse(f"{stack}: {shown} says `account.protect: false` but the state still protects the account: run "
               f"`pulumi up --stack {stack}` first (it records the change), then run this again.")
    account_id = ((recorded or {}).get("outputs") or {}).get("account_id")
    what = (f"the {platform.title} account {account_id} stays on {platform.title} (on_destroy: keep) and is no "
            f"longer managed" if undeletable else
            f"the {declared.platform} account {account_id} is deleted with all its contacts and campaigns")
    if recorded is None:
        what = "nothing was deployed"
    if confirm is None:
        if not sys.stdin.isatty():
            raise click.UsageError(f"retiring {stack}: {what}. No terminal to ask on: pass --confirm {stack} "
                                   f"to acknowledge it")
        confirm = click.prompt(f"Retiring {stack}: {what}. Type the stack's name to go ahead", default="",
                               show_default=False)
    if confirm != stack:
        refuse(f"the acknowledgement {confirm!r} is not the stack's name {stack!r}.")
    if recorded is not None:
        automation._checked(["destroy", "--yes", "--skip-preview", "--stack", stack], project_dir)
    if in_backend:
        automation._checked(["stack", "rm", "--yes", "--stack", stack], project_dir)  # deletes the file too
    stack_file(project_dir, stack).unlink(missing_ok=True)
    click.echo(f"Retired {stack}: {what}; the stack is removed from the backend and {shown} is deleted.")
