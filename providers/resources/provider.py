"""What the engine calls, for every resource: `platform` picks the handler, inputs are checked, and
each call is handed to the handler's typed lifecycle (providers/handlers/base.py).

The resources' provider classes (one per resource, beside its resource class) are this class with
their resource's name, State and the extra checks of that resource. They are pickled into state by
reference (`providers.resources.sub_account.SubAccountProvider`): keep their names and modules, and
put nothing in instance attributes before `configure` (which runs only in the provider process), or
every resource of every stack shows `~ __provider` and state written before no longer loads.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, CreateResult, DiffResult, ReadResult, \
    ResourceProvider, UpdateResult

from ..handlers.base import Handler, Recorded, handler_of
from .common import PROVIDER_KEY, check_platform, diff_fields, presented, user_inputs, validate, with_defaults
from .diagnostics import report_loaded_modules, servicer_call
from .markers import MARKER_KEY
from .owners import CreateGuard, managed_by, servicer_urn

ENGINE_CALLS = ("check", "diff", "create", "read", "update", "delete")


def _worded_for_the_engine(method: Callable) -> Callable:
    """An error raised to the engine reads as its own message: the dynamic provider server (through gRPC)
    would prefix it with `Exception calling application:`; details set on the call win over that text."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            _, context = servicer_call()  # the SDK's private behaviour: see diagnostics.py
            if context is not None:
                context.set_details(str(exc) or type(exc).__name__)
            raise
    return call


class PlatformProvider(ResourceProvider):
    """One resource on every platform (see the module docstring)."""

    resource = ""
    output_keys: tuple[str, ...] = ()   # the resource's State fields (outputs), never declared by a user
    ignored_inputs: tuple[str, ...] = ()  # inputs that state written by an earlier release may still hold
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

    def handler_class(self, platform: Any) -> Optional[type[Handler]]:
        """The handler class of an offered platform, else None (unknown, or not offered)."""
        return handler_of(platform, self.resource)

    def _handler(self, platform: str) -> Handler:
        handler = self.handler_class(platform)(getattr(self, "_stack_config", None) or {})
        handler.managed_by = managed_by(servicer_urn())  # None outside an engine call (fleet drift's reads)
        return handler

    def _args(self, handler: Handler, props: dict[str, Any]):
        return handler.Args.model_validate(user_inputs(props, (*self.output_keys, *self.ignored_inputs)))

    @staticmethod
    def recorded(handler: Handler | type[Handler], props: dict[str, Any]) -> Recorded:
        """What the engine recorded (outputs with inputs, or check's old inputs) as the handler's typed
        Recorded model; the pickled provider is the engine's business, not the handler's."""
        return handler.Recorded.model_validate({k: v for k, v in props.items() if k != PROVIDER_KEY})

    # --- check and diff ---------------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        try:
            result = self.check_inputs(olds, news)
            return CheckResult(result.inputs, presented(result.failures, result.inputs))
        finally:
            report_loaded_modules()

    def check_inputs(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The checks themselves (subclasses add theirs here); `check` words the failures for the engine."""
        inputs = user_inputs(news, (*self.output_keys, *self.ignored_inputs))
        failure = check_platform(inputs, self.resource)
        if failure:
            return CheckResult(inputs, [failure])
        handler = self.handler_class(inputs.get("platform"))
        if handler is None:  # platform still unknown in preview
            return CheckResult(inputs, [])
        model, failures = validate(handler.Args, inputs, f"for {inputs['platform']} {self.resource}")
        failures += self.settings_failures(inputs["platform"])
        if model is None:
            # With an input still unknown (preview), keep the defaults the model would add, so the plan
            # does not show them as removed (`- adopt_existing: false`) next to the unknown value.
            return CheckResult(with_defaults(handler.Args, inputs) if not failures else inputs, failures)
        old_inputs = user_inputs(olds, self.output_keys)
        recorded = self.recorded(handler, old_inputs) if old_inputs else None  # None: nothing exists yet
        failures += [CheckFailure(field, reason) for field, reason in handler.refuse_changes(recorded, model)]
        normalised = handler.normalised(model)
        if news.get(MARKER_KEY) is not None:
            normalised[MARKER_KEY] = news[MARKER_KEY]
        return CheckResult(normalised, failures)

    def settings_failures(self, platform: str) -> list[CheckFailure]:
        """Provider settings missing or wrong on their face fail the preview (no request is made):
        configure() has run by the time the engine calls check()."""
        config = getattr(self, "_stack_config", None)
        if config is None:
            return []
        from ..platforms import describe
        from ..platforms.settings import settings_problems

        return [CheckFailure(key, reason) for key, reason in settings_problems(describe(platform), config)]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the fields the handler compares; replace where its API cannot change in place."""
        report_loaded_modules()
        handler = self.handler_class(news.get("platform")) or self.handler_class(olds.get("platform"))
        if handler is None:
            return diff_fields(olds, news, ("platform",), lambda f: True)
        return diff_fields(olds, news, handler.compared(), lambda f: f in handler.replace_fields,
                           delete_before_replace=handler.delete_before_replace(self.recorded(handler, olds), news))

    # --- the lifecycle: the handler's, typed ------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        handler = self._handler(props["platform"])
        args = self._args(handler, props)
        guard = CreateGuard(props["platform"], self.resource, getattr(self, "_stack_config", None) or {})
        guard.before(props)  # one owner per vendor object (owners.py): refused before any request
        handler.managed_elsewhere = guard.managed_elsewhere
        id_, state = handler.create(args, props.get(MARKER_KEY))
        recorded = _with_marker(state.recorded(), props)
        guard.after(id_, recorded)
        return CreateResult(id_, recorded)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        handler = self._handler(props["platform"])
        state = handler.read(id_, self.recorded(handler, props))
        if state is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        outs = _with_marker(state.recorded(), props)  # the class's own input: a refresh must not drop it (no drift)
        inputs = {k: outs[k] for k in handler.Args.model_fields if k in outs}
        if props.get(MARKER_KEY) is not None:
            inputs[MARKER_KEY] = props[MARKER_KEY]
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        handler = self._handler(news["platform"])
        recorded = self.recorded(handler, olds)
        return UpdateResult(_with_marker(handler.update(id_, recorded, self._args(handler, news)).recorded(), news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        handler = self._handler(props["platform"])
        handler.delete(id_, self.recorded(handler, props))


def _with_marker(outs: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """The outputs with the resource's creation marker: a read gets only the outputs (the SDK passes
    no inputs), and gives the marker back as an input from them, so a refresh never drops it."""
    if props.get(MARKER_KEY) is not None:
        outs.setdefault(MARKER_KEY, props[MARKER_KEY])
    return outs


for _call in ENGINE_CALLS:  # the base class's own engine calls (subclasses get theirs in __init_subclass__)
    setattr(PlatformProvider, _call, _worded_for_the_engine(getattr(PlatformProvider, _call)))
