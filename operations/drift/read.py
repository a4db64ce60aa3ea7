"""One customer's drift from its recorded state, by the providers' own code, as a refresh runs it.

For each recorded resource the engine's refresh (pkg/resource/deploy/step.go, RefreshStep) calls
the provider's `read(id, recorded outputs)` (the Python dynamic-provider server hands the state's
outputs over as `props`); a result without an id means gone. Otherwise the new state is the read's
outputs and inputs (the recorded inputs when the read gives none), and the verdict is the
provider's own `diff(id, new outputs, recorded inputs)`: the diff an `up` of an unchanged program
would make right after that refresh, inverted. The per-field report is `resource_drift`
(operations/differences.py), the function behind the engine path's report too.

The second question, whether the code differs from what is recorded (after a `fleet refresh` the
state is the platform, so only this shows it), is answered as a preview would: the program's plan
(`stacks/customer.py`), each resource's declared props normalised by the provider's `check` and
compared by its `diff`, in this process.

Values pass through the same conversion the engine's wire applies (numbers as floats, nulls in
objects dropped), so the providers see exactly what they see in a refresh.
"""

from __future__ import annotations

from typing import Any, Optional

from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc

from providers.resources.catalog import PROVIDERS, TYPE_PREFIX, engine_props
from providers.resources.common import PROVIDER_KEY

from ..backend.state import RecordedResource
from ..differences import CodeDifference, FieldDrift, resource_drift
from ..values import SECRET_SIG, comparable, field_differences
from .secrets import holds_other_secrets, shown, with_opaque_declaration, with_opaque_state


def as_engine_passes(value: dict[str, Any], keep_unknowns: bool = False) -> dict[str, Any]:
    """A property map as a provider receives it over gRPC: through a protobuf Struct and the SDK's own
    deserialisation (every number a float, nulls inside objects dropped; with `keep_unknowns`, as the
    dynamic provider server hands `check` and `diff` their news: a value unknown in a preview, the
    SDK's UNKNOWN, as an `Unknown`). Plain JSON data takes a direct path with the same result
    (tests/unit/test_engine_wire.py holds the two equal); anything the SDK treats specially (a secret,
    an asset, a resource reference, an unknown) goes through the SDK itself."""
    try:
        return _plain_wire(value)
    except _Special:
        pass
    struct = struct_pb2.Struct()
    struct.update(wire_values(value))
    return rpc.deserialize_properties(struct, keep_unknowns or None)


class _Special(Exception):
    """A value only the SDK's own deserialisation may convert."""


