"""`email-partners dns STACK... [--pending] [--format bind|csv|json]`: DNS records to publish, in full."""

from __future__ import annotations

import json
import sys

import click

from ..customers.dns import __doc__ as DNS_HELP
from ..customers.dns import as_bind, as_csv, records_of
from .common import Context


@click.command(help=DNS_HELP)
@click.argument("stacks", nargs=-1, required=True)
@click.option("--pending", is_flag=True, help="Only the records the platform has not validated yet.")
@click.option("--format", "format_", type=click.Choice(["bind", "csv", "json"]), default="bind", show_default=True)
@click.pass_obj
def dns(ctx: Context, stacks: tuple[str, ...], pending: bool, format_: str) -> None:
    ctx.require_stacks(stacks)
    records = records_of(stacks, ctx.project_dir, pending)
    if format_ == "json":
        click.echo(json.dumps(records, indent=2))
    else:
        click.echo(as_bind(records) if format_ == "bind" else as_csv(records), nl=False)
    if not records and sys.stderr.isatty():
        click.echo("no records" + (" pending" if pending else ""), err=True)
