"""Run history: every fleet operation and every `review` records what it did per customer, and
`email-partners history [STACK] [--last N] [--format table|json]` shows it.

The recording hooks are small on purpose: a fleet operation (the engine path or the drift sweep)
calls `record_fleet_report(report, project_dir)` with its FleetReport; `review` calls
`record_reviews`. A history that cannot be written is a warning on stderr, never a failed run: the
operation's work is done by then. Storage: operations/history_store.py.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .fleet_report import changes_text, now_utc
from .history_model import PolicyFinding, RunEntry, actor, entry_of_result, git_commit, tool_version, \
    without_url_passwords
from .history_store import HistoryError, HistoryStore, location_for
from .project import ProjectError, customer_stacks, split_stack_name

if TYPE_CHECKING:
    from .fleet_report import FleetReport
    from .review_plan import StackReview


def backend_url(env: Mapping[str, str]) -> Optional[str]:
    """The state backend the engine uses: PULUMI_BACKEND_URL, else the one `pulumi login` recorded."""
    from .backend_state import current_backend

    backend = current_backend(env)
    return backend.url if backend else None


def store_for(env: Optional[Mapping[str, str]] = None) -> HistoryStore:
    env = os.environ if env is None else env
    return HistoryStore(location_for(backend_url(env), env))


def run_fields(project_dir: Path, exit_status: Optional[int], started_at: Optional[str] = None,
               env: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """What every entry of one run shares: its id and start, the commit, who ran it."""
    env = os.environ if env is None else env
    return dict(run_id=uuid.uuid4().hex, started_at=started_at or now_utc(), git_commit=git_commit(project_dir, env),
                actor=actor(env), tool_version=tool_version(), run_exit_status=exit_status)


def _write(entries: list[RunEntry], env: Optional[Mapping[str, str]]) -> bool:
    try:
        store_for(env).record(entries)
        return True
    except (HistoryError, OSError) as exc:
        print(f"warning: the run history was not recorded: {exc}", file=sys.stderr)
        return False


def record_fleet_report(report: "FleetReport", project_dir: Path, env: Optional[Mapping[str, str]] = None) -> bool:
    """Record one fleet operation (engine path or sweep), one entry per customer, in one transaction."""
    run = run_fields(project_dir, report.exit_status, report.started_at, env)
    return _write([entry_of_result(customer, **run) for customer in report.customers], env)


def review_result(review: "StackReview") -> str:
    if review.failed:
        return "failed"
    if review.unacknowledged:
        return "dangerous"
    return "changes" if review.changes else "no changes"


def record_reviews(reviews: Sequence["StackReview"], durations: Sequence[float], exit_status: int,
                   started_at: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> bool:
    """Record one `review` run: per stack, its verdict, planned change counts and policy findings."""
    run = run_fields(project_dir, exit_status, started_at, env)
    environments = {s.name: s.environment for s in _stacks_or_none(project_dir)}
    entries = []
    for review, seconds in zip(reviews, durations):
        errors = [p.message for p in review.problems if p.severity == "error"]
        entries.append(RunEntry(
            stack=review.stack, customer=review.customer, platform=review.platform, operation="review",
            environment=environments.get(review.stack, split_stack_name(review.stack)[1]),
            result=review_result(review), changes=dict(Counter(c.op for c in review.changes)),
            policy=[PolicyFinding(policy=v.policy, enforcement=v.enforcement, resource=v.resource, message=v.message)
                    for v in review.policy_violations],
            duration_seconds=round(seconds, 2), error=without_url_passwords(errors[0] if errors else None), **run))
    return _write(entries, env)


def _stacks_or_none(project_dir: Path):
    try:
        return customer_stacks(project_dir)
    except ProjectError:
        return []


# --- the command ---------------------------------------------------------------------------------------

def stacks_named(project_dir: Path, name: str) -> list[str]:
    """The stacks `name` means: itself (a retired stack keeps its history), and every stack whose
    name or customer matches it (a shell pattern works too)."""
    names = {name} if not any(c in name for c in "*?[") else set()
    for stack in _stacks_or_none(project_dir):
        if fnmatch.fnmatchcase(stack.name, name) or fnmatch.fnmatchcase(stack.customer, name):
            names.add(stack.name)
    return sorted(names)


def drift_summary(entry: RunEntry) -> str:
    if entry.operation not in ("drift", "refresh") or entry.result in ("failed", "not deployed"):
        return ""
    if not entry.drift:
        return "none"
    return "; ".join(f"{d.type} {d.resource} {d.field or '(gone)'}" for d in entry.drift)


def history_table(entries: list[RunEntry], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("when (UTC)", "stack", "operation", "result", "changes", "drift", "policy", "duration", "by",
                   "commit", "error"):
        table.add_column(column, overflow="fold")
    for e in entries:
        policy = ", ".join(f"{p.policy} ({p.enforcement})" for p in e.policy)
        table.add_row(e.started_at.replace("+00:00", "").replace("T", " "), escape(e.stack), e.operation, e.result,
                      changes_text(e.changes), escape(drift_summary(e)), escape(policy), f"{e.duration_seconds:.1f}s",
                      escape(e.actor or ""), short_commit(e.git_commit), escape(e.error or ""))
    return table


def short_commit(commit: Optional[str]) -> str:
    """`0123456789ab` (and `-dirty` when it was)."""
    if not commit:
        return ""
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")


@click.command("history", help="The runs recorded per customer (every fleet operation and every review), newest "
                               "first. STACK is a stack, a customer, or a shell pattern of either.")
@click.argument("stack", required=False)
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Show the newest N entries.")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def history(ctx, stack: Optional[str], last: int, format_: str) -> None:
    store = store_for()
    stacks = stacks_named(ctx.project_dir, stack) if stack else None
    try:
        entries = store.entries(stacks, last=last)
    except HistoryError as exc:
        raise click.ClickException(str(exc)) from None
    if format_ == "json":
        document = {"store": store.location.shown, "entries": [e.model_dump(mode="json") for e in entries]}
        click.echo(json.dumps(document, indent=2))
        return
    console = Console()
    if not console.is_terminal:
        console.width = 200
    if not entries:
        console.print(f"no runs recorded{f' for {escape(stack)}' if stack else ''} in {escape(store.location.shown)}")
        return
    console.print(history_table(entries, f"run history{f' of {escape(stack)}' if stack else ''}: newest "
                                         f"{len(entries)} ({escape(store.location.shown)})"))
