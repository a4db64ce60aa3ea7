"""`email-partners new`: a new customer stack with a commented starter declaration for its platform.

The stack gets the environment's provider settings (credentials encrypted by Pulumi) and a
declaration listing every setting that platform supports (operations/starters.py reads them from
the handlers' Args models), with example values to replace, so nobody starts from a blank file
or a copied demo.
"""

from __future__ import annotations

import click

from providers.platforms import names

from . import automation
from .environments import EnvironmentError_, load_environment
from .starters import starter
from .stack_writer import create_stack, write_declaration
from .project import stack_file

@click.command(name="new", help="Create the stack <CUSTOMER>.<ENVIRONMENT> with a commented starter declaration.")
@click.argument("customer")
@click.option("--platform", required=True, type=click.Choice(sorted(names())))
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--force", is_flag=True, help="Overwrite the stack's config if it exists (its state is kept).")
@click.pass_obj
def new(ctx, customer: str, platform: str, env_name: str, force: bool) -> None:
    project_dir = ctx.project_dir
    if not customer or not all(c.isalnum() or c == "-" for c in customer) or customer != customer.lower():
        raise click.UsageError(f"customer {customer!r}: use lower-case letters, digits and hyphens (e.g. acme-bakery)")
    try:
        environment = load_environment(project_dir, env_name)
        credentials = environment.resolved_config(platform)
    except EnvironmentError_ as exc:
        raise click.UsageError(str(exc)) from None
    name = f"{customer}.{env_name}"
    in_backend = name in automation.stack_names(project_dir)
    if (in_backend or stack_file(project_dir, name).exists()) and not force:
        raise click.UsageError(f"stack {name!r} already exists: nothing was changed (--force overwrites its config)")
    create_stack(project_dir, name, environment, platform, credentials, in_backend=in_backend)
    title = " ".join(part.capitalize() for part in customer.split("-"))
    path = write_declaration(
        project_dir, name, environment, platform, credentials, None, keep_from_copy=False,
        header=f"Customer {customer!r} on {platform}, environment {env_name!r}: made by `email-partners new`.\n"
               f"Edit the declaration below, then `pulumi preview --stack {name}`.",
        declaration_text=starter(platform, customer, title))
    click.echo(f"Created stack {name} ({path.relative_to(project_dir)}): edit its declaration, then "
               f"`pulumi preview --stack {name}`.")
