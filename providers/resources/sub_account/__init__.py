"""SubAccount: a customer's account on a partner platform, one class for every platform."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from ..common import MARKER_KEY, PlatformProvider, creation_marker, is_unknown, user_inputs, without_nones

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailSubAccount",
            "signupto": f"{__name__}.signupto:SignupToSubAccount",
            "ciirus": f"{__name__}.ciirus:CiirusSubAccount"}
OUTPUT_KEYS = ("account_id", "status", "created_at", "owner_user_id", "lineage")
# The acknowledgement that a replacement (a new, empty account) is intended. Checked, never stored:
# it belongs to the change being reviewed, not to the account.
ALLOW_REPLACE = "allow_replace"


def _changed_part(field: str, old: Any, new: Any) -> str:
    """`owner.email (from 'a@x' to 'b@x')`: the exact sub-field and both values."""
    old, new = without_nones(old), without_nones(new)
    if isinstance(old, dict) and isinstance(new, dict):
        parts = [f"{field}.{k} (from {old.get(k)!r} to {new.get(k)!r})" for k in sorted(set(old) | set(new))
                 if old.get(k) != new.get(k)]
        if parts:
            return ", ".join(parts)
    return f"{field} (from {old!r} to {new!r})"


def replacement_refusals(olds: dict[str, Any], news: dict[str, Any], replace_fields) -> list[CheckFailure]:
    """Each replace-forcing field that changed on an existing account, refused with the customer's name,
    what a replacement destroys, and the line that acknowledges it."""
    changed = [f for f in sorted(replace_fields)
               if f in olds and not is_unknown(news.get(f)) and without_nones(olds.get(f)) != without_nones(news.get(f))]
    customer = olds.get("name") or (olds.get("initial") or {}).get("sending_domain") or "(unnamed)"
    return [CheckFailure(field, (
        f"changing {_changed_part(field, olds.get(field), news.get(field))} replaces the {olds.get('platform')} "
        f"sub-account of customer {customer!r}: the account is deleted with "
        f"all its contacts and campaigns and a new, empty one is created; its features and sending domains are "
        f"replaced too (new DNS records to publish). To do this on purpose, add `{ALLOW_REPLACE}: true` under "
        f"`account` in the customer's stack file and run again; otherwise put {field} back."))
        for field in changed]


class SubAccountProvider(PlatformProvider):
    resource = "SubAccount"
    handlers = HANDLERS
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
                failures += replacement_refusals(old_inputs, result.inputs, handler.replace_fields)
        return CheckResult(result.inputs, failures)

    def refused_changes(self, handler, olds, model) -> list[CheckFailure]:
        if not hasattr(handler, "refuse_changes"):
            return []
        return [CheckFailure(field, reason) for field, reason in handler.refuse_changes(olds, model)]

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(props, OUTPUT_KEYS))
        account_id, outs = handler.create(inputs, props.get(MARKER_KEY))
        return CreateResult(account_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        outs = handler.read(id_, props)
        if outs is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        inputs = {k: outs[k] for k in handler.Inputs.model_fields if k in outs}
        if props.get(MARKER_KEY) is not None:  # the class's own input: a refresh must not drop it (no drift)
            inputs[MARKER_KEY] = props[MARKER_KEY]
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        return UpdateResult(handler.update(id_, olds, handler.Inputs.model_validate(user_inputs(news, OUTPUT_KEYS))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._handler(props["platform"]).delete(id_, props)


class SubAccount(pulumi.dynamic.Resource, module="partners", name="SubAccount"):
    """A customer's sub-account. `platform` selects the vendor; other inputs are typed per platform.

    The class adds a `creation_marker` input (see common.creation_marker): the create stores it
    with the account where the vendor allows, so an interrupted `up` never leads to a second one."""

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
