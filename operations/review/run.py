"""`email-partners review`: what a pull request does to customers, for the reviewer.

Runs `pulumi preview` of each stack (given, or changed since `--base` in git), with the policy pack
in `policies/` when there is one, and writes one summary: a stack file deleted or renamed since
`--base` first (its customer's account stays live and unmanaged), then the dangerous changes in plain words,
then every change per customer and resource with each field's old and new value. Exit status: 0
nothing dangerous (or all acknowledged), 3 a dangerous change without its acknowledgement, 1 a
failed preview (a mandatory policy, an invalid declaration, missing or refused credentials).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import click

from providers.platforms import describe
from providers.platforms.clients import shared_client

from . import automation, history
from .check_credentials import credentials_line
from .exit_status import ExitStatus
from .fleet_report import now_utc
from .project import ProjectError, load_stack, split_stack_name
from .review_files import stack_file_changes
from .review_plan import KINDS, Problem, StackReview, lowered_limits, removed_review, review_of, usage_dangers
from .review_render import as_json, markdown


def usage_reader(stack: str, platform: str, project_dir: Path):
    """What an account uses now, as its platform reports it (one GET per account, only when the plan
    lowers a limit the platform reports usage beside)."""
    usage = describe(platform).usage

    def usage_of(account_id: str) -> Optional[dict]:
        try:
            return usage.read(shared_client(platform, automation.stack_config(stack, project_dir)), account_id)
        except Exception as exc:  # the review still lists the change; it cannot compare it with usage
            click.echo(f"warning: {stack}: cannot read {describe(platform).title} account {account_id}'s usage: "
                       f"{exc}", err=True)
            return None
    return usage_of


def review_stack(stack: str, project_dir: Path, policy_pack: Optional[Path], acknowledged: set[str],
                 check_credentials: bool) -> StackReview:
    declared = load_stack(project_dir, stack)
    run = automation.preview(stack, project_dir, policy_pack=policy_pack)
    if not run.ok and "no stack named" in run.stderr:
        # A new stack file (added, or a rename's new name): its preview is the plan of its first `up`.
        # Like `fleet preview`, create the empty stack in the backend, keeping the file as written.
        automation.init_stack(stack, project_dir)
        run = automation.preview(stack, project_dir, policy_pack=policy_pack)
    review = review_of(stack, declared.customer, declared.platform, run, acknowledged, declared.declaration)
    if lowered_limits(review):
        review.dangers += usage_dangers(review, usage_reader(stack, declared.platform, project_dir), acknowledged)
    if check_credentials:
        accepted, line = credentials_line(stack, declared.platform, project_dir)
        review.credentials = line
        if not accepted:
            review.problems.append(Problem(severity="error", message=f"credentials: {line}"))
    return review


def exit_status(reviews: list[StackReview]) -> ExitStatus:
    if any(r.failed for r in reviews):
        return ExitStatus.FAILED
    if any(r.unacknowledged for r in reviews):
        return ExitStatus.DANGEROUS
    return ExitStatus.OK


@click.command(help=__doc__)
@click.argument("stacks", nargs=-1)
@click.option("--base", metavar="REF", help="Review every stack whose file changed since this git ref.")
@click.option("--format", "format_", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the summary here (default: stdout).")
@click.option("--check-credentials", is_flag=True, help="Also make one authentication request per stack's vendor.")
@click.option("--no-policy", is_flag=True, help="Do not run the policy pack in policies/.")
@click.option("--acknowledge", "acknowledged", multiple=True, type=click.Choice([*KINDS, "all"]),
              help="Accept a kind of dangerous change (for example from a pull-request label). Repeatable.")
@click.pass_obj
def review(ctx, stacks: tuple[str, ...], base: Optional[str], format_: str, output: Optional[Path],
           check_credentials: bool, no_policy: bool, acknowledged: tuple[str, ...]) -> ExitStatus:
    project_dir = ctx.project_dir
    names, removed, renamed_from = list(stacks), [], {}
    if base:
        files = stack_file_changes(project_dir, base)
        names = sorted(set(names) | set(files.changed))
        removed, renamed_from = files.removed, files.renamed_from
    elif not names:
        raise click.UsageError("name the stacks to review, or give --base REF to review those changed since REF")
    try:
        for name in names:
            load_stack(project_dir, name)
    except ProjectError as exc:
        raise click.UsageError(str(exc)) from None
    pack = project_dir / "policies"
    policy_pack = pack if pack.is_dir() and not no_policy else None
    # Removed stacks first: the one danger no preview shows.
    reviews = [removed_review(r.name, split_stack_name(r.name)[0], r.platform, r.renamed_to, set(acknowledged))
               for r in removed]
    durations, started_at = [0.0] * len(reviews), now_utc()
    for name in names:
        if sys.stderr.isatty():
            click.echo(f"previewing {name} ...", err=True)
        started = time.monotonic()
        review = review_stack(name, project_dir, policy_pack, set(acknowledged), check_credentials)
        review.renamed_from = renamed_from.get(name)
        reviews.append(review)
        durations.append(time.monotonic() - started)
    status = exit_status(reviews)
    history.record_reviews(reviews, durations, status, started_at, project_dir)
    text = as_json(reviews, status) if format_ == "json" else markdown(reviews)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)
    return status
