"""`email-partners review`: what a pull request does to customers, for the reviewer.

Runs `pulumi preview` of each stack (given, or changed since `--base` in git), with the policy pack
in `policies/` when there is one, and writes one summary: the dangerous changes first in plain words,
then every change per customer and resource with each field's old and new value. Exit status: 0
nothing dangerous (or all acknowledged), 3 a dangerous change without its acknowledgement, 1 a
failed preview (a mandatory policy, an invalid declaration, missing or refused credentials).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import click

from . import automation, history
from .fleet_report import now_utc
from .project import ProjectError, load_stack
from .review_plan import KINDS, Problem, StackReview, lowered_limits, review_of, usage_dangers
from .review_render import as_json, markdown


def changed_stacks(project_dir: Path, base: str) -> list[str]:
    """Stacks whose `stacks/Pulumi.<stack>.yaml` was added or changed since `base` (committed or not)."""
    result = subprocess.run(["git", "diff", "--name-only", "--relative", "--diff-filter=ACMR", base, "--", "stacks"],
                            cwd=project_dir, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.UsageError(f"--base {base}: git cannot compare with it: {result.stderr.strip()}")
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "stacks"],
                               cwd=project_dir, capture_output=True, text=True).stdout
    names = []
    for line in [*result.stdout.splitlines(), *untracked.splitlines()]:
        path = Path(line.strip())
        if path.parent == Path("stacks") and path.name.startswith("Pulumi.") and path.suffix == ".yaml":
            names.append(path.name[len("Pulumi."):-len(".yaml")])
    return sorted(set(names))


def credentials_line(stack: str, platform: Optional[str], project_dir: Path) -> tuple[bool, str]:
    from providers.credentials import check_credentials

    try:
        config = automation.stack_config(stack, project_dir)
    except RuntimeError as exc:
        return False, str(exc)
    return check_credentials(platform or "", config)


def signupto_usage(stack: str, project_dir: Path):
    """What a Sign-Up.to account uses now (one GET per account, only when the plan lowers a limit)."""
    def usage_of(account_id: str) -> Optional[dict]:
        from providers.settings import signupto_client

        try:  # the counts are not part of the typed Account model: read the raw answer
            data = signupto_client(automation.stack_config(stack, project_dir)).call("GET", "account",
                                                                                     params={"id": account_id})
        except Exception as exc:  # the review still lists the change; it cannot compare it with usage
            click.echo(f"warning: {stack}: cannot read Sign-Up.to account {account_id}'s usage: {exc}", err=True)
            return None
        data = data[0] if isinstance(data, list) and data else data
        return data if isinstance(data, dict) else None
    return usage_of


def review_stack(stack: str, project_dir: Path, policy_pack: Optional[Path], acknowledged: set[str],
                 check_credentials: bool) -> StackReview:
    declared = load_stack(project_dir, stack)
    run = automation.preview(stack, project_dir, policy_pack=policy_pack)
    review = review_of(stack, declared.customer, declared.platform, run, acknowledged)
    if declared.platform == "signupto" and lowered_limits(review):
        review.dangers += usage_dangers(review, signupto_usage(stack, project_dir), acknowledged)
    if check_credentials:
        accepted, line = credentials_line(stack, declared.platform, project_dir)
        review.credentials = line
        if not accepted:
            review.problems.append(Problem(severity="error", message=f"credentials: {line}"))
    return review


def exit_status(reviews: list[StackReview]) -> int:
    from .cli import EXIT_DANGEROUS, EXIT_FAILED, EXIT_OK  # cli imports this module to register it

    if any(r.failed for r in reviews):
        return EXIT_FAILED
    if any(r.unacknowledged for r in reviews):
        return EXIT_DANGEROUS
    return EXIT_OK


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
           check_credentials: bool, no_policy: bool, acknowledged: tuple[str, ...]) -> None:
    project_dir = ctx.project_dir
    names = list(stacks)
    if base:
        names = sorted(set(names) | set(changed_stacks(project_dir, base)))
    elif not names:
        raise click.UsageError("name the stacks to review, or give --base REF to review those changed since REF")
    try:
        for name in names:
            load_stack(project_dir, name)
    except ProjectError as exc:
        raise click.UsageError(str(exc)) from None
    pack = project_dir / "policies"
    policy_pack = pack if pack.is_dir() and not no_policy else None
    reviews, durations, started_at = [], [], now_utc()
    for name in names:
        if sys.stderr.isatty():
            click.echo(f"previewing {name} ...", err=True)
        started = time.monotonic()
        reviews.append(review_stack(name, project_dir, policy_pack, set(acknowledged), check_credentials))
        durations.append(time.monotonic() - started)
    status = exit_status(reviews)
    history.record_reviews(reviews, durations, status, started_at, project_dir)
    text = as_json(reviews, status) if format_ == "json" else markdown(reviews)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)
    sys.exit(status)


@click.command("check-credentials", help="One authentication request per stack's vendor; says which are refused.")
@click.argument("stacks", nargs=-1, required=True)
@click.pass_obj
def check_credentials_command(ctx, stacks: tuple[str, ...]) -> None:
    project_dir = ctx.project_dir
    failed = False
    for name in stacks:
        try:
            declared = load_stack(project_dir, name)
        except ProjectError as exc:
            raise click.UsageError(str(exc)) from None
        accepted, line = credentials_line(name, declared.platform, project_dir)
        failed |= not accepted
        click.echo(f"{name}: {'ok' if accepted else 'FAILED'}: {line}")
    from .cli import EXIT_FAILED, EXIT_OK

    sys.exit(EXIT_FAILED if failed else EXIT_OK)
