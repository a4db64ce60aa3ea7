"""`email-partners fleet preview|up|refresh|drift`: one operation over every customer stack, N at a time.

Each customer is its own engine run (Automation API, the project's own program), so one failure
never stops the others. The state backend is whatever PULUMI_BACKEND_URL names: a team shares one
PostgreSQL backend (`postgres://...`), where the engine's per-stack lock keeps two operators from
updating one customer at once.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

import click
from rich.console import Console

from providers.rate_limits import JOURNAL_VARIABLE, journal_seconds

from . import automation, history
from .context import Context
from .exit_status import ExitStatus
from .fleet_report import FleetReport, Progress, now_utc, print_report, write_json
from .fleet_run import CustomerResult, run_customer
from .project import CustomerStack, ProjectError, customer_stacks
from .shards import Shard, ShardError, parse_shard, shard_selection

# What each writing operation previews first, to show the plan before the one confirmation.
PLANNED_BY = {"up": "preview", "refresh": "drift"}


def select_stacks(stacks: Sequence[CustomerStack], patterns: Sequence[str],
                  environment: Optional[str], shard: Optional[Shard] = None) -> list[CustomerStack]:
    """Stacks whose name or customer matches any pattern (shell-style: `acme-*`), in `environment`,
    and of `shard` when given (see shards.py)."""
    chosen = []
    for stack in stacks:
        if environment is not None and stack.environment != environment:
            continue
        if patterns and not any(fnmatch.fnmatchcase(stack.name, p) or fnmatch.fnmatchcase(stack.customer, p)
                                for p in patterns):
            continue
        chosen.append(stack)
    return shard_selection(chosen, shard)


def can_ask() -> bool:
    """Only a person at a terminal can answer the one question."""
    return sys.stdin.isatty()


def exit_status(report: FleetReport) -> ExitStatus:
    if report.failed:
        return ExitStatus.FAILED
    if report.operation == "drift" and report.drifted:
        return ExitStatus.DRIFT
    return ExitStatus.OK


def run_fleet(stacks: Sequence[CustomerStack], operation: str, project_dir, parallel: int,
              console: Console, progress: Optional[bool] = None, refresh: bool = False,
              no_policy: bool = False) -> FleetReport:
    """Run `operation` on every stack, `parallel` at a time; results in stack order."""
    started, started_at = time.monotonic(), now_utc()
    # The providers run in the engine's processes: they note their holds for vendors' rate limits here.
    handle, name = tempfile.mkstemp(prefix="email-partners-rate-limit-waits-")
    os.close(handle)
    waits = Path(name)
    try:
        workspace = automation.project_workspace(project_dir, automation.engine_env(**{JOURNAL_VARIABLE: str(waits)}))
    except automation.EngineNotFound as exc:
        waits.unlink(missing_ok=True)
        raise click.ClickException(str(exc)) from None
    program = automation.inline_program(project_dir)  # every customer's program in this process

    # Mandatory policies hold wherever the tool changes a customer: preview and up run the pack.
    policy_pack = automation.policy_pack_of(project_dir, no_policy) if operation in ("preview", "up") else None
    with Progress(console, operation, len(stacks), enabled=progress) as display:
        def one(stack: CustomerStack) -> CustomerResult:
            display.start(stack.name)
            result = run_customer(stack, operation, workspace, on_step=lambda text: display.step(stack.name, text),
                                  refresh=refresh, policy_pack=policy_pack, program=program)
            display.finish(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet") as pool:
            results = list(pool.map(one, stacks))
    report = FleetReport(operation=operation, started_at=started_at, parallel=parallel, exit_status=0,
                         duration_seconds=round(time.monotonic() - started, 2), customers=results,
                         rate_limit_wait_seconds=round(journal_seconds(waits), 2))
    waits.unlink(missing_ok=True)
    report.exit_status = exit_status(report)
    return report


def _plan_then_confirm(stacks: list[CustomerStack], operation: str, ctx: Context, parallel: int,
                       console: Console, refresh: bool,
                       no_policy: bool = False) -> Optional[tuple[list[CustomerStack], list[CustomerResult]]]:
    """Preview the whole fleet, show it, ask once. Returns the stacks to run and the results of
    those that need no run (nothing to do, or their plan failed); None when the answer is no."""
    plan = run_fleet(stacks, PLANNED_BY[operation], ctx.project_dir, parallel, console, refresh=refresh,
                     no_policy=no_policy)
    print_report(plan, console)
    # A refresh has something to record only where the platform differs from state (not merely from the code).
    needs_run = (lambda r: r.result == "changes") if operation == "up" else (lambda r: bool(r.drift))
    to_run = [s for s, r in zip(stacks, plan.customers) if needs_run(r)]
    settled = [r.model_copy(update={"operation": operation}) for r in plan.customers if not needs_run(r)]
    if to_run:
        what = "apply these changes to" if operation == "up" else "record what was found in the state of"
        if not click.confirm(f"Do you want to {what} {len(to_run)} customer(s)?", default=False):
            console.print("cancelled: nothing was changed")
            return None
    return to_run, settled


def fleet_command(operation: str, ctx: Context, select: tuple[str, ...], environment: Optional[str],
                  parallel: Optional[int], json_file: Optional[str], yes: bool, refresh: bool = False,
                  no_policy: bool = False, shard: Optional[str] = None, engine: bool = True,
                  confirm: bool = False) -> ExitStatus:
    try:
        the_shard = parse_shard(shard) if shard else None
    except ShardError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    try:
        selected = select_stacks(customer_stacks(ctx.project_dir), select, environment)
    except ProjectError as exc:
        raise click.UsageError(str(exc)) from None
    stacks = shard_selection(selected, the_shard)
    if not selected:
        raise click.UsageError("no customer stack matches"
                               + (f" --select {' '.join(select)}" if select else "")
                               + (f" --environment {environment}" if environment else ""))
    parallel = parallel or os.cpu_count() or 1
    console = Console(stderr=json_file == "-")
    if not console.is_terminal:
        console.width = 200  # logs and pipes: keep each customer on one line where possible
    started, started_at = time.monotonic(), now_utc()
    settled: list[CustomerResult] = []
    if not stacks:  # a shard can be empty: its (empty) report still counts when the reports are merged
        console.print(f"shard {the_shard}: none of the {len(selected)} selected customers is in this shard")
    elif operation in PLANNED_BY and not yes:
        if not can_ask():
            raise click.UsageError(f"fleet {operation} writes to {len(stacks)} customer stack(s) and asks first; "
                                   f"no terminal to ask on: pass --yes to go ahead without asking")
        confirmed = _plan_then_confirm(stacks, operation, ctx, parallel, console, refresh, no_policy)
        if confirmed is None:
            return ExitStatus.OK
        stacks, settled = confirmed
    if operation == "drift" and not engine and stacks:  # one pass over the whole fleet: operations/drift_sweep.py
        from .drift_sweep import sweep

        report = sweep(stacks, ctx.project_dir, console, confirm=confirm, parallel=parallel)
        report.exit_status = exit_status(report)
    else:
        report = (run_fleet(stacks, operation, ctx.project_dir, parallel, console, refresh=refresh,
                            no_policy=no_policy) if stacks else None)
    if settled or report is None:
        customers = sorted((report.customers if report else []) + settled, key=lambda r: r.stack)
        report = FleetReport(operation=operation, started_at=started_at, parallel=parallel, exit_status=0,
                             duration_seconds=round(time.monotonic() - started, 2), customers=customers,
                             rate_limit_wait_seconds=report.rate_limit_wait_seconds if report else 0.0)
        report.exit_status = exit_status(report)
    report.shard = str(the_shard) if the_shard else None
    print_report(report, console)
    if json_file:
        write_json(report, json_file)
    history.record_fleet_report(report, ctx.project_dir)
    return ExitStatus(report.exit_status)


def _options(command):
    for option in reversed([
        click.option("--select", "select", multiple=True, metavar="PATTERN",
                     help="Only stacks whose name or customer matches (shell pattern, repeatable)."),
        click.option("--environment", metavar="ENV", help="Only stacks of this environment."),
        click.option("--parallel", type=click.IntRange(min=1), metavar="N",
                     help="Stacks run at once (default: the number of CPU cores)."),
        click.option("--json", "json_file", metavar="FILE", help="Also write the results as JSON (`-`: stdout)."),
        click.option("--shard", metavar="K/N",
                     help="Only the customers of shard K of N (by stack name; N jobs with K = 1..N cover the "
                          "selection exactly once). auto/N: K from JOB_COMPLETION_INDEX (Kubernetes), "
                          "CI_NODE_INDEX, BUILDKITE_PARALLEL_JOB or CIRCLE_NODE_INDEX. "
                          "Merge the shards' --json reports with `fleet report`."),
    ]):
        command = option(command)
    return command


@click.group(help="One operation over every customer stack (or those selected), N at a time.")
def fleet() -> None:
    pass


@fleet.command(help="Preview every customer: the changes `up` would make. Changes nothing; without --refresh "
                    "it makes no API call (it compares the code with the state).")
@_options
@click.option("--refresh", is_flag=True, help="Read every resource first, so drift shows in the plan.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/.")
@click.pass_obj
def preview(ctx: Context, **options) -> ExitStatus:
    return fleet_command("preview", ctx, yes=True, **options)


@fleet.command(help="Apply every customer's code. Previews the fleet and asks once, unless --yes.")
@_options
@click.option("--yes", "-y", is_flag=True, help="Do not preview and ask; apply at once.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read every resource first, so what changed outside the code is put back too.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/ (its mandatory rules "
                                                  "otherwise block the change).")
@click.pass_obj
def up(ctx: Context, **options) -> ExitStatus:
    return fleet_command("up", ctx, **options)


@fleet.command(help="Read every customer's resources and record them in state (remote objects are not changed). "
                    "Checks for drift and asks once, unless --yes.")
@_options
@click.option("--yes", "-y", is_flag=True, help="Do not check and ask; refresh at once.")
@click.pass_obj
def refresh(ctx: Context, **options) -> ExitStatus:
    return fleet_command("refresh", ctx, **options)


@fleet.command(help="What changed outside the code, per customer and field: the recorded state of the whole "
                    "fleet read from the backend, every vendor read in one pass under a request budget, judged by "
                    "the providers' own read code; also what `up` would change. Only reads, changes nothing. "
                    f"Exit status {ExitStatus.DRIFT:d} when drift is found.")
@_options
@click.option("--engine", is_flag=True, help="A `pulumi preview --refresh` per customer instead (the engine path).")
@click.option("--confirm", is_flag=True, help="Check the drifted customers with the engine too (preview only); "
                                              "a verdict that differs is reported as an error.")
@click.pass_obj
def drift(ctx: Context, **options) -> ExitStatus:
    return fleet_command("drift", ctx, yes=True, **options)
