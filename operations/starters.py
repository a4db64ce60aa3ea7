"""The starter declaration `email-partners new` writes: every setting the platform supports.

The list of settings is not written by hand: it is read from the input models of the platform's
handlers (SubAccount, AccountFeatures, SendingDomain), so a setting added to a handler appears in
the next starter by itself (tests/unit/test_starters.py holds the two together). A few settings get
an active example value (EXAMPLES: what a new customer usually needs); every other optional
setting is written commented out, with its default or an example value and what it accepts.
"""

from __future__ import annotations

import typing
from typing import Any, Optional

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from providers.resources.account_features import HANDLERS as FEATURE_HANDLERS
from providers.resources.common import handler_class
from providers.resources.sending_domain import HANDLERS as DOMAIN_HANDLERS
from providers.resources.sub_account import HANDLERS as ACCOUNT_HANDLERS

# Inputs that the program or the resource sets itself: never declared by a user.
NOT_DECLARED = {"platform", "account_id", "creation_marker"}
# Ciirus: `initial` is derived from `features` and the one sending domain (stacks/customer.py).
DERIVED = {"ciirus": {"initial"}}

# Active lines of the starter, per platform and section: the values to replace first.
EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "cakemail": {
        "account": {"name": "{title}", "owner.email": "owner@{customer}.example", "owner.first_name": "First",
                    "owner.last_name": "Last", "owner.language": "en_US", "owner.timezone": "America/Montreal"},
        "features": {"per_month": 10000, "maximum_contacts": 5000},
        "sending_domains": {"domain": "news.{customer}.example"},
    },
    "signupto": {
        "account": {"name": "{title}", "owner.email": "owner@{customer}.example", "owner.timezone": "Europe/London",
                    "country": "GB", "on_destroy": "refuse"},
        "features": {"enableemail": True, "enablesendbulkemail": True, "list_limit": 200, "subscriber_limit": 10000},
    },
    "ciirus": {
        "account": {"adopt_existing": False},
        "features": {"daily_send_limit": 1000, "approved": False},
        "sending_domains": {"domain": "mail.{customer}.example"},
    },
}

# What a setting means, where its type does not say it (shown after the value).
HINTS = {
    "name": "the account's name, changeable later",
    "owner": "the account's owner user",
    "adopt_account_id": "take over this existing account instead of creating one (see `email-partners discover`)",
    "adopt_existing": "take over what already exists instead of refusing (see README)",
    "on_destroy": "keep: `destroy` removes it from the stack and leaves it on Sign-Up.to",
    "selector": "default: derived from the account and domain",
    "verification_timeout_seconds": "wait at `up` until the DNS records validate",
    "country": "ISO 3166 alpha-2",
}
# Program options (stacks/customer.py), not inputs of a handler: on `account`, and on each sending
# domain entry (listed once, whether or not a handler also takes it).
ACCOUNT_OPTIONS = [
    ("protect", True, "false only to retire the customer on purpose (README: Retiring a customer)"),
    ("allow_replace", True, "acknowledges one change that replaces (deletes) the account; remove it after the up"),
]
DOMAIN_OPTIONS = [("verification_timeout_seconds", 600, "wait at `up` until the DNS records validate")]


def _inputs(handlers: dict[str, str], platform: str) -> Optional[type[BaseModel]]:
    location = handlers.get(platform)
    return handler_class(location).Inputs if location else None


def _model_of(annotation: Any) -> Optional[type[BaseModel]]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _unwrapped(annotation: Any) -> tuple[list[Any], list[Any]]:
    """(the types a value may have, their constraints), through Optional and Annotated."""
    types, constraints = [], []
    for arg in [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]:
        if typing.get_origin(arg) is typing.Annotated:
            base, *extra = typing.get_args(arg)
            types.append(base)
            constraints += extra
        else:
            types.append(arg)
    return types, constraints


