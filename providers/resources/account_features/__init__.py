"""AccountFeatures: a customer's feature switches and limits, as one declared set per account.

Only the names a user declares are managed (providers/handlers/account_features.py): the others
are left as the platform has them and never show as drift; `destroy` leaves the settings as they are.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from ...handlers.account_features import FeaturesState
from ..provider import PlatformProvider


class AccountFeaturesProvider(PlatformProvider):
    resource = "AccountFeatures"
    output_keys = FeaturesState.output_keys()


class AccountFeatures(pulumi.dynamic.Resource, module="partners", name="AccountFeatures"):
    """Feature switches and limits of one account; `features` holds only what you want managed."""

    features: pulumi.Output[dict]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 features: pulumi.Input[dict], opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(AccountFeaturesProvider(), resource_name,
                         account_features_props(platform=platform, account_id=account_id, features=features), opts)


def account_features_props(**declared: Any) -> dict[str, Any]:
    """What an AccountFeatures hands the engine: the declared settings (it has no outputs of its own)."""
    return dict(declared)
