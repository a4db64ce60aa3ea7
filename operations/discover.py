"""`email-partners discover`: bring the accounts that already exist on a platform under management.

Lists what the partner credentials of an environment can see and writes one customer stack per
account, declaring the live values and marked for adoption (`adopt_account_id`, `adopt_existing`),
so the first `pulumi up` takes everything over without creating anything and the next preview shows
no changes. What an API cannot show is said in the output (`notes`), never guessed.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import click

from . import automation
from .discover_policies import mandatory_violations
from .environments import Environment, EnvironmentError_, load_environment
from .project import ProjectError, customer_stacks, stack_file
from .stack_writer import create_stack, write_declaration

# Limits of what each API can show, repeated in the stack files and the README.
PLATFORM_NOTES = {
    "cakemail": ["Cakemail's API does not show an account's owner (only its user id): the owner is left out; it is "
                 "only needed to create an account, and an adopted account's owner cannot be declared later",
                 "a suspended account does not show whether it is a trial: trial is declared false"],
    "signupto": ["Sign-Up.to's API cannot update or delete an account: its settings are fixed as discovered, and "
                 "on_destroy is declared keep (a destroy leaves the account and its data in place)",
                 "null settings (a dependent switch whose parent is off, custommaildomaintype, maildomainprimary) "
                 "cannot be declared: they are left out and stay unmanaged"],
    "ciirus": ["one sub-account per API user: the environment's credentials see exactly one"],
}


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _credentials(environment: Environment, platform: str) -> dict[str, str]:
    return {entry.key.split(":", 1)[1]: value for entry, value in environment.resolved_config(platform)}


def discover_cakemail(environment: Environment, page_size: int) -> list[Discovered]:
    from providers.cakemail.client import CakemailClient
    from providers.cakemail.models import UsageLimits

    c = _credentials(environment, "cakemail")
    client = CakemailClient(c["apiUrl"], c["username"], c["password"])
    found = []
    for account in client.iter_accounts(per_page=page_size):
        notes = []
        known = UsageLimits.model_fields
        limits = {k: v for k, v in (account.usage_limits or {}).items() if v is not None and k in known}
        if not limits:
            full = client.get_account(account.id)
            limits = {k: v for k, v in ((full.usage_limits if full else None) or {}).items()
                      if v is not None and k in known}
        if account.suspended:
            notes.append("suspended: trial status not shown, declared false")
        declared_account = {"adopt_account_id": account.id, "name": account.name,
                            "trial": account.status == "trial", "partner": account.partner,
                            "suspended": account.suspended}
        domains = [{"domain": k.domain, "selector": k.selector, "adopt_existing": True}
                   for k in client.list_dkim_keys(account.id)]
        declaration = {"platform": "cakemail", "account": declared_account, "features": limits}
        if domains:
            declaration["sending_domains"] = domains
        found.append(Discovered(account.id, account.name or account.id, declaration, notes))
    return found


def discover_signupto(environment: Environment) -> list[Discovered]:
    from providers.resources.account_features.signupto import UNLIMITED, SignupToFeatures
    from providers.signupto.client import SignupToClient
    from providers.signupto.models import NULLABLE_LIMITS

    c = _credentials(environment, "signupto")
    client = SignupToClient.as_partner(c["apiUrl"], c["partnerId"], c["partnerKey"])
    found = []
    for account in client.list_accounts():
        owner = {"email": account.contactemail}
        if account.timezone:
            owner["timezone"] = account.timezone
        declared_account = {"adopt_account_id": str(account.id), "name": account.name, "owner": owner,
                            "on_destroy": "keep"}
        for key in ("country", "address", "telephone", "website"):
            if getattr(account, key) is not None:
                declared_account[key] = getattr(account, key)
        features, left_out = {}, []
        for key, value in (client.get_features(account.id) or {}).items():
            if key not in SignupToFeatures.model_fields:
                continue
            if value is None and key in NULLABLE_LIMITS:
                value = UNLIMITED
            if value is None:
                left_out.append(key)
                continue
            features[key] = value
        notes = [f"not declared (null): {', '.join(sorted(left_out))}"] if left_out else []
        found.append(Discovered(str(account.id), account.name,
                                {"platform": "signupto", "account": declared_account, "features": features}, notes))
    return found


def discover_ciirus(environment: Environment) -> list[Discovered]:
    from providers.ciirus.client import CiirusClient

    c = _credentials(environment, "ciirus")
    client = CiirusClient(c["apiUrl"], c["username"], c["password"], c.get("apiVersion") or "v2024.07.31")
    account = client.get()
    if account is None:
        return []
    declaration = {"platform": "ciirus", "account": {"adopt_account_id": account.subaccount_id},
                   "features": {"daily_send_limit": account.daily_send_limit, "approved": account.approved},
                   "sending_domains": [{"domain": account.sending_domain}]}
    return [Discovered(account.subaccount_id, c["username"], declaration)]


def _header(environment: Environment, platform: str, item: Discovered) -> str:
    lines = [f"Customer {item.customer!r}: {platform} account {item.account_id} ({item.name!r}) found by",
             f"`email-partners discover` in environment {environment.name!r}. The declaration is the live one,",
             "marked for adoption: the first `pulumi up` takes it over without creating anything.",
             "What the API cannot show:"]
    lines += [f"- {note}" for note in PLATFORM_NOTES[platform] + item.notes]
    if item.policy_violations:
        lines += ["Mandatory policies this live declaration breaks (`fleet up` and `pulumi up --policy-pack policies/`",
                  "refuse to adopt it until the account, or this declaration, complies):"]
        lines += [f"- {rule}: {reason}" for rule, reason in item.policy_violations]
    return "\n".join(lines)


def _name_stacks(items: list[Discovered], environment: str, platform: str, customers: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for item in items:
        base = (customers[0] if platform == "ciirus" and customers else _slug(item.name)) or f"account-{item.account_id}"
        customer = base if base not in seen else f"{base}-{_slug(item.account_id)}"
        seen.add(customer)
        item.customer, item.stack = customer, f"{customer}.{environment}"


@click.command(help="List the accounts an environment's partner credentials can see and write one customer stack "
                    "per account, declared as it is live and marked for adoption.")
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--platform", required=True, type=click.Choice(["cakemail", "signupto", "ciirus"]))
@click.option("--customer", "customers", multiple=True,
              help="Only this account (id, name, or the customer name it becomes); repeatable. For Ciirus: the "
                   "customer name of the API user's one sub-account.")
@click.option("--force", is_flag=True, help="Rewrite stacks that already exist (default: leave them and say so).")
@click.option("--dry-run", is_flag=True, help="List only; write no stack.")
@click.option("--page-size", default=50, show_default=True, type=click.IntRange(1, 100),
              help="Accounts per page when listing (Cakemail).")
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
    items = (discover_cakemail(environment, page_size) if platform == "cakemail"
             else discover_signupto(environment) if platform == "signupto" else discover_ciirus(environment))
    _name_stacks(items, env_name, platform, customers)
    login = _credentials(environment, "cakemail").get("username", "") if platform == "cakemail" else ""
    for item in items:
        item.policy_violations = mandatory_violations(item.declaration, env_name,
                                                      login.rpartition("@")[2].lower() if "@" in login else None)
    if customers and platform != "ciirus":
        wanted = set(customers)
        items = [i for i in items if wanted & {i.account_id, i.name, i.customer}]
    try:
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
    except (ProjectError, automation.EngineError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    _report(items, platform, env_name, output)


def _report(items: list[Discovered], platform: str, environment: str, output: str) -> None:
    if output == "json":
        click.echo(json.dumps({"platform": platform, "environment": environment, "limits": PLATFORM_NOTES[platform],
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
    for note in PLATFORM_NOTES[platform]:
        click.echo(f"  - {note}")
