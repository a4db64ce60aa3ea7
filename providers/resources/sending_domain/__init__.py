"""SendingDomain: a customer's sending domain and the DNS records that must be published for it.

The create records the domain and its `records` in state at once and never waits
(providers/handlers/sending_domain.py); waiting for the platform to see them is DomainVerification's job.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult

from ...handlers.sending_domain import SendingDomainState
from ..provider import PlatformProvider

OUTPUT_KEYS = SendingDomainState.output_keys()
# The wait moved to DomainVerification; state written before that still holds this input (ignored).
MOVED = "verification_timeout_seconds"


class SendingDomainProvider(PlatformProvider):
    resource = "SendingDomain"
    output_keys = OUTPUT_KEYS
    ignored_inputs = (MOVED,)

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
