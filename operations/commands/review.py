"""`email-partners review`: the change summary of a pull request, dangers first (operations/review/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click

from ..errors import UsageError
from ..exit_status import ExitStatus
from ..history.model import now_utc
from ..notifications.notify import after_review
from ..review.models import KINDS
from ..review.render import as_json, markdown
from ..review.run import __doc__ as REVIEW_HELP
from ..review.run import run_review
from .common import Context
from .notifying import notify_option, planned, tell


@click.command(help=REVIEW_HELP)
@click.argument("stacks", nargs=-1)
@click.option("--changed-since", "changed_since", metavar="REF",
              help="Review every customer a change since this git ref touches: its stack file, a changed environment "
                   "file's customers, every customer when the program, providers/, policies/ or pyproject.toml "
                   "changed. Deleted and renamed stack files come first.")
@click.option("--base", metavar="REF", help="The same as --changed-since (its earlier name).")
@click.option("--format", "format_", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the summary here (default: stdout).")
@click.option("--check-credentials", is_flag=True, help="Also make one authentication request per stack's vendor.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/.")
@click.option("--acknowledge", "acknowledged", multiple=True, type=click.Choice([*KINDS, "all"]),
              help="Accept a kind of dangerous change (for example from a pull-request label). Repeatable.")
@notify_option
@click.pass_obj
def review(ctx: Context, stacks: tuple[str, ...], changed_since: Optional[str], base: Optional[str], format_: str,
           output: Optional[Path], check_credentials: bool, no_policy: bool, acknowledged: tuple[str, ...],
           notify: tuple[str, ...]) -> ExitStatus:
    notifications, started_at = planned(ctx.project_dir, notify), now_utc()

    def on_stack(name: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"previewing {name} ...", err=True)

    if changed_since and base and changed_since != base:
        raise UsageError("--changed-since and --base are one option: give one ref")
    reviews, status = run_review(ctx.project_dir, stacks, changed_since or base, acknowledged, check_credentials,
                                 no_policy, on_stack=on_stack, warn=lambda message: click.echo(message, err=True),
                                 option="--changed-since" if changed_since else "--base")
    text = as_json(reviews, status) if format_ == "json" else markdown(reviews)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)
    tell(after_review(notifications, reviews, ctx.project_dir, os.environ, run_at=started_at))
    return status
