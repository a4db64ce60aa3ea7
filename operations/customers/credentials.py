"""`email-partners check-credentials`: one authentication request per stack's vendor, before an `up`.

A preview makes no request (so a wrong password shows only at `up`); this asks each vendor once,
with the stack's own settings (secrets decrypted by the engine, in memory only), and says which
identity was accepted or refused, never a credential.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from providers.platforms.credentials import check_credentials

from . import automation
from .exit_status import ExitStatus
from .project import ProjectError, customer_stacks, load_stack


def credentials_line(stack: str, platform: Optional[str], project_dir: Path) -> tuple[bool, str]:
    """(accepted, what happened) for the stack's vendor; also `review --check-credentials`."""
    try:
        config = automation.stack_config(stack, project_dir)
    except RuntimeError as exc:
        return False, str(exc)
    return check_credentials(platform or "", config)


@click.command("check-credentials", help="One authentication request per stack's vendor (every customer stack "
                                        "when none is named); says which are refused.")
@click.argument("stacks", nargs=-1)
@click.pass_obj
def check_credentials_command(ctx, stacks: tuple[str, ...]) -> ExitStatus:
    project_dir = ctx.project_dir
    failed = False
    in_backend = automation.stack_names(project_dir)
    for name in stacks or [s.name for s in customer_stacks(project_dir)]:
        if not stacks and name not in in_backend:
            click.echo(f"{name}: skipped: not in the backend yet, so its secrets cannot be read (its first "
                       f"`pulumi preview` or `up` creates it there)")
            continue
        try:
            declared = load_stack(project_dir, name)
        except ProjectError as exc:
            raise click.UsageError(str(exc)) from None
        accepted, line = credentials_line(name, declared.platform, project_dir)
        failed |= not accepted
        click.echo(f"{name}: {'ok' if accepted else 'FAILED'}: {line}")
    return ExitStatus.FAILED if failed else ExitStatus.OK
