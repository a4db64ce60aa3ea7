"""What every subcommand shares: the project directory, the fleet's selection options, a console."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import click
from rich.console import Console

from ..project.stacks import CustomerStack, find_project_dir, require_stacks


class Context:
    """The command line group's object: the project directory (--project-dir, else the nearest Pulumi.yaml)."""

    def __init__(self, project_dir: Optional[Path]):
        self._project_dir = project_dir

    @property
    def project_dir(self) -> Path:
        return self._project_dir or find_project_dir()

    def require_stacks(self, stacks: Sequence[str]) -> list[CustomerStack]:
        """Every named stack's file (a usage error names the first missing)."""
        return require_stacks(self.project_dir, stacks)


# In a log or a pipe (a CI job's), tables are this wide unless COLUMNS says otherwise: readable in a CI
# log viewer; long cells (errors, drift) wrap at spaces within their column, short ones never break.
LOG_WIDTH = 120


def console(stderr: bool = False) -> Console:
    """A console for tables: a terminal's own width; in logs and pipes COLUMNS when wider than LOG_WIDTH,
    else LOG_WIDTH (a log does not wrap, and at 80 columns a fleet table leaves its customer column one
    character wide: CI runners and pytest's workers often say COLUMNS=80)."""
    out = Console(stderr=stderr)
    if not out.is_terminal:
        columns = os.environ.get("COLUMNS", "")
        out.width = max(int(columns), LOG_WIDTH) if columns.isdigit() else LOG_WIDTH
    return out


def selection_options(command):
    """--select and --environment, as every subcommand over many customers takes them."""
    for option in reversed([
        click.option("--select", "select", multiple=True, metavar="PATTERN",
                     help="Only stacks whose name or customer matches (shell pattern, repeatable)."),
        click.option("--environment", metavar="ENV", help="Only stacks of this environment."),
    ]):
        command = option(command)
    return command
