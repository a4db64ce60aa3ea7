"""What a fleet operation shows: live progress on a terminal, one table at the end, JSON on request."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Optional

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ..values import changes_text
from .models import CustomerResult, FleetReport

SHORT_COLUMNS = ("platform", "environment", "result", "changes", "duration")
STYLES = {"no changes": "green", "changes": "yellow", "adopted": "cyan", "drift": "magenta", "failed": "bold red",
          "not deployed": "dim", "unchanged (not run)": "green"}


def drift_text(result: CustomerResult) -> str:
    """`resource field: recorded -> actual`, one per line; `-` when none."""
    if result.operation not in ("drift", "refresh") or result.result in ("failed", "not deployed"):
        return ""
    lines = []
    for d in result.drift:
        if d.field is None:
            lines.append(f"{d.type} {d.resource}: gone")
        else:
            lines.append(f"{d.type} {d.resource} {d.field}: {json.dumps(d.recorded)} -> {json.dumps(d.actual)}")
    return "\n".join(lines) or "none"


def differs_text(result: CustomerResult) -> str:
    """`fleet drift`: where the platform is not what the code declares (`up` would change it); `none` when it is."""
    if result.differs_from_code is None or result.result in ("failed", "not deployed"):
        return ""
    lines = []
    for d in result.differs_from_code:
        if d.field is None:
            lines.append(f"{d.type} {d.resource}: {d.op}")
        else:
            lines.append(f"{d.type} {d.resource} {d.field}: code {json.dumps(d.declared)}, platform "
                         f"{json.dumps(d.actual)}")
    return "\n".join(lines) or "none"


def result_table(report: FleetReport) -> Table:
    shard = f", shard {report.shard}" if report.shard else ""
    table = Table(title=f"fleet {report.operation}: {len(report.customers)} customers in "
                        f"{report.duration_seconds:.1f}s (parallel {report.parallel}{shard})", title_justify="left")
    checked = any(c.differs_from_code is not None for c in report.customers)
    columns = ["customer", "platform", "environment", "result", "changes", "drift found",
               *(["differs from code"] if checked else []), "duration", "error"]
    for column in columns:  # short values never break ("cakema/il"); long ones wrap at spaces
        table.add_column(column, overflow="fold", no_wrap=column in SHORT_COLUMNS)
    for c in report.customers:
        table.add_row(escape(c.customer), c.platform or "?", c.environment or "-",
                      Text(c.result, style=STYLES.get(c.result, "")), changes_text(c.changes),
                      escape(drift_text(c)), *([escape(differs_text(c))] if checked else []),
                      f"{c.duration_seconds:.1f}s", escape(c.error or ""))
    return table


def summary_line(report: FleetReport) -> str:
    counts: dict[str, int] = {}
    for c in report.customers:
        counts[c.result] = counts.get(c.result, 0) + 1
    parts = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    line = f"{report.operation}: {len(report.customers)} customers: {parts or 'none selected'}"
    if report.rate_limit_wait_seconds:
        line += f"; waited {report.rate_limit_wait_seconds:.1f}s for vendors' rate limits"
    if report.missing_shards:
        line += f"; INCOMPLETE: no report for shard(s) {', '.join(report.missing_shards)}"
    return line


def print_report(report: FleetReport, console: Console) -> None:
    console.print(result_table(report))
    console.print(summary_line(report))
    for note in report.notes:
        console.print(escape(note))


def write_json(report: FleetReport, target: str) -> None:
    text = report.model_dump_json(indent=2) + "\n"
    if target == "-":
        print(text, end="")
    else:
        Path(target).write_text(text)


class Progress:
    """One line per running customer (its current step), the overall count and elapsed time.

    Drawn with rich's Live display only on a terminal; elsewhere it records nothing and prints
    nothing, so logs and pipes get just the final table."""

    def __init__(self, console: Console, operation: str, total: int, enabled: Optional[bool] = None):
        self.console, self.operation, self.total = console, operation, total
        self.enabled = console.is_terminal if enabled is None else enabled
        self.started = time.monotonic()
        self.running: dict[str, tuple[float, str]] = {}
        self.done = self.failed = 0
        self._lock = threading.Lock()
        self._live: Optional[Live] = None

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=8, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def start(self, stack: str) -> None:
        with self._lock:
            self.running[stack] = (time.monotonic(), "starting")

    def step(self, stack: str, text: str) -> None:
        with self._lock:
            if stack in self.running:
                self.running[stack] = (self.running[stack][0], text)

    def finish(self, result: CustomerResult) -> None:
        with self._lock:
            self.running.pop(result.stack, None)
            self.done += 1
            self.failed += result.result == "failed"
        if self._live is not None:
            style = STYLES.get(result.result, "")
            self.console.print(Text.assemble(f"{result.stack}: ", (result.result, style),
                                             f" ({changes_text(result.changes)}, {result.duration_seconds:.1f}s)"))

    def _render(self):
        with self._lock:
            running = sorted(self.running.items())
            header = (f"fleet {self.operation}: {self.done}/{self.total} done"
                      f"{f', {self.failed} failed' if self.failed else ''}, {len(running)} running, "
                      f"{time.monotonic() - self.started:.0f}s")
        lines = [Text(header, style="bold")]
        now = time.monotonic()
        for stack, (since, step) in running:
            lines.append(Spinner("dots", text=Text(f"{stack}  {step}  {now - since:.0f}s")))
        return Group(*lines)
