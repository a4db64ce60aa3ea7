"""SendingDomain: a customer's sending domain and the DNS records that must be published for it.

Outputs `records` (name, type, value, purpose, validated) ready to feed a DNS provider, and
`verified` (every record validated). With `verification_timeout_seconds`, create and update wait
until the platform sees the records, and fail at that deadline naming each record still missing
and the value it must have. The engine passes no custom timeouts to dynamic providers, hence the
resource's own deadline.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from ..common import PlatformProvider, user_inputs

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailSendingDomain",
            "ciirus": f"{__name__}.ciirus:CiirusSendingDomain"}
OUTPUT_KEYS = ("records", "verified", "dkim_key_id", "dkim_selector")


class VerificationTimeout(Exception):
    pass


def wait_until_verified(poll: Callable[[], dict], state: dict, timeout: float, *,
                        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Poll until every record validates; at the deadline, say which records to publish."""
    deadline = clock() + timeout
    interval = min(10.0, max(0.5, timeout / 20))
    while not all(r["validated"] for r in state["records"]):
        if clock() >= deadline:
            missing = [r for r in state["records"] if not r["validated"]]
            lines = "; ".join(f'{r["type"]} {r["name"]} = "{r["value"]}" ({r["purpose"]})' for r in missing)
            raise VerificationTimeout(
                f"{state['domain']} is not verified after {timeout:g}s: {len(missing)} record(s) not validated yet. "
                f"Publish: {lines}. Then run `pulumi up` again (or raise verification_timeout_seconds).")
        sleep(min(interval, max(0.0, deadline - clock())))
        state = poll()
    return state


class SendingDomainProvider(PlatformProvider):
    resource = "SendingDomain"
    handlers = HANDLERS
    output_keys = OUTPUT_KEYS

    def delete_first(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        # One DKIM key per domain and account: a new key for the same domain needs the old one gone first.
        return olds.get("account_id") == news.get("account_id") and olds.get("domain") == news.get("domain")

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(props, OUTPUT_KEYS))
        id_, state = handler.create(inputs)
        return CreateResult(id_, self._verified(handler, id_, state, inputs.verification_timeout_seconds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        state = handler.read(id_, props)
        if state is None:
            return ReadResult(None, {})
        outs = self._finish(state)
        return ReadResult(id_, outs, {k: outs[k] for k in handler.Inputs.model_fields if k in outs})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        inputs = handler.Inputs.model_validate(user_inputs(news, OUTPUT_KEYS))
        state = handler.update(id_, olds, inputs)
        return UpdateResult(self._verified(handler, id_, state, inputs.verification_timeout_seconds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._handler(props["platform"]).delete(id_, props)

    def _verified(self, handler, id_: str, state: dict, timeout: int) -> dict:
        if timeout:
            state = wait_until_verified(lambda: handler.read(id_, state) or state, state, timeout)
        return self._finish(state)

    @staticmethod
    def _finish(state: dict) -> dict:
        return {"dkim_key_id": None, "dkim_selector": None, **state,
                "verified": all(r["validated"] for r in state["records"])}


class SendingDomain(pulumi.dynamic.Resource, module="partners", name="SendingDomain"):
    """A sending domain; `records` lists the DNS records to publish, `verified` says if all validate."""

    records: pulumi.Output[list]
    verified: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 domain: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None, **settings: Any):
        props = sending_domain_props(platform=platform, account_id=account_id, domain=domain, **settings)
        super().__init__(SendingDomainProvider(), resource_name, props, opts)


def sending_domain_props(**declared: Any) -> dict[str, Any]:
    """What a SendingDomain hands the engine: the declared settings and the output placeholders."""
    return {**declared, **{k: None for k in OUTPUT_KEYS}}
