"""DomainVerification on every platform: wait, with a deadline of its own, until a SendingDomain's records validate.

The AWS SES pair (`aws_ses_domain_identity` + `..._verification`) is the model: SendingDomain
records the domain and its DNS records in state at once and never waits, so a program can publish
them (a DNS provider's records depending on `SendingDomain.records`) and make this resource depend
on those; its create then waits until the platform sees them. At the deadline it fails listing every
missing record in full (name, type, value, purpose). It deletes nothing on destroy: the domain and
its records are SendingDomain's. The engine passes no custom timeouts to dynamic providers, hence
the resource's own `timeout_seconds`. The records are read by the platform's SendingDomain handler,
so that both resources agree on them: one handler serves every platform (a platform whose API has a
verification of its own subclasses it).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..validators import hostname
from .base import Gone, Handler, PlatformError, Recorded, State, handler_of
from .sending_domain import DnsRecord


class VerificationArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    account_id: str
    domain: str
    sending_domain_id: str = Field(description="the SendingDomain's id: whose records to wait for")
    timeout_seconds: int = Field(ge=1, le=3600, description="how long the create waits before it fails")

    _domain = field_validator("domain")(hostname)


class VerificationState(State):
    records: list[DnsRecord]
    verified: bool


class VerificationTimeout(PlatformError):
    """The deadline passed with records still unvalidated; the message lists each in full."""

    code = "verification-timeout"


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


class VerificationHandler(Handler[VerificationArgs, VerificationState]):
    Args = VerificationArgs
    State = VerificationState
    replace_fields = frozenset({"platform", "account_id", "domain", "sending_domain_id"})

    def records(self, args: VerificationArgs) -> Optional[list[dict[str, Any]]]:
        """The domain's records as the platform has them now, or None when the sending domain is gone."""
        sending_domain = handler_of(args.platform, "SendingDomain")
        recorded = sending_domain.Recorded(account_id=args.account_id, domain=args.domain, platform=args.platform)
        state = sending_domain(self._config).read(args.sending_domain_id, recorded)
        return None if state is None else state.recorded()["records"]

    def create(self, args: VerificationArgs, marker: Optional[str]) -> tuple[str, VerificationState]:
        return f"{args.sending_domain_id}/verification", self._waited(args)

    def read(self, id_: str, recorded: Recorded) -> Optional[VerificationState]:
        args = self.Args.model_validate({k: v for k, v in recorded.inputs().items() if v is not None})
        records = self.records(args)
        if records is None:
            return None  # the sending domain is gone: so is what was verified
        return self.State(**args.model_dump(), records=records, verified=all(r["validated"] for r in records))

    def update(self, id_: str, recorded: Recorded, args: VerificationArgs) -> VerificationState:
        # Only the deadline can change in place (a new domain or key replaces): wait again if not verified.
        if recorded.verified is True:
            return self.State(**args.model_dump(), records=recorded.records or [], verified=True)
        return self._waited(args)

    def delete(self, id_: str, recorded: Recorded) -> None:
        """Nothing to delete: a verification is an observation; the domain is SendingDomain's."""

    def _waited(self, args: VerificationArgs) -> VerificationState:
        def poll() -> list[dict]:
            records = self.records(args)
            if records is None:
                raise Gone(f"{args.platform} sending domain {args.domain} ({args.sending_domain_id}) no longer "
                           f"exists: run `pulumi refresh`, then `pulumi up` to make it again")
            return records
        return self.State(**args.model_dump(), records=wait_until_verified(poll, args.domain, args.timeout_seconds),
                          verified=True)
