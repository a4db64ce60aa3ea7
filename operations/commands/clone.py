"""`email-partners clone STACK --to ENV [--as NAME]`: a customer copied into another environment."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Optional

import click

from ..customers.clone import clone_stack
from .common import Context


@click.command(help="Copy customer STACK into another environment, rewritten by that environment's copy rules.")
@click.argument("stack")
@click.option("--to", "target", required=True, metavar="ENVIRONMENT", help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--as", "new_name", metavar="NEW-STACK", help="Name of the copy (default: <customer>.<ENVIRONMENT>).")
@click.option("--force", is_flag=True, help="Overwrite the copy's stack config if that stack exists (its state is kept).")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def clone(ctx: Context, stack: str, target: str, new_name: Optional[str], force: bool, output: str) -> None:
    project_dir = ctx.project_dir
    made = clone_stack(project_dir, stack, target, new_name, force)
    if output == "json":
        click.echo(json.dumps({"stack": made.stack, "source": made.source, "environment": made.environment,
                               "file": str(made.file), "rewrites": [asdict(r) for r in made.rewrites],
                               "secrets": made.secrets, "record": str(made.record)}, indent=2))
        return
    click.echo(f"Created stack {made.stack} from {stack} in environment {target} "
               f"({made.file.relative_to(project_dir)}).")
    if made.rewrites:
        click.echo("Rewritten for the environment:")
        width = max(len(r.field) for r in made.rewrites)
        for r in made.rewrites:
            click.echo(f"  {r.field:<{width}}  {r.source!r} -> {r.clone!r}")
    else:
        click.echo("Nothing rewritten: the environment's copy rules change nothing in this declaration.")
    click.echo(f"Provider settings of {target}: {', '.join(made.settings)}; "
               f"secrets encrypted: {', '.join(made.secrets) or 'none'} [secret].")
    click.echo(f"Base for `email-partners promote` recorded in {made.record.relative_to(project_dir)}.")
    click.echo(f"Next: pulumi preview --stack {made.stack}")