def _plain_wire(value: Any) -> Any:
    """Struct.update then deserialize_properties, for plain JSON data: numbers as floats (bools stay
    bools), nulls dropped from objects (kept in lists), tuples as lists."""
    if isinstance(value, dict):
        if SECRET_SIG in value:  # the engine's marker of a secret, an asset, a resource reference
            raise _Special
        converted = {}
        for key, item in value.items():
            item = _plain_wire(item)
            if item is not None:
                converted[key] = item
        return converted
    if isinstance(value, (list, tuple)):
        return [_plain_wire(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value != rpc.UNKNOWN:
        return value
    raise _Special


def wire_values(value: Any) -> Any:
    """The value as the wire carries it: lists, and an `Unknown` as the SDK's UNKNOWN (as the engine shows it)."""
    from pulumi.output import Unknown

    if isinstance(value, dict):
        return {k: wire_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_values(v) for v in value]
    return rpc.UNKNOWN if isinstance(value, Unknown) else value


def kind_of(resource: RecordedResource) -> Optional[str]:
    """The resource's kind when it is one of this project's resources (a provider of its catalog)."""
    return resource.kind if resource.type.startswith(TYPE_PREFIX) and resource.kind in PROVIDERS else None


def engine_only(resources: list[RecordedResource]) -> Optional[str]:
    """Why this state needs the engine's own refresh, if it does."""
    for r in resources:
        if not r.managed:
            continue
        if kind_of(r) is None:
            return f"resource {r.name} is a {r.type}, which only the engine reads"
        if r.delete or r.pending_replacement or r.external or r.init_errors:
            return f"resource {r.name} is pending deletion, replacement or initialisation"
        if holds_other_secrets(r):  # write-only secrets are carried opaque (secrets.py)
            return f"resource {r.name} holds encrypted values"
    return None


def configured(kind: str, config: dict[str, Any], project: str):
    """A provider as the dynamic-provider server makes it: configured with the stack's config."""
    provider = PROVIDERS[kind]()
    provider.configure(ConfigureRequest(Config(raw_config=config, project_name=project)))
    return provider


def refresh_verdict(resource: RecordedResource, config: dict[str, Any],
                    project: str) -> tuple[list[FieldDrift], Optional[RecordedResource]]:
    """What a refresh of this one resource records, field by field (empty: nothing changed), and the
    resource as the refresh leaves it in state (None: gone from the platform)."""
    kind = kind_of(resource)
    resource = with_opaque_state(resource)
    provider = configured(kind, config, project)
    old_inputs, old_outputs = as_engine_passes(resource.inputs), as_engine_passes(resource.outputs)
    result = provider.read(resource.id, old_outputs)
    if not result.id:
        return resource_drift(resource.name, kind, resource.inputs, resource.outputs, None, None), None
    new_outputs = as_engine_passes({**(result.outs or {}), PROVIDER_KEY: old_outputs.get(PROVIDER_KEY)})
    new_inputs = (as_engine_passes({**result.inputs, PROVIDER_KEY: old_outputs.get(PROVIDER_KEY)})
                  if result.inputs is not None else old_inputs)
    refreshed = resource.model_copy(update={"id": result.id, "inputs": new_inputs, "outputs": new_outputs})
    diff = provider.diff(result.id, new_outputs, old_inputs)
    changed = diff.changes if diff.changes is not None else comparable(new_inputs) != comparable(old_inputs)
    if not changed:
        return [], refreshed
    return resource_drift(resource.name, kind, resource.inputs, resource.outputs, new_inputs, new_outputs), refreshed


# --- the code against the state ------------------------------------------------------------------------

def code_verdict(composition: Any, stack: str, declaration: dict[str, Any],
                 resources: list[RecordedResource], config: dict[str, Any], project: str,
                 recorded_too: bool = False) -> list[CodeDifference]:
    """What `up` would change, field by field: the declaration (checked and diffed by the providers)
    against `resources` as a refresh leaves them (the platform), as the plan of a `preview --refresh`
    says it. `declared` is the code's value, `actual` the platform's. `resources` come from
    refresh_verdict (write-only secrets opaque), and so do the declaration's (secrets.needs_engine
    has made sure the two are the same value).

    `recorded_too`: also what an `up` would write into the state without changing the platform, as
    op "record": an input the provider does not compare (its diff says no change, the engine's plan
    says "same", and the `up` records the new value all the same), and the SubAccount's `protect`
    option (the engine records it without a step)."""
    declaration = with_opaque_declaration(declaration)
    try:
        planned = composition.plan(stack, composition.CustomerDeclaration.model_validate(declaration))
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return [CodeDifference(resource=stack, type="Customer", op="update", field="customer",
                               declared=f"invalid declaration: {first}")]
    recorded = {(kind_of(r), r.name): r for r in resources if kind_of(r)}
    by_name = {r.name: r for r in recorded.values()}
    found: list[CodeDifference] = []
    planned_ops: dict[str, str] = {}  # what the plan does to each resource so far: a dependent's link may be unknown
    for item in planned:
        old = recorded.pop((item.kind, item.name), None)
        if old is None:
            found.append(CodeDifference(resource=item.name, type=item.kind, op="create"))
            planned_ops[item.name] = "create"
            continue
        if recorded_too and bool(item.protect) != bool(old.protect):
            found.append(CodeDifference(resource=item.name, type=item.kind, op="record", field="protect",
                                        declared=bool(item.protect), actual=bool(old.protect)))
        props = dict(item.props)
        for key, (source, attribute) in item.links.items():
            # As a preview has them: the id of a resource created or replaced, and the outputs of one changed
            # at all, are unknown until the `up` (the engine passes the SDK's UNKNOWN to check and diff).
            linked, op = by_name.get(source), planned_ops.get(source)
            if linked is None or op in ("create", "replace") or (op == "update" and attribute != "id"):
                props[key] = rpc.UNKNOWN
            else:
                props[key] = linked.id if attribute == "id" else linked.outputs.get(attribute)
        props = engine_props(item.kind, project, stack, item.name, **props)
        provider = configured(item.kind, config, project)
        news = as_engine_passes({**props, PROVIDER_KEY: old.inputs.get(PROVIDER_KEY)}, keep_unknowns=True)
        checked = provider.check(as_engine_passes(old.inputs), news)
        # Provider settings (`cakemail:username`...) are the credentials' business, not the declaration's:
        # the reads that use them say what is wrong with them.
        refused = [f for f in checked.failures if ":" not in (f.property or "")]
        if refused:
            found += [CodeDifference(resource=item.name, type=item.kind, op="update", field=f.property or None,
                                     declared=f"refused at check: {f.reason}") for f in refused]
            continue
        inputs = as_engine_passes({**checked.inputs, PROVIDER_KEY: news.get(PROVIDER_KEY)}, keep_unknowns=True)
        diff = provider.diff(old.id, as_engine_passes(old.outputs), inputs)
        differences = (field_differences(comparable(old.inputs), comparable(wire_values(inputs)))
                       if diff.changes or recorded_too else [])
        if diff.changes:
            op = planned_ops[item.name] = "replace" if diff.replaces else "update"
            found += [CodeDifference(resource=item.name, type=item.kind, op=op, field=path, declared=shown(declared),
                                     actual=shown(was))
                      for path, was, declared in differences or [(None, None, None)]]
        elif recorded_too:
            found += [CodeDifference(resource=item.name, type=item.kind, op="record", field=path,
                                     declared=shown(declared), actual=shown(was))
                      for path, was, declared in differences]
    for (kind, name), old in recorded.items():
        found.append(CodeDifference(resource=name, type=kind, op="delete"))
    return found
