"""`--notify`, as the commands that can notify take it (fleet operations, `fleet report`, `review`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import click

from ..notifications.config import FILE_NAME, NotificationPlan, NotificationsFile, plan
from ..notifications.notify import NotificationOutcome
from ..project.stacks import ProjectError
from .common import Context


def notify_option(command):
    return click.option(
        "--notify", "notify", multiple=True, metavar="all|none|SINK", envvar="EMAIL_PARTNERS_NOTIFY",
        help=f"Which sinks of {FILE_NAME} hear of what is new after this run: all (the default: those whose "
             f"variables are set), none, or sink names (repeatable or comma-separated; a named sink must be "
             f"ready). Default from EMAIL_PARTNERS_NOTIFY.")(command)


def planned(project_dir: Path, notify: Sequence[str]) -> NotificationPlan:
    """Checked before the run: a wrong file or sink name is a usage error, and nothing has run."""
    return plan(project_dir, notify, os.environ)


def planned_if_project(ctx: Context, notify: Sequence[str]) -> NotificationPlan:
    """For `fleet report`, which needs no project to merge files: without one, nothing to notify
    unless sinks were asked for."""
    try:
        project_dir = ctx.project_dir
    except ProjectError:
        if notify and list(notify) not in (["all"], ["none"]):
            raise
        return NotificationPlan(NotificationsFile(), [])
    return planned(project_dir, notify)


def tell(outcome: NotificationOutcome) -> None:
    """The outcome on stderr (stdout may carry JSON): what was sent, to whom, and what failed."""
    for line in outcome.lines():
        click.echo(line, err=True)
