"""Lifecycle glue shared by the three resources: validation at check, diff by declared fields."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import os
import sys
import threading
from typing import Any, Callable, Iterable, Mapping, Optional, Type

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel, ValidationError

PLATFORMS = ("cakemail", "signupto", "ciirus")
PROVIDER_KEY = "__provider"
# An input the resource class computes itself (never the user): see creation_marker().
MARKER_KEY = "creation_marker"
# How old an object without our marker may be and still be recognised as the one an interrupted
# create of this resource made (an exact match on every declared field is required as well).
RECOGNITION_WINDOW = dt.timedelta(hours=24)


def creation_marker(project: str, stack: str, type_: str, resource_name: str) -> str:
    """A short, deterministic id of one resource of one stack (the parts of its URN).

    It is stored with the remote object where the vendor allows, so that a create interrupted
    before the engine recorded the object is recognised by the next `up`, and never confused with
    another stack's object. It is not compared in diff: changing it never updates or replaces."""
    digest = hashlib.sha256("::".join((project, stack, type_, resource_name)).encode()).hexdigest()
    return f"ep1-{digest[:24]}"


def within_window(created: Optional[dt.datetime], now: Optional[dt.datetime] = None) -> bool:
    """Whether an object was made recently enough to be an interrupted create's (see RECOGNITION_WINDOW)."""
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return now - RECOGNITION_WINDOW <= created <= now + dt.timedelta(minutes=5)  # small clock skew


# Diagnostics: when set, the provider process writes the names of its loaded modules to this file
# after each check and diff (how the tests prove a stack loads only its own platform's code).
MODULES_REPORT_ENV = "EMAIL_PARTNERS_MODULES_REPORT"


def report_loaded_modules() -> None:
    path = os.environ.get(MODULES_REPORT_ENV)
    if path:
        partial = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(partial, "w", encoding="utf-8") as out:
            out.write("\n".join(sorted(sys.modules)))
        os.replace(partial, path)  # whole reports only, whichever thread writes last


def is_unknown(value: Any) -> bool:
    """During preview an input computed from another resource (not created yet) is a placeholder."""
    if isinstance(value, Unknown) or value == UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def without_nones(value: Any) -> Any:
    """The engine drops null values at every depth, so compare values the way it stores them."""
    if isinstance(value, Mapping):
        return {k: without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [without_nones(v) for v in value]
    return value


def user_inputs(props: Mapping[str, Any], output_keys: Iterable[str] = ()) -> dict[str, Any]:
    """What the user declared: drop the provider blob, output placeholders and unset (None) values."""
    skip = {PROVIDER_KEY, MARKER_KEY, *output_keys}
    return {k: v for k, v in props.items() if k not in skip and v is not None}


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def with_refused_value(reason: str, value: Any) -> str:
    """The engine prints `value {<nil>}` for nested fields, so the reason itself names what was refused."""
    # The engine carries every number as a float: a whole one is shown as the user wrote it (-5, not -5.0).
    shown = repr(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)
    if isinstance(value, (dict, list)) or shown in reason or len(shown) > 80:
        return reason
    return f"{reason} (got {shown})"


def validation_failures(error: ValidationError, model: Type[BaseModel], context: str) -> list[CheckFailure]:
    failures = []
    for item in error.errors():
        path = _field_path(item["loc"])
        if item["type"] == "extra_forbidden":
            owner = model
            for part in item["loc"][:-1]:  # walk to the nested model that rejected the key
                field = owner.model_fields.get(str(part))
                ann = getattr(field, "annotation", None) if field else None
                owner = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), owner)
            supported = ", ".join(owner.model_fields)
            reason = f"unknown setting {context}; supported: {supported}"
        elif item["type"] == "missing":
            reason = "is required"
        else:
            reason = with_refused_value(item["msg"].removeprefix("Value error, "), item.get("input"))
        failures.append(CheckFailure(path or "(inputs)", reason))
    return failures


def validate(model: Type[BaseModel], inputs: dict[str, Any], context: str) -> tuple[Optional[BaseModel], list[CheckFailure]]:
    """Validate what is known now; fields still unknown in preview are checked at update time."""
    unknown = {k for k, v in inputs.items() if is_unknown(v)}
    try:
        return model.model_validate(inputs), []
    except ValidationError as exc:
        failures = [f for f in validation_failures(exc, model, context) if f.property.split(".")[0] not in unknown]
        return None, failures


