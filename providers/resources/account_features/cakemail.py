"""AccountFeatures on Cakemail: the account's usage limits and use_* switches (PATCH usage_limits).

`trial` and `partner` are account settings owned by SubAccount, so that no field has two owners.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, model_validator

from ...cakemail.models import PatchAccount, UsageLimits
from ...settings import cakemail_client
from ..common import PlatformHandler

OWNED_BY_SUB_ACCOUNT = ("trial", "partner", "suspended", "name")


class CakemailFeatures(UsageLimits):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _not_sub_account_settings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in OWNED_BY_SUB_ACCOUNT:
                if name in data:
                    raise ValueError(f"{name} is a SubAccount setting on cakemail: declare it on the account, "
                                     f"not in features")
        return data


class CakemailFeaturesInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["cakemail"]
    account_id: str
    features: CakemailFeatures


class CakemailAccountFeatures(PlatformHandler):
    Inputs = CakemailFeaturesInputs

    def remote(self, account_id: str) -> Optional[dict]:
        account = cakemail_client(self._config).get_account_shared(account_id, reader="AccountFeatures")
        return None if account is None else dict(account.usage_limits)

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        patch = PatchAccount(usage_limits=UsageLimits(**changes))
        return dict(cakemail_client(self._config).patch_account(account_id, patch).usage_limits)
