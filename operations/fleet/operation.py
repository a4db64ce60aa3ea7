"""`fleet preview|up|refresh|drift`: one operation over every selected customer stack, N at a time.

Each customer is its own engine run (Automation API, the project's own program: customer.py), so one
failure never stops the others; `fleet drift` reads the fleet in one pass instead (operations/drift/).
The state backend is whatever PULUMI_BACKEND_URL names: a team shares one PostgreSQL backend
(`postgres://...`), where the engine's per-stack lock keeps two operators from updating one customer
at once. A writing operation (up, refresh) is planned first when someone is asked to approve it
(`approve`): only the customers whose plan has something to do then run.

`preview` and `up` first refuse each customer whose declaration would take a vendor object another
stack of the backend manages (operations/ownership/gate.py), then judge the rest in one pass
(operations/changes/verdict.py): only the customers with something to do, or whose verdict cannot be
told without it, go to the engine; the others are `unchanged (not run)`. `engine_all` runs every one
through the engine. After an `up` the ownership index is read again (what it adopted is named). Each
`up` and `refresh` records what it ran with (operations/changes/basis.py), which the next one pass
compares. A file backend that `backend copy` moved is refused before anything reads it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Optional, Sequence

from providers.rate_limits import JOURNAL_VARIABLE, journal_seconds

from ..changes.basis import Digests, with_bases
from ..changes.since import changed_since as changes_since
from ..changes.verdict import Judgement, judge
from ..drift.sweep import sweep
from ..engine.automation import policy_pack_of, project_workspace
from ..engine.environment import engine_env, refuse_moved
from ..engine.inline import inline_program
from ..errors import UsageError
from ..ownership.gate import after_up, refused_before_running
from ..project.stacks import CustomerStack, customer_stacks, select_stacks
from .customer import run_customer
from .models import CustomerResult, Display, FleetReport, NoDisplay, exit_status, now_utc
from .record import record_report
from .shards import Shard, ShardError, parse_shard, shard_selection

# What each writing operation previews first, to show the plan before the one approval.
PLANNED_BY = {"up": "preview", "refresh": "drift"}
ONE_PASS = ("preview", "up")         # decided by the one pass first, unless engine_all (operations/changes/)
RECORDS_BASIS = ("up", "refresh")    # what writes state: its basis goes into the run history
DisplayFor = Callable[[str, int], ContextManager[Display]]  # (operation, customers) -> a live display


def no_display(operation: str, total: int) -> ContextManager[Display]:
    return contextlib.nullcontext(NoDisplay())


@dataclass
class Selection:
    selected: list[CustomerStack]            # every stack --select, --environment and --changed-since choose
    stacks: list[CustomerStack]              # those of this shard (all of them without --shard)
    shard: Optional[Shard] = None
    notes: list[str] = field(default_factory=list)  # --changed-since: what it selected, stack files it deletes


def select(project_dir: Path, patterns: Sequence[str] = (), environment: Optional[str] = None,
           shard: Optional[str] = None, changed_since: Optional[str] = None) -> Selection:
    """The stacks an operation runs on; a selection that matches nothing is a usage error, except
    with `changed_since`, where a change that touches no customer selects none."""
    try:
        the_shard = parse_shard(shard) if shard else None
    except ShardError as exc:
        raise ShardError(f"invalid value for --shard: {exc}") from None
    selected = select_stacks(customer_stacks(project_dir), patterns, environment)
    if changed_since is not None:
        changes = changes_since(project_dir, changed_since)
        selected = [s for s in selected if changes.selects(s)]
        return Selection(selected, shard_selection(selected, the_shard), the_shard, changes.notes())
    if not selected:
        raise UsageError("no customer stack matches"
                         + (f" --select {' '.join(patterns)}" if patterns else "")
                         + (f" --environment {environment}" if environment else ""))
    return Selection(selected, shard_selection(selected, the_shard), the_shard)


def run_fleet(stacks: Sequence[CustomerStack], operation: str, project_dir: Path, parallel: int,
              display: Display = NoDisplay(), refresh: bool = False, no_policy: bool = False) -> FleetReport:
    """Run `operation` through the engine on every stack, `parallel` at a time; results in stack order."""
    started, started_at = time.monotonic(), now_utc()
    # The providers run in the engine's processes: they note their holds for vendors' rate limits in this journal.
    handle, name = tempfile.mkstemp(prefix="email-partners-rate-limit-waits-")
    os.close(handle)
    waits = Path(name)
    try:
        workspace = project_workspace(project_dir, engine_env(**{JOURNAL_VARIABLE: str(waits)}))
    except BaseException:
        waits.unlink(missing_ok=True)
        raise
    program = inline_program(project_dir)  # every customer's program in this process
    # Mandatory policies hold wherever the tool changes a customer: preview and up run the pack.
    policy_pack = policy_pack_of(project_dir, no_policy) if operation in ("preview", "up") else None

    def one(stack: CustomerStack) -> CustomerResult:
        display.start(stack.name)
        result = run_customer(stack, operation, workspace, on_step=lambda text: display.step(stack.name, text),
                              refresh=refresh, policy_pack=policy_pack, program=program)
        display.finish(result)
        return result

    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet") as pool:
            results = list(pool.map(one, stacks))
        waited = journal_seconds(waits)
    finally:
        waits.unlink(missing_ok=True)
    report = FleetReport(operation=operation, started_at=started_at, parallel=parallel, exit_status=0,
                         duration_seconds=round(time.monotonic() - started, 2), customers=results,
                         rate_limit_wait_seconds=round(waited, 2))
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
    engine_all: bool = False         # preview, up: every customer through the engine, no one-pass verdict

    def perform(self, project_dir: Path, display_for: DisplayFor = no_display,
                approve: Optional[Callable[[Plan], bool]] = None) -> Optional[FleetReport]:
        """The report (recorded in the run history), or None when `approve` declined the plan.
        `approve` is asked once, with the whole plan, before a writing operation; without it the
        operation runs at once."""
        started, started_at = time.monotonic(), now_utc()
        stacks, settled, owner_notes, judgement = self.selection.stacks, [], [], None
        env, waited = engine_env(), 0.0
        if stacks and env.get("PULUMI_BACKEND_URL"):  # before the one pass reads it as if it were current
            refuse_moved(env)
        if stacks and self.operation in ("preview", "up"):  # one owner per vendor object (operations/ownership/)
            stacks, settled, owner_notes = refused_before_running(stacks, self.operation, project_dir)
        refused = {r.stack for r in settled}  # never ran: nothing of theirs to record as a basis
        if stacks and self.operation in ONE_PASS and not self.engine_all:
            with display_for(f"{self.operation} (one pass)", len(stacks)) as display:
                judgement = judge(stacks, self.operation, project_dir, refresh=self.refresh,
                                  no_policy=self.no_policy, display=display)
            stacks, settled = judgement.to_engine(stacks), settled + judgement.unchanged(stacks)
            waited += judgement.rate_limit_wait_seconds
        if stacks and self.operation in PLANNED_BY and approve is not None:
            the_plan = plan(stacks, self.operation, project_dir, self.parallel, display_for, self.refresh,
                            self.no_policy)
            self._explained(the_plan.report.customers, judgement)
            the_plan.report.customers = sorted(the_plan.report.customers + settled, key=lambda r: r.stack)
            the_plan.report.notes = (self.selection.notes + owner_notes + (judgement.notes if judgement else [])
                                     + the_plan.report.notes)
            waited += the_plan.report.rate_limit_wait_seconds
            if judgement is not None:  # what the engine's preview shows as "same" but the `up` records
                recording = {s.name for s in stacks if (judgement.reason(s.name) or "").startswith("would record:")}
                the_plan.to_run += [s for s in stacks if s.name in recording and s not in the_plan.to_run]
                the_plan.settled = [r for r in the_plan.settled if r.stack not in recording]
            if the_plan.to_run and not approve(the_plan):
                return None
            stacks, settled = the_plan.to_run, settled + the_plan.settled
        report = self._run(stacks, project_dir, display_for) if stacks else None
        if settled or report is None:
            customers = sorted((report.customers if report else []) + settled, key=lambda r: r.stack)
            report = FleetReport(operation=self.operation, started_at=started_at, parallel=self.parallel,
                                 exit_status=0, duration_seconds=round(time.monotonic() - started, 2),
                                 customers=customers, notes=report.notes if report else [],
                                 rate_limit_wait_seconds=report.rate_limit_wait_seconds if report else 0.0)
        report.rate_limit_wait_seconds = round(report.rate_limit_wait_seconds + waited, 2)
        report.notes = self.selection.notes + owner_notes + (judgement.notes if judgement else []) + report.notes
        self._explained(report.customers, judgement)
        if self.operation == "up":
            after_up(report, project_dir)
        if self.operation in RECORDS_BASIS:
            digests = judgement.digests if judgement else Digests(
                project_dir, policy_pack_of(project_dir, self.no_policy) if self.operation in ONE_PASS else None)
            with_bases([c for c in report.customers if c.stack not in refused], self.selection.stacks, project_dir,
                       env, digests, read_platform=self.refresh or self.operation == "refresh")
        report.exit_status = exit_status(report)
        report.shard = str(self.selection.shard) if self.selection.shard else None
        record_report(report, project_dir)
        return report

    @staticmethod
    def _explained(results: list[CustomerResult], judgement: Optional[Judgement]) -> None:
        """Each customer the one pass sent to the engine says why."""
        for result in results if judgement is not None else ():
            result.reason = judgement.reason(result.stack)

    def _run(self, stacks: list[CustomerStack], project_dir: Path, display_for: DisplayFor) -> FleetReport:
        if self.operation == "drift" and not self.engine:  # one pass over the whole fleet
            return sweep(stacks, project_dir, display_for, confirm=self.confirm, parallel=self.parallel)
        with display_for(self.operation, len(stacks)) as display:
            return run_fleet(stacks, self.operation, project_dir, self.parallel, display, refresh=self.refresh,
                             no_policy=self.no_policy)
