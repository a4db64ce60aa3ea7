"""The rules: what reviewers of a customer change check by hand, as CrossGuard policies.

Each check is a plain function over the resources' inputs (what stacks/customer.py passes), so
it is unit-tested without an engine; `policies(context)` wraps them for pulumi_policy. Levels and
settings come from config/ (see settings.py), never from here.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from providers.ownership import OwnershipIndex, claimed_objects, refusal
from providers.platforms import describe, names, offering
from providers.resources.catalog import TYPE_PREFIX, type_token

SUB_ACCOUNT = type_token("SubAccount")
ACCOUNT_FEATURES = type_token("AccountFeatures")
SENDING_DOMAIN = type_token("SendingDomain")

SEND_LIMIT = "daily-send-limit-needs-approval"
TRIAL_LIMITS = "trial-within-trial-limits"
OWNER_DOMAIN = "owner-not-on-reseller-domain"
SENDING_DOMAIN_REQUIRED = "sending-domain-required"
SIGNUPTO_KEEP = "signupto-keep-on-destroy"
ONE_OWNER = "one-owner-per-account"
RULES = (SEND_LIMIT, TRIAL_LIMITS, OWNER_DOMAIN, SENDING_DOMAIN_REQUIRED, SIGNUPTO_KEEP, ONE_OWNER)

# A Cakemail limit of -1 means "no limit": above any trial maximum.
UNLIMITED = -1


class Resource(Protocol):
    """The part of pulumi_policy's PolicyResource the stack rules use."""

    resource_type: str
    urn: str
    props: Mapping[str, Any]
    dependencies: list
    property_dependencies: Mapping[str, list]


Violation = tuple[str, Optional[str]]  # (message, urn or None for the resource under analysis)


def _number(value: Any) -> str:
    """The engine carries numbers as floats: 2000.0 reads better as 2000."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def sentence(message: str) -> str:
    """Every message the engine prints ends with exactly one full stop."""
    return message.rstrip().rstrip(".") + "."


# --- resource rules ----------------------------------------------------------------------------

def daily_send_limit_needs_approval(props: Mapping[str, Any], config: Mapping[str, Any], where: str) -> list[str]:
    """Ciirus: a daily send limit above the threshold is for approved accounts only."""
    if props.get("platform") != "ciirus":
        return []
    features = props.get("features") or {}
    limit, threshold = features.get("daily_send_limit"), config["threshold"]
    if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit <= threshold:
        return []
    if features.get("approved") is True:
        return []
    state = "declared false" if features.get("approved") is False else "not declared"
    return [f"features.daily_send_limit is {_number(limit)}, above {_number(threshold)} (the most for an account "
            f"that is not approved, {where}), and features.approved is {state}: declare `approved: true` once the "
            f"account is approved, or lower the limit"]


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().rstrip(".").lower()


def _on_domain(domain: str, reseller_domain: str) -> bool:
    reseller_domain = reseller_domain.strip().rstrip(".").lower()
    return bool(reseller_domain) and (domain == reseller_domain or domain.endswith("." + reseller_domain))


def owner_not_on_reseller_domain(props: Mapping[str, Any], config: Mapping[str, Any],
                                 partner_login_domain: Optional[str],
                                 partner_login_key: Optional[str] = "cakemail:username") -> list[str]:
    """The owner is the customer's person: an address of the reseller's own is a placeholder or a mistake.
    Where the platform mails the customer is its description's `owner_email_settings` (a SendGrid
    subuser's `email`)."""
    platform = props.get("platform")
    paths = describe(platform).owner_email_settings if platform in names() else ("owner.email",)
    return [problem for path in paths for problem in _owner_problems(props, path, config, partner_login_domain,
                                                                         partner_login_key)]


