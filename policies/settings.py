"""Which environment a preview is for, and the rules' settings for it.

The engine starts the pack once per preview with the stack's name (PULUMI_STACK) and its config
(PULUMI_CONFIG, JSON). The environment is `email-partners:environment` when the stack file says it,
else the suffix of a stack named `<customer>.<environment>` (providers/naming.py); a stack
with neither gets the defaults only.

Settings are files in the format of Pulumi's `--policy-pack-config` (`{"rule": "mandatory"}` or
`{"rule": {"enforcementLevel": ..., "<property>": ...}}`): `config/default.json`, then
`config/<environment>.json` over it (rule by rule, property by property). They reach the engine as
the pack's initial configuration, so a `--policy-pack-config FILE` still overrides them, and the
engine checks every property against the rule's schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from providers.naming import CUSTOMER_KEY, ENVIRONMENT_KEY, split_stack_name
from providers.ownership import TAKE_OVER_VARIABLE, OwnershipIndex, index_here, login_of
from providers.platforms import described
from providers.platforms.settings import login_domain, login_setting

CONFIG_DIR = Path(__file__).resolve().parent / "config"
LEVELS = ("advisory", "mandatory", "disabled")
_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class PackConfigError(Exception):
    """A settings file the pack cannot use, named with the reason."""


@dataclass(frozen=True)
class PackContext:
    """What the rules know about the stack beyond its resources."""

    stack: str
    environment: Optional[str]
    partner_login_domain: Optional[str]
    partner_login_key: Optional[str] = None  # the setting it comes from: cakemail:username
    # One owner per account: the index the tool wrote for this backend, the take-over under way, the stack's login.
    ownership_index: Optional[OwnershipIndex] = field(default=None, compare=False)
    taking_over_from: Optional[str] = None
    login: Optional[str] = None

    @property
    def environment_label(self) -> str:
        return f"environment {self.environment}" if self.environment else "no environment (defaults)"


def stack_context(env: Mapping[str, str]) -> PackContext:
    """The context from the variables the engine gives a policy pack it starts."""
    stack = env.get("PULUMI_STACK", "")
    try:
        config = json.loads(env.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        config = {}
    environment = config.get(ENVIRONMENT_KEY) or (split_stack_name(stack)[1] if stack else None)
    # A partner who logs in with an e-mail address (Cakemail) does so on the reseller's own domain.
    logins = [(login_setting(p).config_key, login_domain(p, config, env)) for p in described()]
    key, domain = next(((key, domain) for key, domain in logins if domain), (None, None))
    platform = _declared_platform(config.get(CUSTOMER_KEY))
    return PackContext(stack=stack, environment=environment or None, partner_login_domain=domain,
                       partner_login_key=key, ownership_index=index_here(env, CONFIG_DIR.parent.parent),
                       taking_over_from=env.get(TAKE_OVER_VARIABLE) or None,
                       login=login_of(platform, config, env) if platform else None)


def _declared_platform(customer: Any) -> Optional[str]:
    """The customer's platform from the config the engine hands the pack (an object, or its JSON text)."""
    if isinstance(customer, str):
        try:
            customer = json.loads(customer)
        except ValueError:
            return None
    platform = customer.get("platform") if isinstance(customer, dict) else None
    return platform if isinstance(platform, str) else None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise PackConfigError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"{path}: expected an object of rule name -> level or settings")
    return data


def _normalised(path: Path, rule: str, value: Any) -> dict[str, Any]:
    entry = {"enforcementLevel": value} if isinstance(value, str) else value
    if not isinstance(entry, dict):
        raise PackConfigError(f"{path}: {rule}: expected a level ({', '.join(LEVELS)}) or an object")
    level = entry.get("enforcementLevel")
    if level is not None and level not in LEVELS:
        raise PackConfigError(f"{path}: {rule}.enforcementLevel: {level!r} is not one of {', '.join(LEVELS)}")
    return dict(entry)


def pack_config(environment: Optional[str], rules: set[str], config_dir: Path = CONFIG_DIR) -> dict[str, dict]:
    """{rule: {"enforcementLevel": ..., property: value}}: the defaults, then the environment's file."""
    files = [config_dir / "default.json"]
    if not files[0].exists():
        raise PackConfigError(f"{files[0]}: missing; it holds every rule's level and settings")
    if environment:
        if not _ENVIRONMENT_NAME.fullmatch(environment):
            raise PackConfigError(f"environment {environment!r}: only letters, digits, '-' and '_' are allowed")
        files.append(config_dir / f"{environment}.json")  # none: the defaults apply
    merged: dict[str, dict] = {}
    for path in filter(Path.exists, files):
        for rule, value in _read(path).items():
            if rule not in rules:
                raise PackConfigError(f"{path}: unknown rule {rule!r} (rules: {', '.join(sorted(rules))})")
            merged.setdefault(rule, {}).update(_normalised(path, rule, value))
    return merged
