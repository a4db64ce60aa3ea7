"""AccountFeatures: a customer's feature switches and limits, as one declared set per account.

Only the names a user declares are managed: they are sent, read back and compared; every other
setting is left as the platform has it and never shows as drift. `destroy` leaves the settings as
they are on the platform (a removed declaration must not flip a live customer's switches); the
account's own deletion, where the platform has one, is SubAccount's business.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from ..common import PlatformProvider, diff_fields, user_inputs

# Each platform's handler (and with it that vendor's client) is imported only when a resource uses it.
HANDLERS = {"cakemail": f"{__name__}.cakemail:CakemailAccountFeatures",
            "signupto": f"{__name__}.signupto:SignupToAccountFeatures",
            "ciirus": f"{__name__}.ciirus:CiirusAccountFeatures"}
INPUT_KEYS = ("platform", "account_id", "features")


class AccountFeaturesProvider(PlatformProvider):
    resource = "AccountFeatures"
    handlers = HANDLERS

    def normalised(self, model) -> dict[str, Any]:
        """Only the declared names are kept: they are all this resource manages."""
        return {**model.model_dump(exclude={"features"}), "features": model.features.model_dump(exclude_unset=True)}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_fields(olds, news, INPUT_KEYS, lambda f: f in ("platform", "account_id"))

    def _declared(self, handler, props: dict[str, Any]) -> dict[str, Any]:
        """The declared features, typed again: the engine hands whole numbers over as floats."""
        model = handler.Inputs.model_validate(user_inputs(props))
        return model.features.model_dump(exclude_unset=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        declared = self._declared(handler, props)
        applied = self._converge(handler, props["platform"], props["account_id"], declared) if declared else {}
        return CreateResult(f"{props['platform']}:{props['account_id']}:features",
                            self._outputs(props, declared, applied))

    @staticmethod
    def _converge(handler, platform: str, account_id: str, declared: dict[str, Any]) -> dict[str, Any]:
        """Read first and write only what differs: taking over an account whose settings already
        match (adoption) makes no write at all."""
        remote = handler.remote(account_id)
        if remote is None:
            raise RuntimeError(f"{platform} account {account_id} does not exist (or is not this "
                               f"partner's): its features cannot be managed")
        changes = {k: v for k, v in declared.items() if remote.get(k) != v}
        return {**remote, **handler.apply(account_id, changes)} if changes else remote

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        remote = self._handler(props["platform"]).remote(props["account_id"])
        if remote is None:
            return ReadResult(None, {})  # the account is gone, and its settings with it
        outs = self._outputs(props, dict(props.get("features") or {}), remote)
        return ReadResult(id_, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        declared = self._declared(handler, news)
        recorded = dict(olds.get("features") or {})
        changes = {k: v for k, v in declared.items() if k not in recorded or recorded[k] != v}
        applied = handler.apply(news["account_id"], changes) if changes else {}
        return UpdateResult(self._outputs(news, declared, {**recorded, **applied}))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Leave the platform's settings as they are (see the module docstring)."""

    @staticmethod
    def _outputs(props: dict, declared: dict, remote: dict) -> dict:
        return {"platform": props["platform"], "account_id": props["account_id"],
                "features": {k: remote.get(k, v) for k, v in declared.items()}}


class AccountFeatures(pulumi.dynamic.Resource, module="partners", name="AccountFeatures"):
    """Feature switches and limits of one account; `features` holds only what you want managed."""

    features: pulumi.Output[dict]

    def __init__(self, resource_name: str, *, platform: pulumi.Input[str], account_id: pulumi.Input[str],
                 features: pulumi.Input[dict], opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(AccountFeaturesProvider(), resource_name,
                         {"platform": platform, "account_id": account_id, "features": features}, opts)
