"""AccountFeatures on Sign-Up.to: the company's feature switches and limits (/accountFeatures)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, model_validator

from ...settings import signupto_client
from ..common import PlatformHandler
from ...signupto.models import DEPENDENT_SWITCHES, LIMITS, NULLABLE_LIMITS, SWITCHES, CustomMailDomainType

# Switches are strict (no 0/1 for false/true); limits accept whole numbers (the engine sends floats).
_fields: dict[str, Any] = {name: (Optional[StrictBool], None) for name in SWITCHES}
_fields.update({name: (Optional[StrictBool], None) for name in DEPENDENT_SWITCHES})
_fields.update({name: (Optional[int], Field(None, ge=1)) for name in LIMITS})
_fields.update({name: (Optional[int], Field(None, ge=0)) for name in NULLABLE_LIMITS})
_fields["subscriber_limit"] = (Optional[int], Field(None, ge=1))
_fields.update(custommaildomaintype=(Optional[CustomMailDomainType], None), maildomainprimary=(Optional[str], None))

_SignupToFeatureFields = create_model(
    "_SignupToFeatureFields", __config__=ConfigDict(extra="forbid"), **_fields)


class SignupToFeatures(_SignupToFeatureFields):
    """Only the names a user declares are sent and compared; null clears a nullable limit."""

    @model_validator(mode="after")
    def _dependent_switches(self):
        declared = self.model_dump(exclude_unset=True)
        for child, parent in DEPENDENT_SWITCHES.items():
            if declared.get(child) and declared.get(parent) is False:
                raise ValueError(f"{child} requires {parent} to be true, and {parent} is declared false")
        return self


class SignupToFeaturesInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["signupto"]
    account_id: str
    features: SignupToFeatures


class SignupToAccountFeatures(PlatformHandler):
    Inputs = SignupToFeaturesInputs

    def remote(self, account_id: str) -> Optional[dict]:
        return signupto_client(self._config).get_features(account_id)

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        current = self.remote(account_id) or {}
        for child, parent in DEPENDENT_SWITCHES.items():
            if changes.get(child) and not changes.get(parent, current.get(parent)):
                raise ValueError(f"features.{child}: requires {parent}, which is off on Sign-Up.to account "
                                 f"{account_id}; declare {parent}: true as well")
        return signupto_client(self._config).update_features(account_id, changes)
