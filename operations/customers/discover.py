"""`email-partners discover`: bring the accounts that already exist on a platform under management.

Lists what the partner credentials of an environment can see and writes one customer stack per
account, declaring the live values and marked for adoption (`adopt_account_id`, `adopt_existing`),
so the first `pulumi up` takes everything over without creating anything and the next preview shows
no changes. What an API cannot show is said in the output (`notes`), never guessed.

An account another stack of the backend already manages is not written (one owner per account:
operations/ownership/), unless `include_managed` asks for it: that stack is then only adopted by
`email-partners take-over`, which moves the account from the other stack. Every run but a dry one
is recorded in the run history (what was written or skipped, and why).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from providers.handlers.base import handler_of
from providers.platforms import describe
from providers.platforms.clients import new_client
from providers.ownership import VendorObject
from providers.platforms.settings import login_domain, read_settings

from ..engine.cli import stack_names
from ..errors import OperationError
from ..history.audit import Action, Audit
from ..ownership.claims import claims
from ..ownership.index import Ownership, refreshed
from ..project.environments import Environment, load_environment
from ..project.stacks import customer_stacks, slug, stack_file
from ..project.writer import create_stack, write_declaration
from .discover_policies import mandatory_violations


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
    objects: list[VendorObject] = field(default_factory=list)  # what its adopting `up` takes over
    managed_by: list[str] = field(default_factory=list)          # the other stacks that manage them


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


def _owned_elsewhere(items: list[Discovered], ownership: Optional[Ownership], config: dict[str, str],
                     project_dir: Path) -> None:
    """Each item's objects, and the stacks other than its own that manage any of them."""
    for item in items:
        item.objects = [c.object for c in claims(item.stack, item.declaration, config, project_dir)]
        if ownership is not None:
            item.managed_by = sorted({o.stack for obj in item.objects
                                      for o in ownership.index.others_than(obj, item.stack)})


def discover_stacks(project_dir: Path, env_name: str, platform: str, customers: Sequence[str] = (),
                    force: bool = False, dry_run: bool = False, page_size: int = 50,
                    include_managed: bool = False) -> list[Discovered]:
    """Every account the environment's credentials see on `platform` (or those named), each with the
    stack it becomes and what was done (`result`): written, rewritten, skipped (and why), not written."""
    environment = load_environment(project_dir, env_name)
    environment.resolved_config(platform)
    items = discover_accounts(environment, platform, page_size)
    _name_stacks(items, env_name, platform, tuple(customers))
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
    try:
        ownership: Optional[Ownership] = refreshed(project_dir)
    except OperationError:
        if not dry_run:
            raise
        ownership = None  # a dry run without a backend: which stacks manage them is not known
    _owned_elsewhere(items, ownership, _config(environment, platform), project_dir)
    in_backend = stack_names(project_dir) if not dry_run else set()
    todo = []
    for item in items:
        exists = item.stack in in_backend or stack_file(project_dir, item.stack).exists()
        if adopted.get(item.account_id) not in (None, item.stack):
            item.result = f"skipped: already declared by stack {adopted[item.account_id]}"
        elif item.managed_by and not include_managed:
            item.result = (f"skipped: {managed_words(item)} (one owner per account; --include-managed writes it, "
                           f"and `email-partners take-over {item.stack} --from {item.managed_by[0]}` then moves it)")
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
        item.result = ("rewritten" if exists else "written") + (
            f": {managed_words(item)}; its `up` is refused until `email-partners take-over {item.stack} --from "
            f"{item.managed_by[0]}` moves it" if item.managed_by else "")

    audit = Audit("discover", project_dir)
    try:
        if todo:  # the first stack gets the secrets from the environment; the others copy them (re-encrypted)
            first, first_exists = todo[0]
            write(first, first_exists, None)
            with ThreadPoolExecutor(max_workers=2) as pool:
                for future in [pool.submit(write, item, exists, first.stack) for item, exists in todo[1:]]:
                    future.result()
    finally:
        for item in items if not dry_run else []:
            audit.add(Action(item.stack, item.result.split(":", 1)[0] or "not written", item.objects,
                             f"{platform} account {item.account_id} ({item.name!r}) in environment {env_name}: "
                             f"{item.result or 'not written (the run stopped)'}", platform=platform,
                             environment=env_name))
        audit.record()
    return items


def managed_words(item: Discovered) -> str:
    return f"managed by stack {', '.join(item.managed_by)}"
