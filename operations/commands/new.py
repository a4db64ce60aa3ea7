"""`email-partners new CUSTOMER --platform P --environment ENV`: a new stack with a commented starter."""

from __future__ import annotations

import click

from providers.platforms import names

from ..customers.new import new_stack
from .common import Context


@click.command(name="new", help="Create the stack <CUSTOMER>.<ENVIRONMENT> with a commented starter declaration.")
@click.argument("customer")
@click.option("--platform", required=True, type=click.Choice(sorted(names())))
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--force", is_flag=True, help="Overwrite the stack's config if it exists (its state is kept).")
@click.pass_obj
def new(ctx: Context, customer: str, platform: str, env_name: str, force: bool) -> None:
    name, path = new_stack(ctx.project_dir, customer, platform, env_name, force)
    click.echo(f"Created stack {name} ({path.relative_to(ctx.project_dir)}): edit its declaration, then "
               f"`pulumi preview --stack {name}`.")
