"""What every subcommand gets from the command line's group: the project directory."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .project import ProjectError, find_project_dir, load_stack


class Context:
    def __init__(self, project_dir: Optional[Path]):
        self._project_dir = project_dir

    @property
    def project_dir(self) -> Path:
        try:
            return self._project_dir or find_project_dir()
        except ProjectError as exc:
            raise click.UsageError(str(exc)) from None

    def require_stacks(self, stacks: tuple[str, ...]) -> Path:
        """The project directory, once every named stack's file is there (a usage error names the first missing)."""
        project_dir = self.project_dir
        try:
            for name in stacks:
                load_stack(project_dir, name)
        except ProjectError as exc:
            raise click.UsageError(str(exc)) from None
        return project_dir
