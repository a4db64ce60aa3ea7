"""`email-partners new`: a new customer stack with a commented starter declaration for its platform.

The stack gets the environment's provider settings (credentials encrypted by Pulumi) and a
declaration listing every setting that platform supports (operations/project/starters.py reads
them from the handlers' Args models), with example values to replace, so nobody starts from a
blank file or a copied demo.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.cli import stack_names
from ..errors import UsageError
from ..project.environments import load_environment
from ..project.starters import starter
from ..project.stacks import stack_file
from ..project.writer import create_stack, write_declaration


def new_stack(project_dir: Path, customer: str, platform: str, env_name: str, force: bool = False) -> tuple[str, Path]:
    """Create `<customer>.<env_name>` with its starter declaration: (stack, its file)."""
    if not customer or not all(c.isalnum() or c == "-" for c in customer) or customer != customer.lower():
        raise UsageError(f"customer {customer!r}: use lower-case letters, digits and hyphens (e.g. acme-bakery)")
    environment = load_environment(project_dir, env_name)
    credentials = environment.resolved_config(platform)
    name = f"{customer}.{env_name}"
    in_backend = name in stack_names(project_dir)
    if (in_backend or stack_file(project_dir, name).exists()) and not force:
        raise UsageError(f"stack {name!r} already exists: nothing was changed (--force overwrites its config)")
    create_stack(project_dir, name, environment, platform, credentials, in_backend=in_backend)
    title = " ".join(part.capitalize() for part in customer.split("-"))
    path = write_declaration(
        project_dir, name, environment, platform, credentials, None, keep_from_copy=False,
        header=f"Customer {customer!r} on {platform}, environment {env_name!r}: made by `email-partners new`.\n"
               f"Edit the declaration below, then `pulumi preview --stack {name}`.",
        declaration_text=starter(platform, customer, title))
    return name, path
