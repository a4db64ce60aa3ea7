"""The starter declaration `email-partners new` writes: every setting the platform supports.

The list of settings is not written by hand: it is read from the Args models of the platform's
handlers (SubAccount, AccountFeatures, SendingDomain), so a setting added to a handler appears in
the next starter by itself, with what its Field's description says of it (tests/unit/test_starters.py
holds the two together). A few settings get an active example value (the platform description's
`starter`: what a new customer usually needs); every other optional setting is written commented
out, with its default or an example value and what it accepts.
"""

from __future__ import annotations

import typing
from typing import Any, Optional

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from providers.handlers.base import handler_of
from providers.platforms import describe

# Inputs that the program or the resource sets itself: never declared by a user.
NOT_DECLARED = {"platform", "account_id", "creation_marker"}

# Program options (stacks/customer.py), not inputs of a handler: on `account`, and on each sending
# domain entry (listed once, whether or not a handler also takes it).
ACCOUNT_OPTIONS = [
    ("protect", True, "false only to retire the customer on purpose (README: Retiring a customer)"),
    ("allow_replace", True, "acknowledges one change that replaces (deletes) the account; remove it after the up"),
]
DOMAIN_OPTIONS = [("verification_timeout_seconds", 600, "wait at `up` until the DNS records validate")]


def derived(platform: str) -> set[str]:
    """The account settings the program derives for this platform (never declared)."""
    return {d.name for d in describe(platform).derived_account_settings}


def _args(platform: str, resource: str) -> Optional[type[BaseModel]]:
    handler = handler_of(platform, resource)
    return handler.Args if handler is not None else None


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
        hint = field.description or ("" if nested else _accepts(field))
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
    described = describe(platform)
    examples = described.starter
    account = _args(platform, "SubAccount")
    features = _model_of(_args(platform, "AccountFeatures").model_fields["features"].annotation)
    domain = _args(platform, "SendingDomain")
    lines = ["  # The customer: replace the example values. Lines starting with `# ` are optional settings",
             "  # (uncomment to manage them). Checked at `pulumi preview`; see README.",
             "  email-partners:customer:", f"    platform: {platform}"]
    account_lines = _lines(account, examples.account, 6, NOT_DECLARED | derived(platform))
    account_lines += [f"      # {name}: {_scalar(value)}  # {hint}" for name, value, hint in ACCOUNT_OPTIONS]
    lines += ["    account:" + ("" if any(not l.strip().startswith("#") for l in account_lines) else " {}")]
    lines += account_lines
    lines += ["    features:  # only the settings listed here are managed; the others stay as the platform has them"]
    lines += _lines(features, examples.features, 6, set())
    if domain is None:
        lines += [f"    # (no sending_domains: {platform} offers none)"]
    else:
        count = "exactly one" if described.one_sending_domain else "one entry per domain"
        lines += [f"    sending_domains:  # {count}; its DNS records are the stack output dns_records"]
        entry = _lines(domain, examples.sending_domain, 8, NOT_DECLARED)
        entry += [f"        # {name}: {_scalar(value)}  # {hint}" for name, value, hint in DOMAIN_OPTIONS
                  if name not in domain.model_fields]
        first = next(i for i, line in enumerate(entry) if line.strip().startswith("domain:"))
        entry.insert(0, entry.pop(first))
        entry[0] = "      - " + entry[0].strip()
        lines += entry
    return "\n".join(lines).replace("{customer}", customer).replace("{title}", title) + "\n"
