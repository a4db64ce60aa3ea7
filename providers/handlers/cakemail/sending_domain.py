"""SendingDomain on Cakemail: a DKIM key for a domain inside the customer's sub-account.

Keys this tool creates get a selector derived from the account and domain ("pulumi" + hash), so
a create interrupted after the key was made finds its own key again on
the next run. A key for the domain made by anyone else is only taken over with `adopt_existing`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, StrictBool, field_validator

from ...cakemail.models import DkimKey
from ..base import Gone, Recorded, Refused
from ..sending_domain import SendingDomainArgs, SendingDomainHandler, SendingDomainState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...cakemail.client import CakemailClient

SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class CakemailSendingDomainArgs(SendingDomainArgs):
    platform: Literal["cakemail"]
    selector: Optional[str] = Field(None, description="default: derived from the account and domain")
    adopt_existing: StrictBool = Field(False, description="take over the domain's DKIM key if one exists instead "
                                                          "of refusing (see README)")

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not SELECTOR.match(value):
            raise ValueError(f"{value!r} is not a DKIM selector (lower-case letters, digits, inner hyphens)")
        return value


def own_selector(account_id: str, domain: str) -> str:
    return "pulumi" + hashlib.sha256(f"{account_id}:{domain}".encode()).hexdigest()[:10]


class CakemailSendingDomain(SendingDomainHandler[CakemailSendingDomainArgs]):
    platform = "cakemail"
    Args = CakemailSendingDomainArgs
    client: CakemailClient
    replace_fields = frozenset({"platform", "account_id", "domain", "selector"})

    def create(self, inputs: CakemailSendingDomainArgs, marker: Optional[str]) -> tuple[str, SendingDomainState]:
        selector = inputs.selector or own_selector(inputs.account_id, inputs.domain)
        keys = self.client.list_dkim_keys(inputs.account_id)
        existing = next((k for k in keys if k.domain == inputs.domain), None)
        if existing is not None and existing.selector != selector and not inputs.adopt_existing:
            raise Refused(
                f"cakemail account {inputs.account_id} already has DKIM key {existing.id} for {inputs.domain} "
                f"(selector {existing.selector}, {existing.status}); it was not changed. To manage it with this stack, "
                f"set `adopt_existing: true` on the sending domain and run `pulumi up` again.")
        key = existing or self.client.create_dkim_key(inputs.account_id, inputs.domain, selector, listed=keys)
        return key.id, self._state(inputs.model_dump(), key)

    def read(self, key_id: str, recorded: Recorded) -> Optional[SendingDomainState]:
        key = self.client.get_dkim_key(recorded.account_id, key_id)
        if key is None:
            return None
        return self._state({**recorded.inputs(), "domain": key.domain}, key)

    def update(self, key_id: str, recorded: Recorded, new: CakemailSendingDomainArgs) -> SendingDomainState:
        key = self.client.get_dkim_key(new.account_id, key_id)
        if key is None:
            raise Gone(f"cakemail DKIM key {key_id} no longer exists; run `pulumi refresh` to recreate it")
        return self._state(new.model_dump(), key)  # only a local setting (adopt_existing) changed

    def delete(self, key_id: str, recorded: Recorded) -> None:
        self.client.delete_dkim_key(recorded.account_id, key_id)  # already gone is fine

    @staticmethod
    def _state(inputs: dict, key: DkimKey) -> SendingDomainState:
        name, type_, value = key.dns_record()
        return SendingDomainState(**inputs, dkim_key_id=key.id, dkim_selector=key.selector, records=[
            {"name": name, "type": type_, "value": value, "purpose": "dkim", "validated": key.active}])
