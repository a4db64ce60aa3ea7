"""`email-partners`: operations on many customer stacks.

Each subcommand lives in its own module of operations/commands/, loaded when it is used; the
workflows they call know nothing of the command line.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Optional

import click

from .errors import OperationError, UsageError
from .exit_status import MEANINGS, ExitStatus

# Every subcommand, by name: "module:function" under operations/commands/.
COMMANDS = {
    "review": "review:review",
    "check-credentials": "check_credentials:check_credentials",
    "fleet": "fleet:fleet",
    "clone": "clone:clone",
    "new": "new:new",
    "discover": "discover:discover",
    "dns": "dns:dns",
    "recover": "recover:recover",
    "retire": "retire:retire",
    "take-over": "take_over:take_over",
    "owners": "owners:owners",
    "backend": "backend:backend",
    "history": "history:history",
    "status": "status:status",
    "promote": "promote:promote",
}

# The tool's typed errors, and the exit status each kind means: the one place they are mapped (workflows
# raise them, commands may return an ExitStatus). An engine that cannot start at all (no engine, no state
# backend) is a UsageError: one message that names what to set, not a traceback.
ERROR_STATUS: tuple[tuple[type[Exception], ExitStatus], ...] = (
    (UsageError, ExitStatus.USAGE),
    (OperationError, ExitStatus.FAILED),
)

HELP = __doc__.split("\n\n")[0] + "\n\nExit statuses (every subcommand):\n\n\b\n" + "\n".join(
    f"  {status:d}  {meaning}" for status, meaning in MEANINGS.items())


class _Group(click.Group):
    """The subcommands, loaded by name; every typed error becomes `error: <message>` and its exit status,
    a returned ExitStatus the process's; and no engine process outlives a subcommand."""

    def main(self, *args, **kwargs):
        from .engine.environment import prepare_process

        prepare_process()  # before any subcommand loads the engine's SDK (see prepare_process)
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in COMMANDS:
            return None
        module, _, function = COMMANDS[name].partition(":")
        return getattr(import_module(f"{__package__}.commands.{module}"), function)

    def invoke(self, ctx: click.Context):
        from .engine.orphans import ending_orphans

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
    from .commands.common import Context

    ctx.obj = Context(project_dir.resolve() if project_dir else None)