def _accepts(field: FieldInfo) -> str:
    """What a value may be, in words, from the field's type and constraints."""
    import enum

    types, constraints = _unwrapped(field.annotation)
    constraints += field.metadata
    literals = [v for t in types if typing.get_origin(t) is typing.Literal for v in typing.get_args(t)]
    if literals:
        return " | ".join(str(v) for v in literals)
    if bool in types:
        return "true | false"
    if int in types:
        bounds = [f"{word} {getattr(c, attr)}" for c in constraints for attr, word in (("ge", ">="), ("le", "<="))
                  if getattr(c, attr, None) is not None]
        return "a whole number" + (f" {' and '.join(bounds)}" if bounds else "")
    if typing.Any in types:  # the Sign-Up.to limits whose "no limit" the API writes as null
        return 'a whole number or "unlimited"'
    members = [m.value for t in types if isinstance(t, type) and issubclass(t, enum.Enum) for m in t]
    return " | ".join(str(m) for m in members)


def _example(field: FieldInfo) -> Any:
    if field.default is not None and not field.is_required() and not callable(field.default):
        return getattr(field.default, "value", field.default)
    accepts = _accepts(field)
    if accepts == "true | false":
        return True
    if accepts.startswith("a whole number"):
        return 1 if ">= 1" in accepts else -1 if ">= -1" in accepts else 0
    if " | " in accepts:
        return accepts.split(" | ")[0]
    return "..."


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value in ("", "...") or value[0] in "{[*&!%@"):
        return f'"{value}"'  # YAML would read these as something else than text
    return str(value)


def _lines(model: type[BaseModel], examples: dict[str, Any], indent: int, skip: set[str], prefix: str = "") -> list[str]:
    """One line per setting of `model` (nested models as blocks): active when it has an example or is
    required, commented out otherwise."""
    pad, out = " " * indent, []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        key, nested = prefix + name, _model_of(field.annotation)
        hint = HINTS.get(name) or ("" if nested else _accepts(field))
        comment = f"  # {hint}" if hint else ""
        if nested is not None:
            active = any(k.startswith(key + ".") for k in examples) or field.is_required()
            out.append(f"{pad}{'' if active else '# '}{name}:{comment}")
            inner = _lines(nested, examples, indent + 2, set(), key + ".")
            out += inner if active else [f"{pad}# {line.strip()}" if not line.strip().startswith("#") else
                                         f"{pad}{line.strip()}" for line in inner]
        elif key in examples:
            out.append(f"{pad}{name}: {_scalar(examples[key])}{comment}")
        elif field.is_required():
            out.append(f"{pad}{name}: {_scalar(_example(field))}{comment}  # required")
        else:
            out.append(f"{pad}# {name}: {_scalar(_example(field))}{comment}")
    return out


def starter(platform: str, customer: str, title: str) -> str:
    """The commented `email-partners:customer` block for a new customer, indented under `config:`."""
    examples = EXAMPLES[platform]
    account = _inputs(ACCOUNT_HANDLERS, platform)
    features = _model_of(_inputs(FEATURE_HANDLERS, platform).model_fields["features"].annotation)
    domain = _inputs(DOMAIN_HANDLERS, platform)
    lines = ["  # The customer: replace the example values. Lines starting with `# ` are optional settings",
             "  # (uncomment to manage them). Checked at `pulumi preview`; see README.",
             "  email-partners:customer:", f"    platform: {platform}"]
    account_lines = _lines(account, examples["account"], 6, NOT_DECLARED | DERIVED.get(platform, set()))
    account_lines += [f"      # {name}: {_scalar(value)}  # {hint}" for name, value, hint in ACCOUNT_OPTIONS]
    lines += ["    account:" + ("" if any(not l.strip().startswith("#") for l in account_lines) else " {}")]
    lines += account_lines
    lines += ["    features:  # only the settings listed here are managed; the others stay as the platform has them"]
    lines += _lines(features, examples["features"], 6, set())
    if domain is None:
        lines += [f"    # (no sending_domains: {platform} offers none)"]
    else:
        count = "exactly one" if platform == "ciirus" else "one entry per domain"
        lines += [f"    sending_domains:  # {count}; its DNS records are the stack output dns_records"]
        entry = _lines(domain, examples["sending_domains"], 8, NOT_DECLARED)
        entry += [f"        # {name}: {_scalar(value)}  # {hint}" for name, value, hint in DOMAIN_OPTIONS
                  if name not in domain.model_fields]
        first = next(i for i, line in enumerate(entry) if line.strip().startswith("domain:"))
        entry.insert(0, entry.pop(first))
        entry[0] = "      - " + entry[0].strip()
        lines += entry
    return "\n".join(lines).replace("{customer}", customer).replace("{title}", title) + "\n"
