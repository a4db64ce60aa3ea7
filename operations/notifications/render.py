"""The notifications sent, as a table (`email-partners history --notifications`)."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from rich.markup import escape
from rich.table import Table

from .store import Delivered


def notifications_table(sent: Sequence[Delivered], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("when (UTC)", "sink", "after", "events", "delivered", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for d in sent:
        counts = Counter(e["type"] for e in d.events)
        events = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        if d.event_count > len(d.events):
            events += f" (of {d.event_count} in all)"
        table.add_row(d.sent_at.replace("+00:00", "").replace("T", " "), escape(d.sink), escape(d.source),
                      escape(events), "yes" if d.delivered else "NO", str(d.attempts), escape(d.error or ""))
    return table
