"""`email-partners owners [STACK...] [--format table|json]`: which stack manages which vendor object."""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from ..exit_status import ExitStatus
from ..ownership.index import as_json, index_path, refreshed
from .common import Context, console


@click.command("owners", help="Read every stack of the state backend once and list the vendor objects each manages "
                              "(accounts, subusers, companies, domains); an object more than one stack records is "
                              "named first (exit 1). Also rewrites the ownership index that the policy pack and the "
                              "providers check adoptions against.")
@click.argument("stacks", nargs=-1)
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def owners(ctx: Context, stacks: tuple[str, ...], format_: str) -> ExitStatus:
    ownership = refreshed(ctx.project_dir)
    shared = ownership.shared()
    entries = [e for e in ownership.index.entries if not stacks or {o.stack for o in e.owners} & set(stacks)]
    if format_ == "json":
        click.echo(json.dumps(as_json(ownership), indent=2))
        return ExitStatus.FAILED if shared else ExitStatus.OK
    out = console()
    for entry in shared:
        out.print(f"[bold red]two owners:[/] {escape(str(entry.object))} is recorded by stacks "
                  f"{escape(', '.join(sorted({o.stack for o in entry.owners})))}: `email-partners take-over` leaves it "
                  f"to one")
    table = Table(title=f"vendor objects of {escape(ownership.index.backend or '?')} ({len(entries)})",
                  title_justify="left")
    for column in ("platform", "object", "id", "stack", "resource"):
        table.add_column(column, overflow="fold", no_wrap=column in ("platform", "object"))
    for entry in entries:
        for owner in entry.owners:
            table.add_row(entry.object.platform, entry.object.noun, escape(entry.object.key), escape(owner.stack),
                          escape(owner.resource + (" (retained)" if owner.retained else "")))
    out.print(table)
    for stack, why in sorted(ownership.unread.items()):
        out.print(f"not read: {escape(stack)}: {escape(why)}")
    out.print(f"index written to {escape(str(index_path(ctx.project_dir)))}")
    return ExitStatus.FAILED if shared else ExitStatus.OK
