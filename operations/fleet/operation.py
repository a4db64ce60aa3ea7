"""`fleet preview|up|refresh|drift`: one operation over every selected customer stack, N at a time.

Each customer is its own engine run (Automation API, the project's own program: customer.py), so one
failure never stops the others; `fleet drift` reads the fleet in one pass instead (operations/drift/).
The state backend is whatever PULUMI_BACKEND_URL names: a team shares one PostgreSQL backend
(`postgres://...`), where the engine's per-stack lock keeps two operators from updating one customer
at once. A writing operation (up, refresh) is planned first when someone is asked to approve it
(`approve`): only the customers whose plan has something to do then run.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Optional, Sequence

from ..engine.automation import policy_pack_of, project_workspace
from ..engine.environment import engine_env
from ..engine.inline import inline_program
from ..drift.sweep import sweep
from ..errors import UsageError
from ..ownership.gate import after_up, refused_before_running
from ..project.stacks import CustomerStack, customer_stacks, select_stacks
from .customer import run_customer
from .models import CustomerResult, Display, FleetReport, NoDisplay, exit_status, now_utc
from .record import record_report
from .shards import Shard, ShardError, parse_shard, shard_selection

# What each writing operation previews first, to show the plan before the one approval.
PLANNED_BY = {"up": "preview", "refresh": "drift"}
DisplayFor = Callable[[str, int], ContextManager[Display]]  # (operation, customers) -> a live display


def no_display(operation: str, total: int) -> ContextManager[Display]:
    return contextlib.nullcontext(NoDisplay())


@dataclass
class Selection:
    selected: list[CustomerStack]            # every stack --select and --environment choose
    stacks: list[CustomerStack]              # those of this shard (all of them without --shard)
    shard: Optional[Shard] = None


def select(project_dir: Path, patterns: Sequence[str] = (), environment: Optional[str] = None,
           shard: Optional[str] = None) -> Selection:
    """The stacks an operation runs on; a selection that matches nothing is a usage error."""
    try:
        the_shard = parse_shard(shard) if shard else None
    except ShardError as exc:
        raise ShardError(f"invalid value for --shard: {exc}") from None
    selected = select_stacks(customer_stacks(project_dir), patterns, environment)
    if not selected:
        raise UsageError("no customer stack matches"
                         + (f" --select {' '.join(patterns)}" if patterns else "")
                         + (f" --environment {environment}" if environment else ""))
    return Selection(selected, shard_selection(selected, the_shard), the_shard)


def run_fleet(stacks: Sequence[CustomerStack], operation: str, project_dir: Path, parallel: int,
              display: Display = NoDisplay(), refresh: bool = False, no_policy: bool = False) -> FleetReport:
    """Run `operation` through the engine on every stack, `parallel` at a time; results in stack order."""
    started, started_at = time.monotonic(), now_utc()
    workspace = project_workspace(project_dir, engine_env())
    program = inline_program(project_dir)  # every customer's program in this process
    # Mandatory policies hold wherever the tool changes a customer: preview and up run the pack.
    policy_pack = policy_pack_of(project_dir, no_policy) if operation in ("preview", "up") else None

    def one(stack: CustomerStack) -> CustomerResult:
        display.start(stack.name)
        result = run_customer(stack, operation, workspace, on_step=lambda text: display.step(stack.name, text),
                              refresh=refresh, policy_pack=policy_pack, program=program)
        display.finish(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet") as pool:
        results = list(pool.map(one, stacks))
    report = FleetReport(operation=operation, started_at=started_at, parallel=parallel, exit_status=0,
                         duration_seconds=round(time.monotonic() - started, 2), customers=results)
    report.exit_status = exit_status(report)
    return report


@dataclass
class Plan:
    """What a writing operation would do: the plan's own report, the stacks with something to do, and
    the results of those without (nothing to do, or their plan failed)."""

    report: FleetReport
    to_run: list[CustomerStack] = field(default_factory=list)
    settled: list[CustomerResult] = field(default_factory=list)


def plan(stacks: Sequence[CustomerStack], operation: str, project_dir: Path, parallel: int,
         display_for: DisplayFor = no_display, refresh: bool = False, no_policy: bool = False) -> Plan:
    """Preview the fleet for `operation` (up: `preview`, refresh: `drift`)."""
    planned_by = PLANNED_BY[operation]
    with display_for(planned_by, len(stacks)) as display:
        report = run_fleet(stacks, planned_by, project_dir, parallel, display, refresh=refresh, no_policy=no_policy)
    # A refresh has something to record only where the platform differs from state (not merely from the code).
    needs_run = (lambda r: r.result == "changes") if operation == "up" else (lambda r: bool(r.drift))
    return Plan(report, [s for s, r in zip(stacks, report.customers) if needs_run(r)],
                [r.model_copy(update={"operation": operation}) for r in report.customers if not needs_run(r)])


@dataclass
class FleetRun:
    """One fleet operation as the command line asks for it; `perform` runs it."""

    operation: str
    selection: Selection
    parallel: int = field(default_factory=lambda: os.cpu_count() or 1)
    refresh: bool = False
    no_policy: bool = False
    engine: bool = True              # drift: one engine run per customer instead of the one-pass sweep
    confirm: bool = False            # drift: check the drifted customers with the engine too

    def perform(self, project_dir: Path, display_for: DisplayFor = no_display,
                approve: Optional[Callable[[Plan], bool]] = None) -> Optional[FleetReport]:
        """The report (recorded in the run history), or None when `approve` declined the plan.
        `approve` is asked once, with the whole plan, before a writing operation; without it the
        operation runs at once."""
        started, started_at = time.monotonic(), now_utc()
        stacks, settled, owner_notes = self.selection.stacks, [], []
        if stacks and self.operation in ("preview", "up"):  # one owner per vendor object (operations/ownership/)
            stacks, settled, owner_notes = refused_before_running(stacks, self.operation, project_dir)
        if stacks and self.operation in PLANNED_BY and approve is not None:
            the_plan = plan(stacks, self.operation, project_dir, self.parallel, display_for, self.refresh,
                            self.no_policy)
            if the_plan.to_run and not approve(the_plan):
                return None
            stacks, settled = the_plan.to_run, settled + the_plan.settled
        report = self._run(stacks, project_dir, display_for) if stacks else None
        if settled or report is None:
            customers = sorted((report.customers if report else []) + settled, key=lambda r: r.stack)
            notes = report.notes if report else []
            report = FleetReport(operation=self.operation, started_at=started_at, parallel=self.parallel,
                                 exit_status=0, duration_seconds=round(time.monotonic() - started, 2),
                                 customers=customers, notes=notes)
        report.notes[:0] = owner_notes
        if self.operation == "up":
            after_up(report, project_dir)
        report.exit_status = exit_status(report)
        report.shard = str(self.selection.shard) if self.selection.shard else None
        record_report(report, project_dir)
        return report

    def _run(self, stacks: list[CustomerStack], project_dir: Path, display_for: DisplayFor) -> FleetReport:
        if self.operation == "drift" and not self.engine:  # one pass over the whole fleet
            return sweep(stacks, project_dir, display_for, confirm=self.confirm, parallel=self.parallel)
        with display_for(self.operation, len(stacks)) as display:
            return run_fleet(stacks, self.operation, project_dir, self.parallel, display, refresh=self.refresh,
                             no_policy=self.no_policy)
