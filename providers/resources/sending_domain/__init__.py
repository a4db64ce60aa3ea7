"""SendingDomain: a customer's sending domain and the DNS records that must be published for it.

The create records the domain and its `records` (name, type, full value, purpose, validated) in
state at once and never waits, so `pulumi stack output dns_records` and `email-partners dns` show
them before anything is verified, and a program can publish them with a DNS provider. Waiting for
the platform to see them is DomainVerification's job (see there). `verified` says whether every
record validates as last read.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from ..common import PlatformProvider, user_inputs

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailSendingDomain",
            "ciirus": f"{__name__}.ciirus:CiirusSendingDomain"}
OUTPUT_KEYS = ("records", "verified", "dkim_key_id", "dkim_selector")
# The wait moved to DomainVerification; state written before that still holds this input (ignored).
MOVED = "verification_timeout_seconds"


class SendingDomainProvider(PlatformProvider):
    resource = "SendingDomain"
    handlers = HANDLERS
    output_keys = OUTPUT_KEYS

    def delete_first(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        # One DKIM key per domain and account: a new key for the same domain needs the old one gone first.
        return olds.get("account_id") == news.get("account_id") and olds.get("domain") == news.get("domain")

    def check_inputs(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = dict(news)
        moved = news.pop(MOVED, None)
        result = super().check_inputs(olds, news)
        if moved is not None:
            return CheckResult(result.inputs, [*result.failures, CheckFailure(MOVED, (
                "SendingDomain no longer waits: declare DomainVerification(domain=..., sending_domain_id=..., "
                "timeout_seconds=...) after it (a customer's sending_domains entry keeps "
                "verification_timeout_seconds and does this for you)"))])
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(props, (*OUTPUT_KEYS, MOVED)))
        id_, state = handler.create(inputs)
        return CreateResult(id_, self._finish(state))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        state = handler.read(id_, props)
        if state is None:
            return ReadResult(None, {})
        outs = self._finish(state)
        return ReadResult(id_, outs, {k: outs[k] for k in handler.Inputs.model_fields if k in outs})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(news, (*OUTPUT_KEYS, MOVED)))
        return UpdateResult(self._finish(handler.update(id_, olds, inputs)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._handler(props["platform"]).delete(id_, props)

    @staticmethod
    def _finish(state: dict) -> dict:
        return {"dkim_key_id": None, "dkim_selector": None, **state,
                "verified": all(r["validated"] for r in state["records"])}


class SendingDomain(pulumi.dynamic.Resource, module="partners", name="SendingDomain"):
    """A sending domain; `records` lists the DNS records to publish, `verified` says if all validate."""

    domain: pulumi.Output[str]
    records: pulumi.Output[list]
    verified: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 domain: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None, **settings: Any):
        props = sending_domain_props(platform=platform, account_id=account_id, domain=domain, **settings)
        super().__init__(SendingDomainProvider(), resource_name, props, opts)


def sending_domain_props(**declared: Any) -> dict[str, Any]:
    """What a SendingDomain hands the engine: the declared settings and the output placeholders."""
    return {**declared, **{k: None for k in OUTPUT_KEYS}}
