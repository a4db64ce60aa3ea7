"""`email-partners fleet preview|up|refresh|drift|report`: one operation over every customer stack."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Optional

import click

from ..errors import UsageError
from ..exit_status import ExitStatus
from ..fleet.merge import load_report, merge_reports
from ..fleet.operation import PLANNED_BY, FleetRun, Plan, select
from ..fleet.render import Progress, print_report, write_json
from ..notifications.notify import after_fleet
from .common import Context, console, selection_options
from .notifying import notify_option, planned, planned_if_project, tell


def can_ask() -> bool:
    """Only a person at a terminal can answer the one question."""
    return sys.stdin.isatty()


def fleet_command(operation: str, ctx: Context, select_: tuple[str, ...], environment: Optional[str],
                  parallel: Optional[int], json_file: Optional[str], yes: bool, refresh: bool = False,
                  no_policy: bool = False, shard: Optional[str] = None, engine: bool = True,
                  confirm: bool = False, notify: tuple[str, ...] = (), engine_all: bool = False,
                  changed_since: Optional[str] = None) -> ExitStatus:
    selection = select(ctx.project_dir, select_, environment, shard, changed_since)
    notifications = planned(ctx.project_dir, notify)
    out = console(stderr=json_file == "-")
    run = FleetRun(operation, selection, refresh=refresh, no_policy=no_policy, engine=engine, confirm=confirm,
                   engine_all=engine_all)
    if parallel:
        run.parallel = parallel
    approve: Optional[Callable[[Plan], bool]] = None
    if not selection.selected and changed_since is not None:  # a change that touches no customer: nothing to do
        out.print(f"--changed-since {changed_since}: no customer stack is affected")
    elif not selection.stacks:  # a shard can be empty: its (empty) report still counts when the reports are merged
        out.print(f"shard {selection.shard}: none of the {len(selection.selected)} selected customers is in this shard")
    elif operation in PLANNED_BY and not yes:
        if not can_ask():
            raise UsageError(f"fleet {operation} writes to {len(selection.stacks)} customer stack(s) and asks first; "
                             f"no terminal to ask on: pass --yes to go ahead without asking")

        def ask(plan: Plan) -> bool:
            print_report(plan.report, out)
            what = "apply these changes to" if operation == "up" else "record what was found in the state of"
            return click.confirm(f"Do you want to {what} {len(plan.to_run)} customer(s)?", default=False)
        approve = ask

    report = run.perform(ctx.project_dir, lambda what, total: Progress(out, what, total), approve)
    if report is None:
        out.print("cancelled: nothing was changed")
        return ExitStatus.OK
    print_report(report, out)
    if json_file:
        write_json(report, json_file)
    tell(after_fleet(notifications, report, ctx.project_dir, os.environ))
    return ExitStatus(report.exit_status)


def _options(command):
    for option in reversed([
        click.option("--parallel", type=click.IntRange(min=1), metavar="N",
                     help="Stacks run at once (default: the number of CPU cores)."),
        click.option("--json", "json_file", metavar="FILE", help="Also write the results as JSON (`-`: stdout)."),
        click.option("--changed-since", metavar="REF",
                     help="Only the customers a change since this git ref touches: their stack files, the customers "
                          "of a changed environment file, every customer when the program, providers/, policies/ "
                          "or pyproject.toml changed (after a merge: HEAD^). Deleted stack files are named."),
        click.option("--shard", metavar="K/N",
                     help="Only the customers of shard K of N (by stack name; N jobs with K = 1..N cover the "
                          "selection exactly once). auto/N: K from JOB_COMPLETION_INDEX (Kubernetes), "
                          "CI_NODE_INDEX, BUILDKITE_PARALLEL_JOB or CIRCLE_NODE_INDEX. "
                          "Merge the shards' --json reports with `fleet report`."),
        notify_option,
    ]):
        command = option(command)
    return selection_options(command)


@click.group(help="One operation over every customer stack (or those selected), N at a time.")
def fleet() -> None:
    pass


ENGINE_ALL = click.option("--engine-all", is_flag=True,
                          help="Run every selected customer through the engine, without the one-pass verdict.")


@fleet.command(help="Preview every customer: the changes `up` would make. Changes nothing; without --refresh "
                    "it makes no API call. One pass over the fleet (declaration, state and code compared by the "
                    "providers' own check and diff) sends only the customers with something to do to the engine; "
                    "the others are `unchanged (not run)`.")
@_options
@ENGINE_ALL
@click.option("--refresh", is_flag=True, help="Read every resource first (one pass over every vendor), so drift "
                                              "shows in the plan.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/.")
@click.pass_obj
def preview(ctx: Context, select: tuple[str, ...], **options) -> ExitStatus:
    return fleet_command("preview", ctx, select, yes=True, **options)


@fleet.command(help="Apply every customer's code. Previews the fleet and asks once, unless --yes. Only the "
                    "customers with something to do go to the engine (the one pass: with --refresh the drift sweep "
                    "reads every customer first); the others are `unchanged (not run)`.")
@_options
@ENGINE_ALL
@click.option("--yes", "-y", is_flag=True, help="Do not preview and ask; apply at once.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read every resource first, so what changed outside the code is put back too.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/ (its mandatory rules "
                                                  "otherwise block the change).")
@click.pass_obj
def up(ctx: Context, select: tuple[str, ...], **options) -> ExitStatus:
    return fleet_command("up", ctx, select, **options)


@fleet.command(help="Read every customer's resources and record them in state (remote objects are not changed). "
                    "Checks for drift and asks once, unless --yes.")
@_options
@click.option("--yes", "-y", is_flag=True, help="Do not check and ask; refresh at once.")
@click.pass_obj
def refresh(ctx: Context, select: tuple[str, ...], **options) -> ExitStatus:
    return fleet_command("refresh", ctx, select, **options)


@fleet.command(help="What changed outside the code, per customer and field: the recorded state of the whole "
                    "fleet read from the backend, every vendor read in one pass under a request budget, judged by "
                    "the providers' own read code; also what `up` would change. Only reads, changes nothing. "
                    f"Exit status {ExitStatus.DRIFT:d} when drift is found.")
@_options
@click.option("--engine", is_flag=True, help="A `pulumi preview --refresh` per customer instead (the engine path).")
@click.option("--confirm", is_flag=True, help="Check the drifted customers with the engine too (preview only); "
                                              "a verdict that differs is reported as an error.")
@click.pass_obj
def drift(ctx: Context, select: tuple[str, ...], **options) -> ExitStatus:
    return fleet_command("drift", ctx, select, yes=True, **options)


@fleet.command(name="report", help="Merge the shards' `--json` reports (from `fleet ... --shard K/N --json FILE`) "
                                   "into the one table, JSON and exit status of a single run over the whole fleet. "
                                   "A missing shard is named, and the exit status is then 1.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_file", metavar="FILE", help="Also write the merged report as JSON (`-`: stdout).")
@notify_option
@click.pass_obj
def report(ctx: Context, files: tuple[Path, ...], json_file: Optional[str], notify: tuple[str, ...]) -> ExitStatus:
    notifications = planned_if_project(ctx, notify)
    reports = [(str(path), load_report(path)) for path in files]
    merged = merge_reports(reports)
    out = console(stderr=json_file == "-")
    print_report(merged, out)
    if merged.missing_shards:
        out.print(f"missing: the report of shard {', '.join(merged.missing_shards)}; those customers were not "
                  f"checked in this run (re-run the shard, or pass its file)", style="bold red")
    if json_file:
        write_json(merged, json_file)
    if notifications.active or notifications.skipped:
        tell(after_fleet(notifications, merged, ctx.project_dir, os.environ, shards=[r.shard for _, r in reports]))
    return ExitStatus(merged.exit_status)
