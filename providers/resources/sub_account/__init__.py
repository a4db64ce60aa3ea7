"""SubAccount: a customer's account on a partner platform, one class for every platform."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult

from ...handlers.sub_account import SubAccountState
from ..common import is_unknown, user_inputs, without_nones
from ..markers import MARKER_KEY, creation_marker
from ..provider import PlatformProvider

OUTPUT_KEYS = SubAccountState.output_keys()
# The acknowledgement that a replacement (a new, empty account) is intended. Checked, never stored:
# it belongs to the change being reviewed, not to the account.
ALLOW_REPLACE = "allow_replace"
# In every refusal of the replacement guard, so that a reader of the engine's output (`email-partners
# review`) tells it from any other failure without matching its words.
GUARD_CODE = "[replace-guard]"


def _changed_part(field: str, old: Any, new: Any) -> str:
    """`owner.email (from 'a@x' to 'b@x')`: the exact sub-field and both values."""
    old, new = without_nones(old), without_nones(new)
    if isinstance(old, dict) and isinstance(new, dict):
        parts = [f"{field}.{k} (from {old.get(k)!r} to {new.get(k)!r})" for k in sorted(set(old) | set(new))
                 if old.get(k) != new.get(k)]
        if parts:
            return ", ".join(parts)
    return f"{field} (from {old!r} to {new!r})"


def replacement_refusals(olds: dict[str, Any], news: dict[str, Any], replace_fields,
                         customer: Optional[str] = None) -> list[CheckFailure]:
    """Each replace-forcing field that changed on an existing account, refused with the customer's name,
    what a replacement destroys, and the line that acknowledges it."""
    changed = [f for f in sorted(replace_fields)
               if f in olds and not is_unknown(news.get(f)) and without_nones(olds.get(f)) != without_nones(news.get(f))]
    customer = customer or "(unnamed)"
    return [CheckFailure(field, (
        f"changing {_changed_part(field, olds.get(field), news.get(field))} replaces the {olds.get('platform')} "
        f"sub-account of customer {customer!r} {GUARD_CODE}: the account is deleted with "
        f"all its contacts and campaigns and a new, empty one is created; its features and sending domains are "
        f"replaced too (new DNS records to publish). To do this on purpose, add `{ALLOW_REPLACE}: true` under "
        f"`account` in the customer's stack file and run again; otherwise put {field} back."))
        for field in changed]


class SubAccountProvider(PlatformProvider):
    resource = "SubAccount"
    output_keys = OUTPUT_KEYS

    def check_inputs(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = dict(news)
        allow = news.pop(ALLOW_REPLACE, None)
        result = super().check_inputs(olds, news)
        failures = list(result.failures)
        if allow is not None and not is_unknown(allow) and not isinstance(allow, bool):
            failures.append(CheckFailure(ALLOW_REPLACE, f"must be true or false (got {allow!r})"))
        elif not failures and allow is not True:
            handler = self.handler_class(result.inputs.get("platform"))
            old_inputs = user_inputs(olds, OUTPUT_KEYS)
            if handler is not None and old_inputs:
                failures += replacement_refusals(old_inputs, result.inputs, handler.replace_fields,
                                                 handler.customer_name(self.recorded(handler, old_inputs)))
        return CheckResult(result.inputs, failures)


class SubAccount(pulumi.dynamic.Resource, module="partners", name="SubAccount"):
    """A customer's sub-account. `platform` selects the vendor; other inputs are typed per platform.

    The class adds a `creation_marker` input (see markers.py): the create stores it with the
    account where the vendor allows, so an interrupted `up` never leads to a second one."""

    account_id: pulumi.Output[str]
    status: pulumi.Output[str]
    created_at: pulumi.Output[Optional[str]]
    owner_user_id: pulumi.Output[Optional[str]]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], name: Optional[pulumi.Input[str]] = None,
                 owner: Optional[pulumi.Input[dict]] = None, opts: Optional[pulumi.ResourceOptions] = None,
                 **settings: Any):
        props = sub_account_props(pulumi.get_project(), pulumi.get_stack(), resource_name,
                                  platform=platform, name=name, owner=owner, **settings)
        super().__init__(SubAccountProvider(), resource_name, props, opts)


def sub_account_props(project: str, stack: str, resource_name: str, **declared: Any) -> dict[str, Any]:
    """What a SubAccount hands the engine: the declared settings, its creation marker and the
    output placeholders (also what `fleet drift` checks a declaration with, outside any program)."""
    marker = creation_marker(project, stack, "partners:SubAccount", resource_name)
    return {"name": None, "owner": None, **declared, MARKER_KEY: marker, **{k: None for k in OUTPUT_KEYS}}
