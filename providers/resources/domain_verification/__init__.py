"""DomainVerification: wait, with a deadline of its own, until a SendingDomain's records validate.

See providers/handlers/domain_verification.py: the create waits until the platform sees the
records, and fails at the deadline listing each missing record in full; it deletes nothing.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from ...handlers.domain_verification import VerificationState
from ..provider import PlatformProvider

OUTPUT_KEYS = VerificationState.output_keys()


class DomainVerificationProvider(PlatformProvider):
    resource = "DomainVerification"
    output_keys = OUTPUT_KEYS


class DomainVerification(pulumi.dynamic.Resource, module="partners", name="DomainVerification"):
    """Waits until the sending domain's records validate, failing at `timeout_seconds` with each missing record."""

    records: pulumi.Output[list]
    verified: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 domain: pulumi.Input[str], sending_domain_id: pulumi.Input[str], timeout_seconds: pulumi.Input[int],
                 opts: Optional[pulumi.ResourceOptions] = None):
        props = domain_verification_props(platform=platform, account_id=account_id, domain=domain,
                                          sending_domain_id=sending_domain_id, timeout_seconds=timeout_seconds)
        super().__init__(DomainVerificationProvider(), resource_name, props, opts)


def domain_verification_props(**declared: Any) -> dict[str, Any]:
    """What a DomainVerification hands the engine: the declared settings and the output placeholders."""
    return {**declared, **{k: None for k in OUTPUT_KEYS}}
