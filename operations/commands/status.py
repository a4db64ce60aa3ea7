"""`email-partners status`: the fleet's health on one self-contained HTML page (or as JSON).

One row per customer from what is already recorded: the backend's state of every selected stack
(one pass, as `fleet drift`'s sweep reads it), the engine's locks and the run history. Rendering
makes no vendor request; `--check-drift` runs the sweep first (it reads every vendor, and records
its run in the history like any `fleet drift`). `--serve` serves the page on 127.0.0.1, built
again on each load.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from ..project.stacks import customer_stacks, select_stacks
from ..status.data import StatusPage
from ..status.page import render
from ..status.read import read_status
from ..status.serve import serve
from .common import Context, console, selection_options

DEFAULT_PAGE = ".email-partners/status.html"  # the tool's own files' folder (git-ignored), beside the index


@click.command("status", help=__doc__)
@selection_options
@click.option("--output", metavar="FILE", help=f"Where to write the page (default: {DEFAULT_PAGE} in the project, which "
                                               f"git ignores; for json, stdout). `-`: stdout.")
@click.option("--format", "format_", type=click.Choice(["html", "json"]), default="html", show_default=True)
@click.option("--serve", "serve_", is_flag=True, help="Serve the page on 127.0.0.1 instead, built again on each load.")
@click.option("--port", type=click.IntRange(0, 65535), default=8720, show_default=True,
              help="The port for --serve (0: any free one).")
@click.option("--check-drift", is_flag=True, help="Run `fleet drift`'s sweep first (reads every vendor).")
@click.pass_obj
def status(ctx: Context, select: tuple[str, ...], environment: Optional[str], output: Optional[str], format_: str,
           serve_: bool, port: int, check_drift: bool) -> None:
    project_dir = ctx.project_dir
    stacks = select_stacks(customer_stacks(project_dir), select, environment)
    selection = {k: v for k, v in (("select", " ".join(select)), ("environment", environment)) if v}
    if check_drift and stacks:  # `fleet drift`'s sweep, recorded like any; its table goes to stderr
        from ..fleet.operation import FleetRun, Selection  # the fleet's machinery, imported only when used
        from ..fleet.render import print_report

        report = FleetRun("drift", Selection(stacks, stacks), engine=False).perform(project_dir)
        print_report(report, console(stderr=True))

    def build(chosen: Optional[list] = None) -> StatusPage:
        # Each served page reads the stack files again, so it follows edits too.
        chosen = chosen if chosen is not None else select_stacks(customer_stacks(project_dir), select, environment)
        return read_status(project_dir, chosen, os.environ, selection)

    if serve_:
        serve(build, port, say=lambda text: click.echo(text, err=True))
        return
    page = build(stacks)  # the stack files as just read (a page written once)
    text = page.model_dump_json(indent=2) + "\n" if format_ == "json" else render(page)
    target = output or (str(project_dir / DEFAULT_PAGE) if format_ == "html" else "-")
    if target == "-":
        click.echo(text, nl=False)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text, encoding="utf-8")
        counts = ", ".join(f"{n} {tag}" for tag, n in page.counts.items() if n)
        click.echo(f"wrote {target}: {len(page.customers)} customer(s){': ' + counts if counts else ''}", err=True)