def _owner_problems(props: Mapping[str, Any], path: str, config: Mapping[str, Any],
                    partner_login_domain: Optional[str], partner_login_key: Optional[str]) -> list[str]:
    email: Any = props
    for part in path.split("."):
        email = email.get(part) if isinstance(email, Mapping) else None
    if not isinstance(email, str) or "@" not in email:
        return []
    domains = list(config.get("reseller_domains") or [])
    if config.get("include_partner_login_domain") and partner_login_domain:
        domains.append(partner_login_domain)
    domain = _domain_of(email)
    matched = next((d for d in domains if _on_domain(domain, d)), None)
    if matched is None:
        return []
    origin = (f"the domain of the partner login {partner_login_key}" if matched == partner_login_domain
              and matched not in (config.get("reseller_domains") or []) else "a reseller domain in reseller_domains")
    return [f"account.{path} {email} is on {matched}, {origin}: the owner must be the customer's own "
            f"address (the platform sends it the account's mail and password resets)"]


def signupto_keep_on_destroy(props: Mapping[str, Any], where: str) -> list[str]:
    """A platform whose API cannot delete accounts (Sign-Up.to's): a customer retired with `refuse`
    blocks its stack's destroy. (The rule's name is the one its settings files know it by.)"""
    platform = props.get("platform")
    if platform not in names() or describe(platform).deletes_accounts:
        return []
    on_destroy = props.get("on_destroy") or "refuse"
    if on_destroy == "keep":
        return []
    return [f"account.on_destroy is {on_destroy!r}, not 'keep' ({where}): {describe(platform).title}'s API cannot "
            f"delete an account, so declare `on_destroy: keep` (destroy then removes it from the stack and leaves "
            f"the account and its data in place)"]


# --- stack rules -------------------------------------------------------------------------------

def _accounts_of(resource: Resource, accounts: Mapping[str, Resource]) -> list[Resource]:
    """The SubAccount(s) a features or domain resource belongs to: the one its `account_id` comes from."""
    linked = [d for d in (resource.property_dependencies or {}).get("account_id", []) if d.urn in accounts]
    if not linked:
        linked = [d for d in resource.dependencies or [] if d.urn in accounts]
    if not linked and len(accounts) == 1:  # a stack is one customer: the only account is the one
        linked = list(accounts.values())
    return linked


def trial_within_trial_limits(resources: Iterable[Resource], config: Mapping[str, Any],
                              where: str) -> list[Violation]:
    """A Cakemail trial account (SubAccount `trial: true`) may not declare limits above the trial's."""
    resources = list(resources)
    accounts = {r.urn: r for r in resources if r.resource_type == SUB_ACCOUNT}
    maxima: Mapping[str, Any] = config.get("limits") or {}
    violations: list[Violation] = []
    for features in (r for r in resources if r.resource_type == ACCOUNT_FEATURES):
        if features.props.get("platform") != "cakemail":
            continue
        if not any(a.props.get("trial") is True for a in _accounts_of(features, accounts)):
            continue
        declared = features.props.get("features") or {}
        over = []
        for name, maximum in maxima.items():
            value = declared.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if value == UNLIMITED or value > maximum:
                shown = "unlimited (-1)" if value == UNLIMITED else _number(value)
                over.append(f"features.{name} is {shown} (trial maximum {_number(maximum)})")
        if over:
            violations.append((f"a trial account (account.trial: true) exceeds the trial limits of {where}: "
                               f"{'; '.join(over)}. Lower them, or end the trial with `trial: false`",
                               features.urn))
    return violations


def sending_domain_required(resources: Iterable[Resource], config: Mapping[str, Any]) -> list[Violation]:
    """Every customer on a platform with sending domains has at least one (mail otherwise fails DKIM/DMARC)."""
    resources = list(resources)
    platforms = set(config.get("platforms") or [])
    accounts = {r.urn: r for r in resources if r.resource_type == SUB_ACCOUNT}
    with_domain = {a.urn for r in resources if r.resource_type == SENDING_DOMAIN for a in _accounts_of(r, accounts)}
    return [(f"this {a.props.get('platform')} customer has no sending domain: declare one under "
             f"sending_domains (its mail is otherwise sent unauthenticated from a shared domain)", a.urn)
            for a in accounts.values() if a.props.get("platform") in platforms and a.urn not in with_domain]


