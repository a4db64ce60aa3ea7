"""What DomainVerification's handlers share: the inputs, and reading records through SendingDomain's own code."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..common import PlatformHandler
from ..validators import hostname


class DomainVerificationInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    account_id: str
    domain: str
    sending_domain_id: str = Field(description="the SendingDomain's id: whose records to wait for")
    timeout_seconds: int = Field(ge=1, le=3600, description="how long the create waits before it fails")

    _domain = field_validator("domain")(hostname)


class VerificationHandler(PlatformHandler):
    """Reads the records with the platform's SendingDomain handler, so both resources agree on them."""

    Inputs = DomainVerificationInputs
    replace_fields = frozenset({"platform", "account_id", "domain", "sending_domain_id"})
    sending_domain: type  # the platform's SendingDomain handler

    def records(self, inputs: DomainVerificationInputs) -> Optional[list[dict[str, Any]]]:
        state = self.sending_domain(self._config).read(inputs.sending_domain_id,
                                                       {"account_id": inputs.account_id, "domain": inputs.domain,
                                                        "platform": inputs.platform})
        return None if state is None else state["records"]
