"""SubAccount: a customer's account on a partner platform, one class for every platform."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, ReadResult, UpdateResult

from ..common import PlatformProvider, user_inputs

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailSubAccount",
            "signupto": f"{__name__}.signupto:SignupToSubAccount",
            "ciirus": f"{__name__}.ciirus:CiirusSubAccount"}
OUTPUT_KEYS = ("account_id", "status", "created_at", "owner_user_id", "lineage")


class SubAccountProvider(PlatformProvider):
    resource = "SubAccount"
    handlers = HANDLERS
    output_keys = OUTPUT_KEYS

    def refused_changes(self, handler, olds, model) -> list[CheckFailure]:
        if not hasattr(handler, "refuse_changes"):
            return []
        return [CheckFailure(field, reason) for field, reason in handler.refuse_changes(olds, model)]

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        account_id, outs = handler.create(handler.Inputs.model_validate(user_inputs(props, OUTPUT_KEYS)))
        return CreateResult(account_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        outs = handler.read(id_, props)
        if outs is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        return ReadResult(id_, outs, {k: outs[k] for k in handler.Inputs.model_fields if k in outs})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        return UpdateResult(handler.update(id_, olds, handler.Inputs.model_validate(user_inputs(news, OUTPUT_KEYS))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._handler(props["platform"]).delete(id_, props)


class SubAccount(pulumi.dynamic.Resource, module="partners", name="SubAccount"):
    """A customer's sub-account. `platform` selects the vendor; other inputs are typed per platform."""

    account_id: pulumi.Output[str]
    status: pulumi.Output[str]
    created_at: pulumi.Output[Optional[str]]
    owner_user_id: pulumi.Output[Optional[str]]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], name: Optional[pulumi.Input[str]] = None,
                 owner: Optional[pulumi.Input[dict]] = None, opts: Optional[pulumi.ResourceOptions] = None,
                 **settings: Any):
        props = {"platform": platform, "name": name, "owner": owner, **settings, **{k: None for k in OUTPUT_KEYS}}
        super().__init__(SubAccountProvider(), resource_name, props, opts)
