"""The policy pack's mandatory rules applied to a declaration `discover` is about to write.

The rules are plain functions over the resources' inputs (policies/rules.py), so the declaration is
checked here the way the engine will check it at the adopting `up`, with the same environment
settings (policies/config/), without an engine run. A rule a discovered account breaks is listed,
never silently fixed: fixing it would change the live customer at adoption.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from policies import rules
from policies.settings import PackConfigError, pack_config


@dataclass
class _Resource:
    resource_type: str
    urn: str
    props: dict[str, Any]
    dependencies: list = field(default_factory=list)
    property_dependencies: dict = field(default_factory=dict)


def _resources(declaration: dict[str, Any]) -> list[_Resource]:
    platform = declaration.get("platform")
    account = _Resource(rules.SUB_ACCOUNT, "account", {"platform": platform, **(declaration.get("account") or {})})
    found = [account]
    if declaration.get("features") is not None:
        found.append(_Resource(rules.ACCOUNT_FEATURES, "features",
                               {"platform": platform, "features": declaration["features"]}, [account],
                               {"account_id": [account]}))
    for i, domain in enumerate(declaration.get("sending_domains") or []):
        found.append(_Resource(rules.SENDING_DOMAIN, f"domain-{i}", {"platform": platform, **domain}, [account],
                               {"account_id": [account]}))
    return found


def mandatory_violations(declaration: dict[str, Any], environment: Optional[str],
                         partner_login_domain: Optional[str] = None) -> list[tuple[str, str]]:
    """(rule, reason) for every mandatory rule of the environment that the declaration breaks."""
    try:
        config = pack_config(environment, set(rules.RULES))
    except PackConfigError as exc:
        return [("policy settings", str(exc))]
    where = f"environment {environment}" if environment else "no environment (defaults)"
    resources = _resources(declaration)
    by_type = {r.resource_type: r for r in resources}

    def props(resource_type: str) -> dict[str, Any]:
        return by_type[resource_type].props if resource_type in by_type else {}

    checks = {
        rules.SEND_LIMIT: lambda c: rules.daily_send_limit_needs_approval(props(rules.ACCOUNT_FEATURES), c, where)
        if rules.ACCOUNT_FEATURES in by_type else [],
        rules.TRIAL_LIMITS: lambda c: [m for m, _ in rules.trial_within_trial_limits(resources, c, where)],
        rules.OWNER_DOMAIN: lambda c: rules.owner_not_on_reseller_domain(props(rules.SUB_ACCOUNT), c,
                                                                         partner_login_domain),
        rules.SENDING_DOMAIN_REQUIRED: lambda c: [m for m, _ in rules.sending_domain_required(resources, c)],
        rules.SIGNUPTO_KEEP: lambda c: rules.signupto_keep_on_destroy(props(rules.SUB_ACCOUNT), where),
    }
    found = []
    for rule, check in checks.items():
        settings = config.get(rule) or {}
        if settings.get("enforcementLevel") == "mandatory":
            found += [(rule, message) for message in check(settings)]
    return found
