"""SendingDomain on every platform: the domain and the DNS records that must be published for it.

The create records the domain and its `records` (name, type, full value, purpose, validated) in
state at once and never waits, so `pulumi stack output dns_records` and `email-partners dns` show
them before anything is verified, and a program can publish them with a DNS provider. Waiting for
the platform to see them is DomainVerification's job. `verified` says whether every record
validates as last read.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..validators import hostname
from .base import Handler, Recorded, State


class SendingDomainArgs(BaseModel):
    """What every platform's SendingDomain declares; a vendor's narrows `platform` and adds its own."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    account_id: str
    domain: str

    _domain = field_validator("domain")(hostname)


class DnsRecord(BaseModel):
    name: str
    type: str
    value: Optional[str]
    purpose: str
    validated: bool


class SendingDomainState(State):
    records: list[DnsRecord]
    verified: bool = False
    dkim_key_id: Optional[str] = None
    dkim_selector: Optional[str] = None

    @model_validator(mode="after")
    def _verified_when_every_record_is(self):
        self.verified = all(r.validated for r in self.records)
        return self


ArgsT = TypeVar("ArgsT", bound=SendingDomainArgs)


class SendingDomainHandler(Handler[ArgsT, SendingDomainState]):
    State = SendingDomainState

    @classmethod
    def delete_before_replace(cls, recorded: Recorded, news: Mapping[str, Any]) -> bool:
        # One DKIM key per domain and account: a new key for the same domain needs the old one gone first.
        return recorded.account_id == news.get("account_id") and recorded.domain == news.get("domain")
