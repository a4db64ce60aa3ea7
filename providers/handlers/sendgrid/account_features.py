"""AccountFeatures on SendGrid: the subuser's credits (`type`, `limit`, `reset_frequency`).

`type` is declared with what it needs (recurring: limit and reset_frequency; nonrecurring: limit;
unlimited: neither), all checked at preview. Setting credits starts a new allocation (what was used
is forgotten): the review names it. A nonrecurring allocation reads back only as what remains of
it, so its `limit` is what was set: sending mail never shows as drift (and an `up` never refills it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...platforms.sendgrid import declared_credits
from ...sendgrid.models import CreditType, ResetFrequency
from ..account_features import FeaturesHandler, features_args
from ..base import Gone

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...sendgrid.client import SendGridClient

NEEDS = {"recurring": ("limit", "reset_frequency"), "nonrecurring": ("limit",), "unlimited": ()}


class SendGridCredits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Optional[CreditType] = Field(None, description="unlimited, recurring (refilled every reset_frequency) or "
                                                         "nonrecurring (one allocation)")
    limit: Optional[int] = Field(None, ge=1, description="the credits allocated (recurring, nonrecurring)")
    reset_frequency: Optional[ResetFrequency] = Field(None, description="monthly, weekly or daily (recurring)")

    @model_validator(mode="after")
    def _fits_the_type(self):
        declared = self.model_dump(exclude_unset=True)
        if not declared:
            return self
        if self.type is None:
            raise ValueError(f"type: declare the credits' type with {', '.join(sorted(declared))} (unlimited, "
                             f"recurring or nonrecurring)")
        needs = NEEDS[self.type]
        missing = [n for n in needs if declared.get(n) is None]
        extra = [n for n in ("limit", "reset_frequency") if n not in needs and declared.get(n) is not None]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required with type {self.type}")
        if extra:
            raise ValueError(f"{', '.join(extra)}: not taken by type {self.type} (takes "
                             f"{', '.join(needs) or 'neither limit nor reset_frequency'})")
        return self


class SendGridAccountFeatures(FeaturesHandler):
    platform = "sendgrid"
    Args = features_args(platform, SendGridCredits)
    client: SendGridClient

    def remote(self, account_id: str) -> Optional[dict]:
        credits = self.client.get_credits(account_id)
        if credits is None:
            return None  # the subuser is gone
        found = declared_credits(credits)
        if credits.type == "nonrecurring":
            found.pop("limit")  # what remains is not the allocation (see the module docstring)
        return found

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        from ...sendgrid.models import CreditsRequest

        current = self.client.get_credits(account_id)
        if current is None:
            raise Gone(f"sendgrid subuser {account_id} does not exist: its credits cannot be set")
        wanted = {**declared_credits(current), **changes}
        needs = NEEDS[wanted["type"]]
        answer = self.client.set_credits(account_id, CreditsRequest(
            type=wanted["type"], total=wanted.get("limit") if "limit" in needs else None,
            reset_frequency=wanted.get("reset_frequency") if "reset_frequency" in needs else None))
        return declared_credits(answer)  # a fresh allocation: a nonrecurring one remains whole