def one_owner_per_account(resources: Iterable[Resource], index: Optional[OwnershipIndex], stack: str,
                          taking_over_from: Optional[str] = None, login: Optional[str] = None) -> list[Violation]:
    """A declaration that would take over a vendor object another stack of the backend manages, as the
    ownership index `email-partners` last wrote says (none: nothing to check against). An object this
    stack already records is its own: two stacks recording one object is the tool's `owners` business."""
    if index is None:
        return []
    resources = list(resources)
    accounts = {r.urn: r for r in resources if r.resource_type == SUB_ACCOUNT}
    violations: list[Violation] = []
    for resource in resources:
        if not resource.resource_type.startswith(TYPE_PREFIX):
            continue
        kind = resource.resource_type[len(TYPE_PREFIX):]
        own = accounts.get(resource.urn) or next(iter(_accounts_of(resource, accounts)), None)
        adopted = (own.props.get("adopt_account_id") if own is not None else None)
        for obj in claimed_objects(resource.props.get("platform"), kind, resource.props, adopted, login):
            if stack in {o.stack for o in index.owners_of(obj)}:
                continue
            others = index.others_than(obj, stack, taking_over_from)
            if others:
                violations.append((refusal(obj, others, index, stack), resource.urn))
    return violations


# --- pulumi_policy wrappers ------------------------------------------------------------------

def policies(context) -> list:
    """The pack's policies for one stack; `context` is a settings.PackContext."""
    from pulumi_policy import PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy

    where = context.environment_label

    def on(resource_type: str, check: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]):
        def validate(args, report_violation):
            if args.resource_type == resource_type:
                for message in check(args.props, args.get_config()):
                    report_violation(sentence(message))
        return validate

    def stack(check: Callable[[list, Mapping[str, Any]], list[Violation]]):
        def validate(args, report_violation):
            for message, urn in check(args.resources, args.get_config()):
                report_violation(sentence(message), urn)
        return validate

    def schema(required: Iterable[str] = (), **properties: dict) -> PolicyConfigSchema:
        return PolicyConfigSchema(properties=properties, required=list(required))

    domains = {"type": "array", "items": {"type": "string"}}
    return [
        ResourceValidationPolicy(
            name=SEND_LIMIT,
            description="A Ciirus daily send limit above the threshold needs `approved: true`.",
            validate=on(ACCOUNT_FEATURES, lambda props, config: daily_send_limit_needs_approval(props, config, where)),
            config_schema=schema(["threshold"], threshold={"type": "integer", "minimum": 0})),
        StackValidationPolicy(
            name=TRIAL_LIMITS,
            description="A Cakemail trial account declares no limit above the trial limits.",
            validate=stack(lambda resources, config: trial_within_trial_limits(resources, config, where)),
            config_schema=schema(["limits"], limits={"type": "object",
                                                     "additionalProperties": {"type": "integer", "minimum": 0}})),
        ResourceValidationPolicy(
            name=OWNER_DOMAIN,
            description="An account owner's e-mail is not on the reseller's own domain.",
            validate=on(SUB_ACCOUNT, lambda props, config: owner_not_on_reseller_domain(
                props, config, context.partner_login_domain, context.partner_login_key)),
            config_schema=schema(["reseller_domains"], reseller_domains=domains,
                                 include_partner_login_domain={"type": "boolean"})),
        StackValidationPolicy(
            name=SENDING_DOMAIN_REQUIRED,
            description="Every customer on a platform with sending domains has one.",
            validate=stack(sending_domain_required),
            config_schema=schema(["platforms"], platforms={"type": "array",
                                                           "items": {"enum": list(offering("SendingDomain"))}})),
        StackValidationPolicy(
            name=ONE_OWNER,
            description="A declaration takes over no vendor object another stack of the backend manages (as the "
                        "ownership index email-partners writes says).",
            validate=stack(lambda resources, _config: one_owner_per_account(
                resources, context.ownership_index, context.stack, context.taking_over_from, context.login))),
        ResourceValidationPolicy(
            name=SIGNUPTO_KEEP,
            description="An account on a platform whose API cannot delete accounts (Sign-Up.to) declares "
                        "`on_destroy: keep`.",
            validate=on(SUB_ACCOUNT, lambda props, _config: signupto_keep_on_destroy(props, where))),
    ]

