"""The customer stacks of a project: one `stacks/Pulumi.<stack>.yaml` per customer.

Naming convention: a stack is `<customer>.<environment>` (for example `acme-bakery.production`);
the stack file may also say `email-partners:environment: <env>` explicitly, which wins. Stacks
named without a dot (the demos) belong to no environment unless their file names one.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

from providers.naming import CUSTOMER_KEY, ENVIRONMENT_KEY, split_stack_name

from ..errors import UsageError

__all__ = ["CUSTOMER_KEY", "ENVIRONMENT_KEY", "split_stack_name", "ProjectError", "CustomerStack", "find_project_dir",
           "project_name", "slug", "stack_file", "read_stack_file", "load_stack", "customer_stacks", "select_stacks", "require_stacks"]

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: a fleet has many files


class ProjectError(UsageError):
    """A problem with the project's files, named precisely for the user."""


def find_project_dir(start: Optional[Path] = None) -> Path:
    """The nearest directory at or above `start` holding a Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").exists():
            return candidate
    raise ProjectError(f"no Pulumi.yaml in {here} or above: run inside the project or pass --project-dir")


def slug(text: str) -> str:
    """A customer name from any text: lower-case letters, digits and single hyphens (`Acme Bakery` -> acme-bakery)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def project_name(project_dir: Path) -> str:
    """The Pulumi project's name (Pulumi.yaml): part of every stack's key in the backend."""
    return (yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}).get("name", "project")


@dataclass(frozen=True)
class CustomerStack:
    name: str
    file: Path
    config: dict[str, Any]

    @property
    def customer(self) -> str:
        return split_stack_name(self.name)[0]

    @property
    def environment(self) -> Optional[str]:
        return self.config.get(ENVIRONMENT_KEY) or split_stack_name(self.name)[1]

    @property
    def declaration(self) -> dict[str, Any]:
        return self.config.get(CUSTOMER_KEY) or {}

    @property
    def platform(self) -> Optional[str]:
        return self.declaration.get("platform")


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / "stacks" / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: expected a mapping with a `config:` key")
    return data


def load_stack(project_dir: Path, stack: str) -> CustomerStack:
    path = stack_file(project_dir, stack)
    if not path.exists():
        known = ", ".join(s.name for s in customer_stacks(project_dir)) or "none"
        raise ProjectError(f"unknown stack {stack!r}: no {path.relative_to(project_dir)} (stacks: {known})")
    return CustomerStack(stack, path, read_stack_file(path).get("config") or {})


def customer_stacks(project_dir: Path) -> list[CustomerStack]:
    """Every stack file that declares a customer, sorted by name."""
    stacks = []
    for path in sorted((project_dir / "stacks").glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        config = read_stack_file(path).get("config") or {}
        if CUSTOMER_KEY in config:
            stacks.append(CustomerStack(name, path, config))
    return stacks


def select_stacks(stacks: Sequence[CustomerStack], patterns: Sequence[str],
                  environment: Optional[str]) -> list[CustomerStack]:
    """Stacks whose name or customer matches any pattern (shell-style: `acme-*`), in `environment`."""
    chosen = []
    for stack in stacks:
        if environment is not None and stack.environment != environment:
            continue
        if patterns and not any(fnmatch.fnmatchcase(stack.name, p) or fnmatch.fnmatchcase(stack.customer, p)
                                for p in patterns):
            continue
        chosen.append(stack)
    return chosen


def require_stacks(project_dir: Path, names: Sequence[str]) -> list[CustomerStack]:
    """Each named stack's file, loaded (a ProjectError names the first missing)."""
    return [load_stack(project_dir, name) for name in names]
