"""`email-partners`: operations on many customer stacks. Each subcommand lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .automation import EngineError, EngineSetupError
from .check_credentials import check_credentials_command
from .clone import clone
from .context import Context
from .discover import discover
from .dns import dns
from .environments import EnvironmentError_
from .exit_status import MEANINGS, ExitStatus
from .fleet import fleet
from .fleet_merge import report
from .history import history
from .new import new
from .orphans import ending_orphans
from .project import ProjectError
from .recover import recover
from .retire import Refused, retire
from .review import review
from .status import status

# The tool's typed errors, and the exit status each means: the one place they are mapped (subcommands
# raise them, or return an ExitStatus). An engine that cannot start at all (no engine, no state
# backend) is bad set-up, said in one message that names what to set, not a traceback.
ERROR_STATUS: tuple[tuple[type[Exception], ExitStatus], ...] = (
    (EngineSetupError, ExitStatus.USAGE),
    (ProjectError, ExitStatus.USAGE),
    (EnvironmentError_, ExitStatus.USAGE),
    (Refused, ExitStatus.USAGE),
    (EngineError, ExitStatus.FAILED),
)

HELP = __doc__ + "\n\nExit statuses (every subcommand):\n\n\b\n" + "\n".join(
    f"  {status:d}  {meaning}" for status, meaning in MEANINGS.items())


class _Group(click.Group):
    """Every subcommand: its typed errors become `error: <message>` and their exit status, its
    returned ExitStatus the process's; and no engine process outlives it (operations/orphans.py)."""

    def invoke(self, ctx: click.Context):
        try:
            with ending_orphans():
                result = super().invoke(ctx)
        except tuple(kind for kind, _ in ERROR_STATUS) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(next(status for kind, status in ERROR_STATUS if isinstance(exc, kind)))
        if isinstance(result, ExitStatus):
            ctx.exit(result)
        return result


@click.group(cls=_Group, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), envvar="EMAIL_PARTNERS_PROJECT_DIR",
              help="The Pulumi project (default: the nearest directory with a Pulumi.yaml).")
@click.pass_context
def main(ctx: click.Context, project_dir: Optional[Path]) -> None:
    ctx.obj = Context(project_dir.resolve() if project_dir else None)


for command in (review, check_credentials_command, fleet, clone, new, discover, dns, recover, retire, history,
                status):
    main.add_command(command)
fleet.add_command(report)
