"""DomainVerification: wait, with a deadline of its own, until a SendingDomain's records validate.

The AWS SES pair (`aws_ses_domain_identity` + `..._verification`) is the model: SendingDomain
records the domain and its DNS records in state at once and never waits, so a program can publish
them (a DNS provider's records depending on `SendingDomain.records`) and make this resource depend
on those; its create then waits until the platform sees them. At the deadline it fails listing every
missing record in full (name, type, value, purpose). It deletes nothing on destroy: the domain and
its records are SendingDomain's. The engine passes no custom timeouts to dynamic providers, hence
the resource's own `timeout_seconds`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from ..common import PlatformProvider, user_inputs

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailDomainVerification",
            "ciirus": f"{__name__}.ciirus:CiirusDomainVerification"}
OUTPUT_KEYS = ("records", "verified")


class VerificationTimeout(Exception):
    """The deadline passed with records still unvalidated; the message lists each in full."""

    def __str__(self) -> str:  # the dynamic provider server words the engine's error from this
        return self.args[0]


def missing_records_message(domain: str, timeout: float, records: list[dict]) -> str:
    missing = [r for r in records if not r["validated"]]
    lines = "\n".join(f'  {r["type"]} {r["name"]} "{r["value"]}" ({r["purpose"]})' for r in missing)
    return (f"{domain} is not verified after {timeout:g}s: {len(missing)} record(s) not validated yet. "
            f"Publish them, then run `pulumi up` again (or raise timeout_seconds):\n{lines}")


def wait_until_verified(poll: Callable[[], list[dict]], domain: str, timeout: float, *,
                        clock: Callable[[], float] = time.monotonic,
                        sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Poll the platform until every record validates; at the deadline, say which to publish."""
    deadline = clock() + timeout
    interval = min(10.0, max(0.5, timeout / 20))
    records = poll()
    while not all(r["validated"] for r in records):
        if clock() >= deadline:
            raise VerificationTimeout(missing_records_message(domain, timeout, records))
        sleep(min(interval, max(0.0, deadline - clock())))
        records = poll()
    return records


class DomainVerificationProvider(PlatformProvider):
    resource = "DomainVerification"
    handlers = HANDLERS
    output_keys = OUTPUT_KEYS

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(props, OUTPUT_KEYS))
        return CreateResult(f"{inputs.sending_domain_id}/verification", self._waited(handler, inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only the deadline can change in place (a new domain or key replaces): wait again if not verified.
        handler = self._handler(news["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(news, OUTPUT_KEYS))
        if olds.get("verified") is True:
            return UpdateResult({**inputs.model_dump(), "records": olds.get("records") or [], "verified": True})
        return UpdateResult(self._waited(handler, inputs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(props, OUTPUT_KEYS))
        records = handler.records(inputs)
        if records is None:
            return ReadResult(None, {})  # the sending domain is gone: so is what was verified
        outs = {**inputs.model_dump(), "records": records, "verified": all(r["validated"] for r in records)}
        return ReadResult(id_, outs, inputs.model_dump())

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing to delete: a verification is an observation; the domain is SendingDomain's."""

    @staticmethod
    def _waited(handler, inputs) -> dict:
        def poll() -> list[dict]:
            records = handler.records(inputs)
            if records is None:
                raise RuntimeError(f"{inputs.platform} sending domain {inputs.domain} ({inputs.sending_domain_id}) "
                                   f"no longer exists: run `pulumi refresh`, then `pulumi up` to make it again")
            return records
        records = wait_until_verified(poll, inputs.domain, inputs.timeout_seconds)
        return {**inputs.model_dump(), "records": records, "verified": True}


class DomainVerification(pulumi.dynamic.Resource, module="partners", name="DomainVerification"):
    """Waits until the sending domain's records validate, failing at `timeout_seconds` with each missing record."""

    records: pulumi.Output[list]
    verified: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 domain: pulumi.Input[str], sending_domain_id: pulumi.Input[str], timeout_seconds: pulumi.Input[int],
                 opts: Optional[pulumi.ResourceOptions] = None):
        props = {"platform": platform, "account_id": account_id, "domain": domain,
                 "sending_domain_id": sending_domain_id, "timeout_seconds": timeout_seconds,
                 **{k: None for k in OUTPUT_KEYS}}
        super().__init__(DomainVerificationProvider(), resource_name, props, opts)
