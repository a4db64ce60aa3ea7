"""AccountFeatures on Ciirus: the sub-account's daily_send_limit and approval (PUT, other fields kept)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ...settings import ciirus_client
from ..common import PlatformHandler


class CiirusFeatures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_send_limit: Optional[int] = Field(None, ge=0)
    approved: Optional[StrictBool] = None


class CiirusFeaturesInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["ciirus"]
    account_id: str
    features: CiirusFeatures


class CiirusAccountFeatures(PlatformHandler):
    Inputs = CiirusFeaturesInputs

    def remote(self, account_id: str) -> Optional[dict]:
        account = ciirus_client(self._config).get_shared(reader="AccountFeatures")
        if account is None or account.subaccount_id != account_id:
            return None
        return {"daily_send_limit": account.daily_send_limit, "approved": account.approved}

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        account = ciirus_client(self._config).update(account_id, **changes)
        return {"daily_send_limit": account.daily_send_limit, "approved": account.approved}
