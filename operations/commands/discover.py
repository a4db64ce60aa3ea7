"""`email-partners discover --environment ENV --platform P`: stacks that adopt what already exists."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from providers.platforms import describe, names

from ..customers.discover import Discovered, discover_stacks
from .common import Context


@click.command(help="List the accounts an environment's partner credentials can see and write one customer stack "
                    "per account, declared as it is live and marked for adoption.")
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--platform", required=True, type=click.Choice(names()))
@click.option("--customer", "customers", multiple=True,
              help="Only this account (id, name, or the customer name it becomes); repeatable. Where the "
                   "credentials see one account (Ciirus: the API user's one sub-account), its customer name.")
@click.option("--force", is_flag=True, help="Rewrite stacks that already exist (default: leave them and say so).")
@click.option("--include-managed", is_flag=True,
              help="Also write stacks for accounts another stack already manages (default: skip them, naming it); "
                   "such a stack adopts only through `email-partners take-over`.")
@click.option("--dry-run", is_flag=True, help="List only; write no stack.")
@click.option("--page-size", default=50, show_default=True, type=click.IntRange(1, 100),
              help="Accounts per page where the platform lists them in pages (Cakemail).")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def discover(ctx: Context, env_name: str, platform: str, customers: tuple[str, ...], force: bool,
             include_managed: bool, dry_run: bool, page_size: int, output: str) -> None:
    items = discover_stacks(ctx.project_dir, env_name, platform, customers, force, dry_run, page_size,
                            include_managed)
    _report(items, platform, env_name, output)


def _report(items: list[Discovered], platform: str, environment: str, output: str) -> None:
    if output == "json":
        click.echo(json.dumps({"platform": platform, "environment": environment,
                               "limits": list(describe(platform).discovery.notes),
                               "accounts": [{**asdict(i), "objects": [o.model_dump() for o in i.objects]}
                                            for i in items]}, indent=2, default=str))
        return
    click.echo(f"{len(items)} {platform} account(s) in environment {environment}:")
    if items:
        width = max(len(i.stack) for i in items)
        for i in items:
            features = len(i.declaration.get("features") or {})
            domains = ", ".join(d["domain"] for d in i.declaration.get("sending_domains") or []) or "-"
            click.echo(f"  {i.stack:<{width}}  {i.account_id:>10}  {features:>2} features  domains: {domains}  "
                       f"{i.result}")
            for note in i.notes:
                click.echo(f"  {'':<{width}}  note: {note}")
            for rule, reason in i.policy_violations:
                click.echo(f"  {'':<{width}}  breaks mandatory policy {rule}: {reason}")
    click.echo("Not readable through the API (see README, Environments and cloning):")
    for note in describe(platform).discovery.notes:
        click.echo(f"  - {note}")
