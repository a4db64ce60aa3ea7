"""The handler contract: one resource on one platform, typed inputs and state beside its lifecycle.

The shape of pulumi-go-provider's `infer`: a handler declares `Args` (what a user declares, validated
at check) and `State` (what the resource records: its outputs, with its inputs as recorded), and
implements the lifecycle, each call with one signature for every resource and platform:

    create(args, marker)        -> (id, state)    marker: the resource's creation marker, or None
    read(id, recorded)          -> state, or None when the object is gone (refresh drops it)
    update(id, recorded, args)  -> state
    delete(id, recorded)        -> None           already gone is success

`recorded` is what the engine holds (the last state's outputs). Each resource's base class
(sub_account.py, account_features.py, ...) fixes its State and what every platform shares; a
vendor's handlers (providers/handlers/<vendor>/) implement the rest. Optional hooks are explicit
class attributes or methods with defaults, never probed for: `replace_fields` (what the API cannot
change in place), `compared_fields` (what diff compares), `refuse_changes` (changes to an existing
object refused at check), `normalised` (the inputs check records), `delete_before_replace`.
A call that cannot go on raises a PlatformError: its message is what the engine prints (see
providers/resources/provider.py), its `code` says which kind it is, stably.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Mapping, Optional, TypeVar

from pydantic import BaseModel, ConfigDict

from ..platforms.clients import shared_client

if TYPE_CHECKING:
    from ..ownership import ManagedBy


class PlatformError(RuntimeError):
    """A lifecycle call that cannot go on; the message says why and what to do."""

    code = "platform-error"


class Gone(PlatformError):
    """The object the state names no longer exists on the platform."""

    code = "gone"


class Refused(PlatformError):
    """Going on would lose, overwrite or duplicate something: nothing was done."""

    code = "refused"


class CannotAdopt(Refused):
    """The object to take over is not there, or not as declared: nothing was created or changed."""

    code = "cannot-adopt"


class State(BaseModel):
    """What a resource records. Its fields are the resource's outputs; its inputs as recorded ride along
    as extra fields, not validated again: a read records what the platform says even where it is no
    valid declaration (a name blanked in a console), so that refresh reports the drift instead of failing."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def output_keys(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    def recorded(self) -> dict[str, Any]:
        """Inputs and outputs, as the engine stores them."""
        return self.model_dump()


ArgsT = TypeVar("ArgsT", bound=BaseModel)
StateT = TypeVar("StateT", bound=State)


class Handler(Generic[ArgsT, StateT]):
    """One resource on one platform (see the module docstring)."""

    platform: ClassVar[str]
    Args: ClassVar[type[BaseModel]]
    State: ClassVar[type[State]]
    replace_fields: ClassVar[frozenset[str]] = frozenset({"platform"})
    compared_fields: ClassVar[Optional[tuple[str, ...]]] = None  # None: every field of Args

    def __init__(self, config: Mapping[str, Any]):
        self._config = config  # the stack config (credentials included): held in memory only
        # Who the call works for (the project, stack and backend of the engine call), where known: a vendor
        # that keeps it with the object (Cakemail) names its owner across backends (providers/ownership.py).
        self.managed_by: Optional[ManagedBy] = None
        # Whether another stack of the backend manages the object of this id (the ownership index, at create):
        # recognising an interrupted create's object never takes one of those.
        self.managed_elsewhere: Callable[[str], bool] = lambda _id: False

    @property
    def client(self) -> Any:
        """The platform's client for the configured identity, one per process (vendors' handlers type it)."""
        return shared_client(self.platform, self._config)

    # --- optional hooks ---------------------------------------------------------------------------
    @classmethod
    def compared(cls) -> tuple[str, ...]:
        return cls.compared_fields if cls.compared_fields is not None else tuple(cls.Args.model_fields)

    @classmethod
    def refuse_changes(cls, recorded: Mapping[str, Any], args: ArgsT) -> list[tuple[str, str]]:
        """(field, reason) for each change the platform cannot make to the existing object."""
        return []

    @classmethod
    def normalised(cls, args: ArgsT) -> dict[str, Any]:
        """The inputs check hands the engine (what diff and the next check compare)."""
        return args.model_dump()

    @classmethod
    def delete_before_replace(cls, recorded: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        return False

    # --- the lifecycle ----------------------------------------------------------------------------
    def create(self, args: ArgsT, marker: Optional[str]) -> tuple[str, StateT]:
        raise NotImplementedError

    def read(self, id_: str, recorded: Mapping[str, Any]) -> Optional[StateT]:
        raise NotImplementedError

    def update(self, id_: str, recorded: Mapping[str, Any], args: ArgsT) -> StateT:
        raise NotImplementedError

    def delete(self, id_: str, recorded: Mapping[str, Any]) -> None:
        raise NotImplementedError


_handler_classes: dict[str, type[Handler]] = {}
_handler_classes_lock = threading.Lock()


def handler_class(location: str) -> type[Handler]:
    """The class at "package.module:Class", imported on first use: a stack pays only for its platform."""
    with _handler_classes_lock:
        if location not in _handler_classes:
            module, _, name = location.partition(":")
            _handler_classes[location] = getattr(importlib.import_module(module), name)
        return _handler_classes[location]


def handler_of(platform: str, resource: str) -> Optional[type[Handler]]:
    """The handler of `resource` on `platform`, or None where the platform is unknown or does not offer it."""
    from ..platforms import describe, names

    if not isinstance(platform, str) or platform not in names():
        return None
    location = describe(platform).handlers.get(resource)
    return handler_class(location) if location else None
