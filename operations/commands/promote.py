"""`email-partners promote STACK --to ENV`: the change rehearsed on a copy, carried to the stack it was copied
from (operations/promotion/); `promote --check`: the copies with changes not yet promoted."""

from __future__ import annotations

from typing import Optional

import click

from ..errors import UsageError
from ..project.stacks import customer_stacks, select_stacks
from ..promotion.check import check_copies
from ..promotion.render import check_json, check_table, parse_setting, promotion_json, promotion_text
from ..promotion.run import promote as promote_copy
from .common import Context, console, selection_options


@click.command(help="Carry the change rehearsed on copy STACK (made by `clone`) to the stack it was copied from in "
                    "environment --to: only that change, mapped back through the copy rules, written into the target's "
                    "stack file for review. `--check` lists the copies whose changes are not yet promoted.")
@click.argument("stack", required=False)
@click.option("--to", "target_env", metavar="ENVIRONMENT", help="The target's environment (e.g. production).")
@click.option("--as", "target", metavar="TARGET-STACK", help="The target stack (default: the one the copy was made from).")
@click.option("--set", "settings", multiple=True, metavar="FIELD=VALUE",
              help="Decide a field promote cannot map back (or replace a promoted value), named as promote names it. "
                   "Repeatable.")
@click.option("--base", "base_ref", metavar="REF", help="For a copy without a record: a git commit where the copy's and "
                                                        "the target's stack files were as `clone` left them.")
@click.option("--dry-run", is_flag=True, help="Print the edit and its diff; write nothing.")
@click.option("--unrehearsed", is_flag=True, help="Promote even if the copy's change was never deployed (`pulumi up`).")
@click.option("--check", "check", is_flag=True, help="List the copies with changes not yet promoted (and targets "
                                                     "changed since their copy); writes nothing.")
@selection_options
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def promote(ctx: Context, stack: Optional[str], target_env: Optional[str], target: Optional[str],
            settings: tuple[str, ...], base_ref: Optional[str], dry_run: bool, unrehearsed: bool, check: bool,
            select: tuple[str, ...], environment: Optional[str], output: str) -> None:
    project_dir = ctx.project_dir
    if check:
        if stack or target_env or target or settings or base_ref:
            raise UsageError("--check takes only --environment, --select and --output")
        statuses = check_copies(project_dir, select_stacks(customer_stacks(project_dir), select, environment))
        if output == "json":
            click.echo(check_json(statuses), nl=False)
        elif not statuses:
            click.echo(f"no copies{f' in {environment}' if environment else ''} (stacks made by `email-partners clone`)")
        else:
            console().print(check_table(statuses, environment))
        return
    if not stack or not target_env:
        raise UsageError("name the copy and the target's environment: promote STACK --to ENVIRONMENT (or --check)")
    if select or environment:
        raise UsageError("--select and --environment go with --check")
    overrides = dict(parse_setting(text) for text in settings)
    result = promote_copy(project_dir, stack, target_env, target, overrides, base_ref, dry_run, unrehearsed)
    for warning in result.warnings:
        click.echo(warning, err=True)
    click.echo(promotion_json(result, project_dir) if output == "json" else promotion_text(result, project_dir),
               nl=False)
