"""The run history as a table (`email-partners history`)."""

from __future__ import annotations

from typing import Optional

from rich.markup import escape
from rich.table import Table

from ..values import changes_text
from .model import RunEntry


def drift_summary(entry: RunEntry) -> str:
    if entry.operation not in ("drift", "refresh") or entry.result in ("failed", "not deployed"):
        return ""
    if not entry.drift:
        return "none"
    return "; ".join(f"{d.type} {d.resource} {d.field or '(gone)'}" for d in entry.drift)


def what_happened(entry: RunEntry) -> str:
    """An audited step's account(s) and what became of them (`retire`, `take-over`, an adoption, ...)."""
    objects = ", ".join(str(o) for o in entry.objects)
    return "; ".join(part for part in (entry.detail, objects if objects and objects not in (entry.detail or "") else "")
                     if part)


def short_commit(commit: Optional[str]) -> str:
    """`0123456789ab` (and `-dirty` when it was)."""
    if not commit:
        return ""
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")


def history_table(entries: list[RunEntry], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("when (UTC)", "stack", "operation", "result", "changes", "drift", "policy", "duration", "by",
                   "commit", "what happened", "error"):
        table.add_column(column, overflow="fold", no_wrap=column in ("operation", "result", "duration"))
    for e in entries:
        policy = ", ".join(f"{p.policy} ({p.enforcement})" for p in e.policy)
        changes = e.promotion.summary() if e.promotion else changes_text(e.changes)  # `promote`: what it carried
        table.add_row(e.started_at.replace("+00:00", "").replace("T", " "), escape(e.stack), e.operation, e.result,
                      escape(changes), escape(drift_summary(e)), escape(policy), f"{e.duration_seconds:.1f}s",
                      escape(e.actor or ""), short_commit(e.git_commit), escape(what_happened(e)), escape(e.error or ""))
    return table
