"""`email-partners backend copy --to URL`: every stack and the run history onto another state backend."""

from __future__ import annotations

from typing import Optional

import click

from ..backend_copy.copy import copy_backend
from ..exit_status import ExitStatus
from .common import Context


@click.group(help="The state backend itself.")
def backend() -> None:
    pass


@backend.command("copy", help="Copy every stack of the backend in use (PULUMI_BACKEND_URL), secrets still "
                              "encrypted, and the run history, to the backend --to names (e.g. the team's "
                              "PostgreSQL); each copy must preview with no changes. A file backend whose stacks "
                              "were all copied is marked as moved: the tool no longer runs the engine on it.")
@click.option("--to", "to_url", required=True, metavar="URL", help="The backend to copy to (postgres://... or "
                                                                   "file://...); its password belongs in PGPASSWORD "
                                                                   "or ~/.pgpass, not in the URL.")
@click.option("--parallel", type=click.IntRange(min=1), default=2, show_default=True, help="Stacks copied at once.")
@click.pass_obj
def copy(ctx: Context, to_url: str, parallel: Optional[int]) -> ExitStatus:
    report = copy_backend(ctx.project_dir, to_url, parallel, say=click.echo)
    copied = sum(s.result in ("copied", "already there") for s in report.stacks)
    moved = f"; {report.source} is marked as moved: set PULUMI_BACKEND_URL to the new backend" if report.moved else ""
    click.echo(f"{copied} of {len(report.stacks)} stack(s) on {report.target}, {report.history_entries} run history "
               f"entries copied, and {report.notifications} past notification(s){moved}")
    if not report.ok:
        click.echo(f"not every stack was copied: {report.source} stays in use; run this again once the named "
                   f"problems are solved (copied stacks count as done)", err=True)
    return ExitStatus.OK if report.ok else ExitStatus.FAILED

