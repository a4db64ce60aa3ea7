"""`email-partners history [STACK] [--last N] [--format table|json]`: the runs recorded per customer."""

from __future__ import annotations

import json
from typing import Optional

import click
from rich.markup import escape

from ..history.render import history_table
from ..history.runs import stacks_named, store_for
from ..notifications.render import notifications_table
from ..notifications.store import recent
from .common import Context, console


@click.command("history", help="The runs recorded per customer (every fleet operation and every review), newest "
                               "first. STACK is a stack, a customer, or a shell pattern of either.")
@click.argument("stack", required=False)
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Show the newest N entries.")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--notifications", is_flag=True, help="The notifications sent instead: per message, its sink, events, "
                                                    "and whether it was delivered.")
@click.pass_obj
def history(ctx: Context, stack: Optional[str], last: int, format_: str, notifications: bool) -> None:
    store = store_for()
    if notifications:
        show_notifications(store, last, format_)
        return
    entries = store.entries(stacks_named(ctx.project_dir, stack, store.recorded_stacks()) if stack else None, last=last)
    if format_ == "json":
        document = {"store": store.location.shown, "entries": [e.model_dump(mode="json") for e in entries]}
        click.echo(json.dumps(document, indent=2))
        return
    out = console()
    if not entries:
        out.print(f"no runs recorded{f' for {escape(stack)}' if stack else ''} in {escape(store.location.shown)}")
        return
    out.print(history_table(entries, f"run history{f' of {escape(stack)}' if stack else ''}: newest "
                                     f"{len(entries)} ({escape(store.location.shown)})"))


def show_notifications(store, last: int, format_: str) -> None:
    sent = recent(store, last)
    if format_ == "json":
        click.echo(json.dumps({"store": store.location.shown, "notifications": [d.model_dump() for d in sent]},
                              indent=2))
        return
    out = console()
    if not sent:
        out.print(f"no notifications recorded in {escape(store.location.shown)}")
        return
    out.print(notifications_table(sent, f"notifications: newest {len(sent)} ({escape(store.location.shown)})"))
