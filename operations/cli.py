"""`email-partners`: operations on many customer stacks. Each subcommand lives in its own module.

Exit statuses (every subcommand):

\b
  0  success: nothing dangerous, no drift
  1  an operation failed (a preview, an update, a stack of the fleet)
  2  bad usage or bad input (unknown stack or environment, invalid file): nothing was changed
  3  `review`: a dangerous change is planned without its acknowledgement
  4  `fleet drift`: drift was found
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .automation import EngineSetupError
from .orphans import ending_orphans
from .project import ProjectError, find_project_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DANGEROUS, EXIT_DRIFT = 0, 1, 2, 3, 4


class Context:
    """What every subcommand gets: the project directory."""

    def __init__(self, project_dir: Optional[Path]):
        self._project_dir = project_dir

    @property
    def project_dir(self) -> Path:
        try:
            return self._project_dir or find_project_dir()
        except ProjectError as exc:
            raise click.UsageError(str(exc)) from None


class _Group(click.Group):
    """Every subcommand: an engine that cannot start (no engine, no state backend) is bad set-up,
    said in one message that names what to set (exit 2), not a traceback or the engine's words;
    and no engine process outlives the subcommand (operations/orphans.py)."""

    def invoke(self, ctx: click.Context):
        try:
            with ending_orphans():
                return super().invoke(ctx)
        except EngineSetupError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), envvar="EMAIL_PARTNERS_PROJECT_DIR",
              help="The Pulumi project (default: the nearest directory with a Pulumi.yaml).")
@click.pass_context
def main(ctx: click.Context, project_dir: Optional[Path]) -> None:
    ctx.obj = Context(project_dir.resolve() if project_dir else None)


def _register() -> None:
    """Each subcommand module adds itself here (one line each)."""
    from .review import check_credentials_command, review
    main.add_command(review)
    main.add_command(check_credentials_command)

    from .fleet import fleet
    main.add_command(fleet)
    from .fleet_merge import report
    fleet.add_command(report)

    from .clone import clone
    main.add_command(clone)
    from .new import new
    main.add_command(new)
    from .discover import discover
    main.add_command(discover)
    from .dns import dns
    main.add_command(dns)
    from .recover import recover
    main.add_command(recover)
    from .retire import retire
    main.add_command(retire)
    from .history import history
    main.add_command(history)
    from .status import status
    main.add_command(status)


_register()
