"""AccountFeatures on Ciirus: the sub-account's daily_send_limit and approval (PUT, other fields kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ..account_features import FeaturesHandler, features_args

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...ciirus.client import CiirusClient
    from ...ciirus.models import SubAccount


class CiirusFeatures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_send_limit: Optional[int] = Field(None, ge=0)
    approved: Optional[StrictBool] = None


class CiirusAccountFeatures(FeaturesHandler):
    platform = "ciirus"
    Args = features_args(platform, CiirusFeatures)
    client: CiirusClient

    def remote(self, account_id: str) -> Optional[dict]:
        """The API user's one sub-account carries them: gone if it is another one now."""
        account = self.client.get_shared(reader="AccountFeatures")
        if account is None or account.subaccount_id != account_id:
            return None
        return _features(account)

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        return _features(self.client.update(account_id, **changes))  # the domain's current value is sent along


def _features(account: SubAccount) -> dict[str, Any]:
    return {"daily_send_limit": account.daily_send_limit, "approved": account.approved}
