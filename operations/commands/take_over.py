"""`email-partners take-over NEW --from OLD [--confirm OLD]`: move what a stack manages to another one."""

from __future__ import annotations

import sys
from typing import Optional

import click

from ..errors import UsageError
from ..ownership.takeover import interrupted_hint, prepare, take_over as move
from .common import Context


@click.command("take-over", help="Move every vendor object stack OLD manages to stack NEW, whose declaration adopts "
                                 "them: OLD's resources are retained, NEW's `up` adopts them (no write), then OLD is "
                                 "removed from the backend without deleting anything. Needs OLD's name as "
                                 "acknowledgement.")
@click.argument("new")
@click.option("--from", "old", required=True, metavar="OLD", help="The stack that manages them now; it ends.")
@click.option("--confirm", metavar="OLD", help="OLD's name again: the acknowledgement, without a prompt.")
@click.pass_obj
def take_over(ctx: Context, new: str, old: str, confirm: Optional[str]) -> None:
    plan = prepare(ctx.project_dir, new, old)
    if interrupted_hint(plan):
        click.echo(interrupted_hint(plan))
    if confirm is None:
        if not sys.stdin.isatty():
            raise UsageError(f"taking over: {plan.what}. No terminal to ask on: pass --confirm {old} to acknowledge it")
        confirm = click.prompt(f"Taking over: {plan.what}. Type {old!r} to go ahead", default="", show_default=False)
    move(ctx.project_dir, plan, confirm, say=click.echo)
    click.echo(f"Taken over: {plan.what}. The run history records it (`email-partners history {new}`).")
