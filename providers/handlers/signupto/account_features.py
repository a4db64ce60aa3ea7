"""AccountFeatures on Sign-Up.to: the company's feature switches and limits (/accountFeatures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, create_model, model_validator

from ...platforms.signupto import UNLIMITED
from ...signupto.models import DEPENDENT_SWITCHES, LIMITS, NULLABLE_LIMITS, SWITCHES, CustomMailDomainType
from ..account_features import FeaturesHandler, features_args
from ..base import Refused

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...signupto.client import SignupToClient

# Switches are strict (no 0/1 for false/true); limits accept whole numbers (the engine sends floats).
_fields: dict[str, Any] = {name: (Optional[StrictBool], None) for name in SWITCHES}
_fields.update({name: (Optional[StrictBool], None) for name in DEPENDENT_SWITCHES})
_fields.update({name: (Optional[int], Field(None, ge=1)) for name in LIMITS})


def _limit_or_unlimited(minimum: int):
    def check(value: Any) -> Any:
        if value == UNLIMITED:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise ValueError(f'must be a whole number or "{UNLIMITED}"')
        if value < minimum:
            raise ValueError(f'must be at least {minimum}, or "{UNLIMITED}"')
        return int(value)
    return BeforeValidator(check)


_fields.update({name: (Optional[Annotated[Any, _limit_or_unlimited(0)]], None) for name in NULLABLE_LIMITS})
_fields["subscriber_limit"] = (Optional[Annotated[Any, _limit_or_unlimited(1)]], None)
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


def _as_declared(features: dict[str, Any]) -> dict[str, Any]:
    """The API's null limits in the vocabulary users declare them with."""
    return {k: (UNLIMITED if k in NULLABLE_LIMITS and v is None else v) for k, v in features.items()}


class SignupToAccountFeatures(FeaturesHandler):
    platform = "signupto"
    Args = features_args(platform, SignupToFeatures)
    client: SignupToClient

    def remote(self, account_id: str) -> Optional[dict]:
        features = self.client.get_features(account_id)  # /accountFeatures: not part of the account's read
        if features is None:
            return None  # the company is gone (or no longer this partner's)
        return _as_declared(features)

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict:
        current = self.remote(account_id) or {}
        for child, parent in DEPENDENT_SWITCHES.items():
            if changes.get(child) and not changes.get(parent, current.get(parent)):
                raise Refused(f"features.{child}: requires {parent}, which is off on Sign-Up.to account "
                              f"{account_id}; declare {parent}: true as well")
        sent = {k: (None if v == UNLIMITED else v) for k, v in changes.items()}
        return _as_declared(self.client.update_features(account_id, sent))
