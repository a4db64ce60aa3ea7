"""How the resources compare and check inputs: what the engine holds against what a user declared.

The engine drops nulls, carries every number as a float and shows unknown values in a preview; these
helpers compare and validate inputs the way the engine stores them, and word each failure the way
the engine prints it. (Programs of earlier releases import `with_refused_value` from here.)
"""

from __future__ import annotations

from collections.abc import Mapping  # typing's alias makes every isinstance check several times slower
from typing import Any, Callable, Iterable, Optional, Type

from pulumi.dynamic import CheckFailure, DiffResult
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel, ValidationError

from ..validators import validation_problems
from .markers import MARKER_KEY

PROVIDER_KEY = "__provider"


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


def with_refused_value(reason: str, value: Any) -> str:
    """The engine prints `value {<nil>}` for nested fields, so the reason itself names what was refused."""
    # The engine carries every number as a float: a whole one is shown as the user wrote it (-5, not -5.0).
    shown = repr(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)
    if isinstance(value, (dict, list)) or shown in reason or len(shown) > 80:
        return reason
    return f"{reason} (got {shown})"


def validation_failures(error: ValidationError, model: Type[BaseModel], context: str) -> list[CheckFailure]:
    failures = []
    for problem in validation_problems(error):
        if problem.kind == "extra_forbidden":
            owner = model
            for part in problem.loc[:-1]:  # walk to the nested model that rejected the key
                field = owner.model_fields.get(str(part))
                ann = getattr(field, "annotation", None) if field else None
                owner = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), owner)
            supported = ", ".join(owner.model_fields)
            reason = f"unknown setting {context}; supported: {supported}"
        elif problem.kind == "missing":
            reason = "is required"
        else:
            reason = with_refused_value(problem.message, problem.value)
        failures.append(CheckFailure(problem.path or "(inputs)", reason))
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
    (`{map[email:{...}]}`) and a nested or missing field as `{<nil>}`, so those carry the property name in
    the reason instead; every reason is a sentence."""
    shown = []
    for failure in failures:
        # The engine prints `value {V}` from its top-level inputs: a map or list as a Go dump, and a nested
        # field (`owner.email`) or a missing one as `{<nil>}`: those name the property in the reason instead.
        # (A provider setting, `cakemail:username`, keeps its key as the property: its reason names it too.)
        declared_field = failure.property and ":" not in failure.property
        if declared_field and (failure.property not in inputs
                               or isinstance(inputs.get(failure.property), (Mapping, list, tuple))):
            shown.append(CheckFailure("", sentence(f"{failure.property}: {failure.reason}")))
        else:
            shown.append(CheckFailure(failure.property, sentence(failure.reason)))
    return shown


def check_platform(inputs: Mapping[str, Any], resource: str) -> Optional[CheckFailure]:
    """Say what exists when the platform is missing, unknown, or does not offer `resource` (only the
    declared platform's description is imported, unless it offers no such resource)."""
    from ..platforms import describe, names, offering

    platform = inputs.get("platform")
    if is_unknown(platform):
        return None
    if platform is None:
        return CheckFailure("platform", f"is required; one of: {', '.join(names())}")
    if not isinstance(platform, str) or platform not in names():
        return CheckFailure("platform", f"unknown platform {platform!r}; supported: {', '.join(names())}")
    if not describe(platform).offers(resource):
        return CheckFailure("platform", f"{resource} is not offered on {platform}: its API has no such object; "
                                        f"{resource} supports: {', '.join(offering(resource))}")
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
