"""The handler contract: one resource on one platform, typed inputs and state beside its lifecycle.

The shape of pulumi-go-provider's `infer`: a handler declares `Args` (what a user declares, validated
at check) and `State` (what the resource records: its outputs, with its inputs as recorded), and
implements the lifecycle, each call with one signature for every resource and platform:

    create(args, marker)        -> (id, state)    marker: the resource's creation marker, or None
    read(id, recorded)          -> state, or None when the object is gone (refresh drops it)
    update(id, recorded, args)  -> state
    delete(id, recorded)        -> None           already gone is success

`recorded` is what the engine holds for the resource, typed: an instance of the handler's
`Recorded` model, derived from its State and Args when the class is made (recorded_model), never
written by hand. The engine hands back the last state's outputs, with the inputs riding along
(read, update, delete, diff), or the old inputs alone (check: refuse_changes, customer_name), so:
- its fields are the State's (the outputs) and the Args' (the inputs as recorded), each Optional:
  check's old inputs hold no outputs, and state written by an earlier release may lack a field;
- their types are lenient: the declared type without its constraints, validators or strictness, a
  Literal as its values' type, a nested declaration (a model) as the mapping the engine recorded
  (compared with the new declaration's values and shown in messages as it was). A recorded value
  need not be a valid declaration: a read records what the platform says (a name blanked in a
  console, a limit the vendor lowered), and the next refresh, update or delete must still load
  it, so that the drift is reported rather than the call failing;
- extra keys are kept: inputs that state of an earlier release may still hold, and another
  platform's fields when a declaration switches platform (the hooks still see the old state).
State stays the outputs alone: its fields are `State.output_keys()`, which decide which inputs a
user may declare and what a review treats as computed; Recorded never adds to them. A handler
that keeps the inputs as recorded in the state it returns takes `recorded.inputs()` (every input,
None where nothing was recorded).

Each resource's base class (sub_account.py, account_features.py, ...) fixes its State and what every
platform shares; a vendor's handlers (providers/handlers/<vendor>/) implement the rest. Optional
hooks are explicit class attributes or methods with defaults, never probed for: `replace_fields`
(what the API cannot change in place), `compared_fields` (what diff compares), `refuse_changes`
(changes to an existing object refused at check), `normalised` (the inputs check records),
`delete_before_replace`, and `recorded_inputs` (inputs a resource class adds to the Args' fields).
A call that cannot go on raises a PlatformError: its message is what the engine prints (see
providers/resources/provider.py), its `code` says which kind it is, stably.
"""

from __future__ import annotations

import importlib
import threading
import types
from typing import TYPE_CHECKING, Annotated, Any, Callable, ClassVar, Generic, Literal, Mapping, Optional, TypeVar, \
    Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, create_model

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


class Recorded(BaseModel):
    """What the engine recorded for one resource, typed leniently (see the module docstring). Each
    handler's model is made by recorded_model; the extra keys it allows are kept as they came."""

    model_config = ConfigDict(extra="allow")

    input_keys: ClassVar[tuple[str, ...]] = ()  # the recorded inputs: the Args' fields, then recorded_inputs

    def inputs(self) -> dict[str, Any]:
        """The recorded inputs, every one named: None where nothing was recorded."""
        return {key: getattr(self, key) for key in self.input_keys}


def lenient(annotation: Any) -> Any:
    """The type a recorded value is read as (see the module docstring): no constraint, validator or
    strictness, a Literal as its values' type, a model as the mapping recorded, at every depth."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return lenient(args[0])
    if origin is Literal:
        return Union[tuple({type(value) for value in args})]
    if origin in (Union, types.UnionType):
        return Union[tuple(lenient(arg) for arg in args)]
    if origin in (list, tuple, set, frozenset):
        return list[lenient(args[0])] if args else list
    if origin is dict:
        return dict[args[0], lenient(args[1])] if args else dict
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict[str, Any]
    return annotation


def recorded_model(handler: type[Handler]) -> type[Recorded]:
    """A handler's Recorded model: its State's fields, its Args' fields and its `recorded_inputs`,
    each Optional and lenient; extra keys allowed."""
    inputs = {**{key: info.annotation for key, info in handler.Args.model_fields.items()}, **handler.recorded_inputs}
    outputs = {key: info.annotation for key, info in handler.State.model_fields.items()}
    fields = {key: (Optional[lenient(annotation)], None) for key, annotation in {**outputs, **inputs}.items()}
    model = create_model(f"{handler.__name__}Recorded", __base__=Recorded, __module__=handler.__module__, **fields)
    model.input_keys = tuple(inputs)
    return model


ArgsT = TypeVar("ArgsT", bound=BaseModel)
StateT = TypeVar("StateT", bound=State)


class Handler(Generic[ArgsT, StateT]):
    """One resource on one platform (see the module docstring)."""

    platform: ClassVar[str]
    Args: ClassVar[type[BaseModel]]
    State: ClassVar[type[State]]
    Recorded: ClassVar[type[Recorded]]  # derived from State and Args when the class is made (recorded_model)
    replace_fields: ClassVar[frozenset[str]] = frozenset({"platform"})
    compared_fields: ClassVar[Optional[tuple[str, ...]]] = None  # None: every field of Args
    # Inputs a resource class records beside the declared ones (name -> type): typed in Recorded too.
    recorded_inputs: ClassVar[Mapping[str, Any]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "Args") and hasattr(cls, "State") and any(
                key in cls.__dict__ for key in ("Args", "State", "recorded_inputs")):
            cls.Recorded = recorded_model(cls)

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
    def refuse_changes(cls, recorded: Optional[Recorded], args: ArgsT) -> list[tuple[str, str]]:
        """(field, reason) for each change the platform cannot make to the existing object; `recorded`
        is its recorded inputs, None when there is none yet (a create)."""
        return []

    @classmethod
    def normalised(cls, args: ArgsT) -> dict[str, Any]:
        """The inputs check hands the engine (what diff and the next check compare)."""
        return args.model_dump()

    @classmethod
    def delete_before_replace(cls, recorded: Recorded, news: Mapping[str, Any]) -> bool:
        """Whether a replacement deletes the old object first; `news` are the checked inputs, which
        may still hold unknown values in a preview (so a mapping, not a model)."""
        return False

    # --- the lifecycle ----------------------------------------------------------------------------
    def create(self, args: ArgsT, marker: Optional[str]) -> tuple[str, StateT]:
        raise NotImplementedError

    def read(self, id_: str, recorded: Recorded) -> Optional[StateT]:
        raise NotImplementedError

    def update(self, id_: str, recorded: Recorded, args: ArgsT) -> StateT:
        raise NotImplementedError

    def delete(self, id_: str, recorded: Recorded) -> None:
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