def with_defaults(model: Type[BaseModel], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """`inputs` plus each field's default that is not given (defaults that are None stay out, as the engine drops them)."""
    filled = dict(inputs)
    for name, info in model.model_fields.items():
        if name not in filled and not info.is_required():
            default = info.get_default(call_default_factory=True)
            if default is not None:
                filled[name] = default.model_dump() if isinstance(default, BaseModel) else default
    return filled


def sentence(text: str) -> str:
    """A message that ends with exactly one full stop (the engine and the tools print it as it is)."""
    text = text.rstrip().rstrip(".").rstrip()
    return text if text.endswith(("?", "!")) else text + "."


def presented(failures: Iterable[CheckFailure], inputs: Mapping[str, Any]) -> list[CheckFailure]:
    """Failures as the engine prints them: `property X value {V}` shows a map or list as a Go dump
    (`{map[email:{...}]}`), so those carry the property name in the reason instead; every reason is a sentence."""
    shown = []
    for failure in failures:
        if failure.property and isinstance(inputs.get(failure.property), (Mapping, list, tuple)):
            shown.append(CheckFailure("", sentence(f"{failure.property}: {failure.reason}")))
        else:
            shown.append(CheckFailure(failure.property, sentence(failure.reason)))
    return shown


def check_platform(inputs: Mapping[str, Any], offered: Mapping[str, str], resource: str) -> Optional[CheckFailure]:
    """`offered` maps each supported platform to its handler; say what exists when the choice is wrong."""
    platform = inputs.get("platform")
    if is_unknown(platform):
        return None
    if platform is None:
        return CheckFailure("platform", f"is required; one of: {', '.join(PLATFORMS)}")
    if platform not in PLATFORMS:
        return CheckFailure("platform", f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")
    if platform not in offered:
        return CheckFailure("platform", f"{resource} is not offered on {platform}: its API has no such object; "
                                        f"{resource} supports: {', '.join(offered)}")
    return None


def diff_fields(olds: Mapping[str, Any], news: Mapping[str, Any], fields: Iterable[str],
                replace_when: Callable[[str], bool], delete_before_replace: bool = False) -> DiffResult:
    """Compare only what the user controls: the recorded outputs carry the normalised inputs."""
    changed = [f for f in fields
               if is_unknown(news.get(f)) or without_nones(olds.get(f)) != without_nones(news.get(f))]
    # A value still unknown in preview (an account id while its account is updated) is not known to
    # force a replacement: the engine diffs again at `up` with the real value, and replaces then if needed.
    replaces = [f for f in changed if replace_when(f) and not is_unknown(news.get(f))]
    return DiffResult(changes=bool(changed), replaces=replaces, stables=[],
                      delete_before_replace=delete_before_replace and bool(replaces))


_handler_classes: dict[str, type] = {}
_handler_classes_lock = threading.Lock()


def handler_class(location: str) -> type:
    """The class at "package.module:Class", imported on first use: a stack pays only for its platform."""
    with _handler_classes_lock:
        if location not in _handler_classes:
            module, _, name = location.partition(":")
            _handler_classes[location] = getattr(importlib.import_module(module), name)
        return _handler_classes[location]


class PlatformHandler:
    """One resource on one platform: the lifecycle calls of that vendor's API."""

    def __init__(self, config: Mapping[str, Any]):
        self._config = config  # the stack config (credentials included): held in memory only


ENGINE_CALLS = ("check", "diff", "create", "read", "update", "delete")


def _servicer_context():
    """The gRPC context of the dynamic provider server's call that is running this one (a caller's local)."""
    frame = sys._getframe(2)
    while frame is not None:
        context = frame.f_locals.get("context")
        if hasattr(context, "set_details") and hasattr(context, "abort"):
            return context
        frame = frame.f_back
    return None


def _worded_for_the_engine(method: Callable) -> Callable:
    """An error raised to the engine reads as its own message: the dynamic provider server (through gRPC)
    would prefix it with `Exception calling application:`; details set on the call win over that text."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            context = _servicer_context()
            if context is not None:
                context.set_details(str(exc) or type(exc).__name__)
            raise
    return call


class PlatformProvider(ResourceProvider):
    """What the three resources share: `platform` picks a handler, inputs are validated at check.

    Subclasses are pickled into state by reference: keep their names and modules stable, and put
    nothing in instance attributes before `configure` (which runs only in the provider process)."""

    resource = ""
    # platform -> "package.module:Class" of its handler, imported only when that platform is used.
    handlers: Mapping[str, str] = {}
    output_keys: tuple[str, ...] = ()
    # The pickled provider holds no secret (credentials come through `configure`), so state keeps it
    # in clear: smaller, and readable. The SDK still makes it secret if a secret Output were captured.
    serialize_as_secret_always = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ENGINE_CALLS:
            if name in cls.__dict__:
                setattr(cls, name, _worded_for_the_engine(cls.__dict__[name]))

    def configure(self, req: ConfigureRequest) -> None:
        self._stack_config = req.config

    def handler_class(self, platform: Any) -> Optional[type]:
        """The handler class of an offered platform, else None (unknown, or not offered)."""
        location = self.handlers.get(platform) if isinstance(platform, str) else None
        return handler_class(location) if location else None

    def _handler(self, platform: str):
        return self.handler_class(platform)(getattr(self, "_stack_config", None) or {})

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        try:
            result = self.check_inputs(olds, news)
            return CheckResult(result.inputs, presented(result.failures, result.inputs))
        finally:
            report_loaded_modules()

    def check_inputs(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The checks themselves (subclasses add theirs here); `check` words the failures for the engine."""
        return self._check(olds, news)

    def _check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = user_inputs(news, self.output_keys)
        failure = check_platform(inputs, self.handlers, self.resource)
        if failure:
            return CheckResult(inputs, [failure])
        handler = self.handler_class(inputs.get("platform"))
        if handler is None:  # platform still unknown in preview
            return CheckResult(inputs, [])
        model, failures = validate(handler.Inputs, inputs, f"for {inputs['platform']} {self.resource}")
        failures += self.settings_failures(inputs["platform"])
        if model is None:
            # With an input still unknown (preview), keep the defaults the model would add, so the plan
            # does not show them as removed (`- adopt_existing: false`) next to the unknown value.
            return CheckResult(with_defaults(handler.Inputs, inputs) if not failures else inputs, failures)
        failures += self.refused_changes(handler, user_inputs(olds, self.output_keys), model)
        normalised = self.normalised(model)
        if news.get(MARKER_KEY) is not None:
            normalised[MARKER_KEY] = news[MARKER_KEY]
        return CheckResult(normalised, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the fields the handler compares; replace where its API cannot change in place."""
        report_loaded_modules()
        handler = self.handler_class(news.get("platform")) or self.handler_class(olds.get("platform"))
        if handler is None:
            return diff_fields(olds, news, ("platform",), lambda f: True)
        fields = getattr(handler, "compared_fields", handler.Inputs.model_fields)
        return diff_fields(olds, news, fields, lambda f: f in handler.replace_fields,
                           delete_before_replace=self.delete_first(olds, news))

    def settings_failures(self, platform: str) -> list[CheckFailure]:
        """Provider settings missing or wrong on their face fail the preview (no request is made):
        configure() has run by the time the engine calls check()."""
        config = getattr(self, "_stack_config", None)
        if config is None:
            return []
        from ..settings import settings_problems

        return [CheckFailure(key, reason) for key, reason in settings_problems(platform, config)]

    def delete_first(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        """Whether a replacement must delete the old object before creating the new one."""
        return False

    def refused_changes(self, handler, olds: dict[str, Any], model: BaseModel) -> list[CheckFailure]:
        """Changes the platform cannot make to an existing object (none by default)."""
        return []

    def normalised(self, model: BaseModel) -> dict[str, Any]:
        return model.model_dump()


for _call in ("check", "diff"):  # the base class's own engine calls (subclasses get theirs in __init_subclass__)
    setattr(PlatformProvider, _call, _worded_for_the_engine(getattr(PlatformProvider, _call)))
