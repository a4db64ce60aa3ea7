"""`email-partners discover`: bring the accounts that already exist on a platform under management.

Lists what the partner credentials of an environment can see and writes one customer stack per
account, declaring the live values and marked for adoption (`adopt_account_id`, `adopt_existing`),
so the first `pulumi up` takes everything over without creating anything and the next preview shows
no changes. What an API cannot show is said in the output (`notes`), never guessed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import click

from providers.handlers.base import handler_of
from providers.platforms import describe, names
from providers.platforms.clients import new_client
from providers.platforms.settings import login_domain, read_settings

from . import automation
from .discover_policies import mandatory_violations
from .environments import Environment, EnvironmentError_, load_environment
from .project import customer_stacks, slug, stack_file
from .stack_writer import create_stack, write_declaration


@dataclass
class Discovered:
    account_id: str
    name: str
    declaration: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    # (rule, reason) for each mandatory policy the live declaration breaks: its adopting `up` is refused.
    policy_violations: list[tuple[str, str]] = field(default_factory=list)
    customer: str = ""
    stack: str = ""
    result: str = ""


def _config(environment: Environment, platform: str) -> dict[str, str]:
    return {entry.key: value for entry, value in environment.resolved_config(platform)}


def discover_accounts(environment: Environment, platform: str, page_size: int) -> list[Discovered]:
    """What the platform's description reads with the environment's credentials (providers/platforms/)."""
    described = describe(platform)
    settings = read_settings(described, _config(environment, platform))
    features = handler_of(platform, "AccountFeatures").Args.model_fields["features"].annotation.model_fields
    found = described.discovery.read(new_client(described, settings), settings, page_size, features)
    return [Discovered(a.account_id, a.name, a.declaration, list(a.notes)) for a in found]


def _header(environment: Environment, platform: str, item: Discovered) -> str:
    lines = [f"Customer {item.customer!r}: {platform} account {item.account_id} ({item.name!r}) found by",
             f"`email-partners discover` in environment {environment.name!r}. The declaration is the live one,",
             "marked for adoption: the first `pulumi up` takes it over without creating anything.",
             "What the API cannot show:"]
    lines += [f"- {note}" for note in [*describe(platform).discovery.notes, *item.notes]]
    if item.policy_violations:
        lines += ["Mandatory policies this live declaration breaks (`fleet up` and `pulumi up --policy-pack policies/`",
                  "refuse to adopt it until the account, or this declaration, complies):"]
        lines += [f"- {rule}: {reason}" for rule, reason in item.policy_violations]
    return "\n".join(lines)


def _name_stacks(items: list[Discovered], environment: str, platform: str, customers: tuple[str, ...]) -> None:
    """A platform whose credentials see one account names it after --customer; the others by name."""
    one = describe(platform).one_account_per_login
    seen: set[str] = set()
    for item in items:
        base = (customers[0] if one and customers else slug(item.name)) or f"account-{item.account_id}"
        customer = base if base not in seen else f"{base}-{slug(item.account_id)}"
        seen.add(customer)
        item.customer, item.stack = customer, f"{customer}.{environment}"


@click.command(help="List the accounts an environment's partner credentials can see and write one customer stack "
                    "per account, declared as it is live and marked for adoption.")
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--platform", required=True, type=click.Choice(names()))
@click.option("--customer", "customers", multiple=True,
              help="Only this account (id, name, or the customer name it becomes); repeatable. Where the "
                   "credentials see one account (Ciirus: the API user's one sub-account), its customer name.")
@click.option("--force", is_flag=True, help="Rewrite stacks that already exist (default: leave them and say so).")
@click.option("--dry-run", is_flag=True, help="List only; write no stack.")
@click.option("--page-size", default=50, show_default=True, type=click.IntRange(1, 100),
              help="Accounts per page where the platform lists them in pages (Cakemail).")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def discover(ctx, env_name: str, platform: str, customers: tuple[str, ...], force: bool, dry_run: bool,
             page_size: int, output: str) -> None:
    project_dir = ctx.project_dir
    try:
        environment = load_environment(project_dir, env_name)
        environment.resolved_config(platform)
    except EnvironmentError_ as exc:
        raise click.UsageError(str(exc)) from None
    items = discover_accounts(environment, platform, page_size)
    _name_stacks(items, env_name, platform, customers)
    partner_domain = login_domain(describe(platform), _config(environment, platform))
    for item in items:
        item.policy_violations = mandatory_violations(item.declaration, env_name, partner_domain)
    if customers and not describe(platform).one_account_per_login:
        wanted = set(customers)
        items = [i for i in items if wanted & {i.account_id, i.name, i.customer}]
    adopted = {}
    for stack in customer_stacks(project_dir):
        marker = (stack.declaration.get("account") or {}).get("adopt_account_id")
        if marker and stack.platform == platform and stack.environment == env_name:
            adopted[str(marker)] = stack.name
    in_backend = automation.stack_names(project_dir) if not dry_run else set()
    template: Optional[str] = None
    todo = []
    for item in items:
        exists = item.stack in in_backend or stack_file(project_dir, item.stack).exists()
        if adopted.get(item.account_id) not in (None, item.stack):
            item.result = f"skipped: already declared by stack {adopted[item.account_id]}"
        elif dry_run:
            item.result = "not written (--dry-run)"
        elif exists and not force:
            item.result = "skipped: stack exists (--force rewrites it)"
        else:
            todo.append((item, exists))
    credentials = environment.resolved_config(platform) if todo else []

    def write(item: Discovered, exists: bool, copy_from: Optional[str]) -> None:
        create_stack(project_dir, item.stack, environment, platform, credentials,
                     copy_config_from=copy_from, in_backend=exists)
        write_declaration(project_dir, item.stack, environment, platform, credentials, item.declaration,
                          header=_header(environment, platform, item), keep_from_copy=False)
        item.result = "rewritten" if exists else "written"

    if todo:  # the first stack gets the secrets from the environment; the others copy them (re-encrypted)
        first, first_exists = todo[0]
        write(first, first_exists, None)
        template = first.stack
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(write, item, exists, template) for item, exists in todo[1:]]:
                future.result()
    _report(items, platform, env_name, output)


def _report(items: list[Discovered], platform: str, environment: str, output: str) -> None:
    if output == "json":
        click.echo(json.dumps({"platform": platform, "environment": environment,
                               "limits": list(describe(platform).discovery.notes),
                               "accounts": [asdict(i) for i in items]}, indent=2, default=str))
        return
    click.echo(f"{len(items)} {platform} account(s) in environment {environment}:")
    if items:
        width = max(len(i.stack) for i in items)
        for i in items:
            features = len(i.declaration.get("features") or {})
            domains = ", ".join(d["domain"] for d in i.declaration.get("sending_domains") or []) or "-"
            click.echo(f"  {i.stack:<{width}}  {i.account_id:>10}  {features:>2} features  domains: {domains}  "
                       f"{i.result}")
            for note in i.notes:
                click.echo(f"  {'':<{width}}  note: {note}")
            for rule, reason in i.policy_violations:
                click.echo(f"  {'':<{width}}  breaks mandatory policy {rule}: {reason}")
    click.echo("Not readable through the API (see README, Environments and cloning):")
    for note in describe(platform).discovery.notes:
        click.echo(f"  - {note}")
