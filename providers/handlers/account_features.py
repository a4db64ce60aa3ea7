"""AccountFeatures on every platform: only the names a user declares are managed.

They are sent, read back and compared; every other setting is left as the platform has it and never
shows as drift. A create reads first and writes only what differs, so taking over an account whose
settings already match (adoption) makes no write at all. `delete` leaves the settings as they are on
the platform (a removed declaration must not flip a live customer's switches); the account's own
deletion, where the platform has one, is SubAccount's business. A vendor's handler says how to read
the settings (`remote`) and how to change some (`apply`).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, create_model

from .base import Gone, Handler, Recorded, State


class FeaturesArgs(BaseModel):
    """What every platform's AccountFeatures declares; a vendor's narrows `platform` and types `features`
    (only the names a user declares are set in it)."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    account_id: str
    features: BaseModel


def features_args(platform: str, features: type[BaseModel]) -> type[FeaturesArgs]:
    """A platform's AccountFeatures Args: FeaturesArgs with its `platform` and its `features` model."""
    return create_model(f"{features.__name__}Args", __base__=FeaturesArgs,
                        platform=(Literal[platform], ...), features=(features, ...))


class FeaturesState(State):
    """No outputs of its own: the declared features are recorded with the platform's values."""


ArgsT = TypeVar("ArgsT", bound=FeaturesArgs)


class FeaturesHandler(Handler[ArgsT, FeaturesState]):
    State = FeaturesState
    replace_fields = frozenset({"platform", "account_id"})
    compared_fields = ("platform", "account_id", "features")

    # --- what a vendor's handler implements -------------------------------------------------------
    def remote(self, account_id: str) -> Optional[dict[str, Any]]:
        """The account's settings as the platform has them, or None when the account is gone."""
        raise NotImplementedError

    def apply(self, account_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change `changes` (and nothing else); the settings as the platform then has them."""
        raise NotImplementedError

    # --- the lifecycle ----------------------------------------------------------------------------
    @classmethod
    def normalised(cls, args: ArgsT) -> dict[str, Any]:
        """Only the declared names are kept: they are all this resource manages."""
        return {**args.model_dump(exclude={"features"}), "features": cls.declared(args)}

    @staticmethod
    def declared(args: BaseModel) -> dict[str, Any]:
        """The declared features, typed (the engine hands whole numbers over as floats)."""
        return args.features.model_dump(exclude_unset=True)

    def create(self, args: ArgsT, marker: Optional[str]) -> tuple[str, FeaturesState]:
        declared = self.declared(args)
        applied = self._converge(args, declared) if declared else {}
        return f"{args.platform}:{args.account_id}:features", self._state(args.platform, args.account_id,
                                                                          declared, applied)

    def _converge(self, args: BaseModel, declared: dict[str, Any]) -> dict[str, Any]:
        remote = self.remote(args.account_id)
        if remote is None:
            raise Gone(f"{args.platform} account {args.account_id} does not exist (or is not this "
                       f"partner's): its features cannot be managed")
        changes = {k: v for k, v in declared.items() if remote.get(k) != v}
        return {**remote, **self.apply(args.account_id, changes)} if changes else remote

    def read(self, id_: str, recorded: Recorded) -> Optional[FeaturesState]:
        remote = self.remote(recorded.account_id)
        if remote is None:
            return None  # the account is gone, and its settings with it
        return self._state(recorded.platform, recorded.account_id, dict(recorded.features or {}), remote)

    def update(self, id_: str, recorded: Recorded, args: ArgsT) -> FeaturesState:
        declared = self.declared(args)
        before = dict(recorded.features or {})
        changes = {k: v for k, v in declared.items() if k not in before or before[k] != v}
        applied = self.apply(args.account_id, changes) if changes else {}
        return self._state(args.platform, args.account_id, declared, {**before, **applied})

    def delete(self, id_: str, recorded: Recorded) -> None:
        """Leave the platform's settings as they are (see the module docstring)."""

    @staticmethod
    def _state(platform: str, account_id: str, declared: dict, remote: dict) -> FeaturesState:
        return FeaturesState(platform=platform, account_id=account_id,
                             features={k: remote.get(k, v) for k, v in declared.items()})
