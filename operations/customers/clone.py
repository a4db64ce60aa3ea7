"""`email-partners clone`: a customer's stack copied into another environment, made safe there.

The new stack is created by Pulumi (`stack init --copy-config-from`, so every secret is
re-encrypted for the new stack), gets the target environment's provider settings, and its
customer declaration rewritten by the environment's copy rules: owner e-mail plus-addressed or
sent to a catch-all, sending domains under the environment's prefix, limits capped, adoption
markers removed (the copy creates its own account); `suspended` is kept as it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from providers.platforms import describe, described, names

from ..engine.cli import stack_names
from ..errors import UsageError
from ..history.audit import Action, Audit
from ..project.environments import Environment, load_environment
from ..project.stacks import CUSTOMER_KEY, ProjectError, load_stack, stack_file
from ..project.writer import create_stack, write_declaration
from ..promotion.records import record_copy


@dataclass(frozen=True)
class Rewrite:
    field: str
    source: Any
    clone: Any


def rewrite_declaration(declaration: dict[str, Any], environment: Environment,
                        customer: str) -> tuple[dict[str, Any], list[Rewrite]]:
    """The declaration as it must be in `environment`, and each change made (for the user to read)."""
    rules = environment.spec.copies
    result = copy.deepcopy(declaration)
    rewrites: list[Rewrite] = []
    account = result.setdefault("account", {})

    for marker in ("adopt_account_id", "adopt_existing"):
        if marker in account:
            rewrites.append(Rewrite(f"account.{marker}", account.pop(marker), "(removed: the copy creates its own)"))

    platform = describe(result["platform"]) if result.get("platform") in names() else None
    for path in (platform.owner_email_settings if platform else ("owner.email",)):
        # Where the vendor writes to the customer (an owner's, a subuser's e-mail): never a real customer's.
        *parents, key = path.split(".")
        holder = account
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not holder.get(key) or rules.owner_email == "keep":
            continue
        old = holder[key]
        new = rules.copy_email(old, environment.name, customer)
        if new != old:
            holder[key] = new
            rewrites.append(Rewrite(f"account.{path}", old, new))

    for key in (platform.unique_account_settings if platform else ()):
        # Unique across the vendor (a SendGrid username): the copy's must differ, as an owner's e-mail does.
        old = account.get(key)
        if isinstance(old, str) and old and rules.owner_email != "keep" and not old.endswith(f"-{environment.name}"):
            account[key] = f"{old}-{environment.name}"
            rewrites.append(Rewrite(f"account.{key}", old, account[key]))

    for index, spec in enumerate(result.get("sending_domains") or []):
        if spec.pop("adopt_existing", None) is not None:
            rewrites.append(Rewrite(f"sending_domains[{index}].adopt_existing", True, "(removed)"))
        old = spec.get("domain")
        if old and rules.copy_domain(old) != old:
            spec["domain"] = rules.copy_domain(old)
            rewrites.append(Rewrite(f"sending_domains[{index}].domain", old, spec["domain"]))

    features = result.get("features") or {}
    no_limit = [v for platform in described() for v in platform.no_limit]  # -1, "unlimited": above any cap
    for name in rules.limits_cap:
        if name not in features:
            continue
        old = features[name]
        if rules.capped(name, old, no_limit) != old:
            features[name] = rules.capped(name, old, no_limit)
            rewrites.append(Rewrite(f"features.{name}", old, features[name]))
    return result, rewrites


@dataclass
class Cloned:
    """What `clone` made: the new stack, its file, each rewrite, and the environment's settings it got."""

    stack: str
    source: str
    environment: str
    file: Path
    rewrites: list[Rewrite]
    settings: list[str]   # the provider settings of the environment (config keys)
    secrets: list[str]    # those encrypted, with the variable each came from
    record: Optional[Path] = None  # the copy's base for `promote` (stacks/copies/<stack>.yaml)


def clone_stack(project_dir: Path, stack: str, target: str, new_name: Optional[str] = None,
                force: bool = False) -> Cloned:
    """Copy customer `stack` into environment `target` as `new_name` (default `<customer>.<target>`)."""
    source = load_stack(project_dir, stack)
    environment = load_environment(project_dir, target)
    if CUSTOMER_KEY not in source.config:
        raise ProjectError(f"stack {stack!r} declares no customer ({CUSTOMER_KEY}): nothing to clone")
    platform = source.platform
    credentials = environment.resolved_config(platform)
    name = new_name or f"{source.customer}.{target}"
    if name == stack:
        raise UsageError(f"the copy would be {stack!r} itself: pass --as <new-stack>")
    declaration, rewrites = rewrite_declaration(source.declaration, environment, source.customer)
    in_backend = stack_names(project_dir)
    if stack not in in_backend:
        raise UsageError(f"stack {stack!r} has a file but no state in this backend (PULUMI_BACKEND_URL): "
                         f"select the backend it lives in, or run `pulumi stack init {stack}` first")
    if (name in in_backend or stack_file(project_dir, name).exists()) and not force:
        raise UsageError(f"stack {name!r} already exists: nothing was changed. Pass --force to overwrite "
                         f"its configuration (its state is kept), or choose another name with --as")
    create_stack(project_dir, name, environment, platform, credentials, copy_config_from=stack,
                 in_backend=name in in_backend)
    path = write_declaration(
        project_dir, name, environment, platform, credentials, declaration,
        header=f"Customer {source.customer!r} in environment {target!r}: cloned from stack {stack!r} by\n"
               f"`email-partners clone` (rules of stacks/environments/{target}.yaml). Credentials are\n"
               f"encrypted by Pulumi; review the declaration, then `pulumi preview --stack {name}`.\n"
               f"Its base for `email-partners promote` is stacks/copies/{name}.yaml.")
    record = record_copy(project_dir, name, source, environment, [(r.field, r.source, r.clone) for r in rewrites])
    audit = Audit("clone", project_dir)
    audit.add(Action(name, "cloned", detail=f"from stack {stack} into environment {target} (its own new account at "
                                            f"its first `up`); rewritten: "
                                            + ("; ".join(f"{r.field} {r.source!r} -> {r.clone!r}" for r in rewrites)
                                               or "nothing"), platform=platform, environment=target))
    audit.record()
    return Cloned(stack=name, source=stack, environment=target, file=path, rewrites=rewrites,
                  settings=[e.key for e, _ in credentials],
                  secrets=[f"{e.key} (from ${e.env_var})" for e, _ in credentials if e.secret], record=record)
