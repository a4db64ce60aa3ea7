"""AccountFeatures on Cakemail: the account's usage limits and use_* switches (PATCH usage_limits).

`trial` and `partner` are account settings owned by SubAccount, so that no field has two owners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import ConfigDict, model_validator

from ...cakemail.models import PatchAccount, UsageLimits
from ..account_features import FeaturesHandler, features_args

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...cakemail.client import CakemailClient

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


class CakemailAccountFeatures(FeaturesHandler):
    platform = "cakemail"
    Args = features_args(platform, CakemailFeatures)
    client: CakemailClient

    def remote(self, account_id: str) -> Optional[dict]:
        """The account's usage_limits, as SubAccount's read of the same account in this pass got them."""
        account = self.client.get_account_shared(account_id, reader="AccountFeatures")
        return None if account is None else dict(account.usage_limits)

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        return dict(self.client.patch_account(account_id, PatchAccount(usage_limits=UsageLimits(**changes))).usage_limits)
