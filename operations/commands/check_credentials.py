"""`email-partners check-credentials [STACK...]`: one authentication request per stack's vendor."""

from __future__ import annotations

import click

from ..customers.credentials import check_stacks
from ..exit_status import ExitStatus
from .common import Context


@click.command("check-credentials", help="One authentication request per stack's vendor (every customer stack "
                                        "when none is named); says which are refused.")
@click.argument("stacks", nargs=-1)
@click.pass_obj
def check_credentials(ctx: Context, stacks: tuple[str, ...]) -> ExitStatus:
    failed = False
    for check in check_stacks(ctx.project_dir, stacks):
        failed |= check.outcome == "FAILED"
        click.echo(f"{check.stack}: {check.outcome}: {check.line}")
    return ExitStatus.FAILED if failed else ExitStatus.OK
