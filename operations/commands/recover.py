"""`email-partners recover STACK...`: what an interrupted `up` left, finished (operations/customers/recover.py)."""

from __future__ import annotations

import click

from ..customers.recover import recover_stack
from ..engine.errors import EngineError
from ..exit_status import ExitStatus
from .common import Context


@click.command(help="After an interrupted `up` (killed, timed out): remove the stack's lock when provably stale, "
                    "run the `up` that takes over what the killed run made, then clear the pending operations.")
@click.argument("stacks", nargs=-1, required=True)
@click.pass_obj
def recover(ctx: Context, stacks: tuple[str, ...]) -> ExitStatus:
    ctx.require_stacks(stacks)
    ok = True
    for name in stacks:
        try:
            ok &= recover_stack(name, ctx.project_dir, say=click.echo, warn=lambda text: click.echo(text, err=True))
        except EngineError as exc:
            click.echo(f"{name}: {exc}", err=True)
            ok = False
    return ExitStatus.OK if ok else ExitStatus.FAILED
