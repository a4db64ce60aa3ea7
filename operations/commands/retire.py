"""`email-partners retire STACK [--confirm STACK]`: a customer ended on purpose, every guard kept."""

from __future__ import annotations

import sys
from typing import Optional

import click

from ..customers.retire import prepare_retirement, retire as retire_stack
from ..errors import UsageError
from .common import Context


@click.command(help="Retire a customer: destroy its stack (its account is deleted; on Sign-Up.to it stays) and "
                    "remove the stack and its file. Needs `account.protect: false` in the stack file, recorded by "
                    "an `up`, and the stack's name as acknowledgement.")
@click.argument("stack")
@click.option("--confirm", metavar="STACK", help="The stack's name again: the acknowledgement, without a prompt.")
@click.pass_obj
def retire(ctx: Context, stack: str, confirm: Optional[str]) -> None:
    retirement = prepare_retirement(ctx.project_dir, stack)
    if confirm is None:
        if not sys.stdin.isatty():
            raise UsageError(f"retiring {stack}: {retirement.what}. No terminal to ask on: pass --confirm {stack} "
                             f"to acknowledge it")
        confirm = click.prompt(f"Retiring {stack}: {retirement.what}. Type the stack's name to go ahead", default="",
                               show_default=False)
    retire_stack(ctx.project_dir, retirement, confirm)
    click.echo(f"Retired {stack}: {retirement.what}; the stack is removed from the backend and {retirement.shown} "
               f"is deleted.")
