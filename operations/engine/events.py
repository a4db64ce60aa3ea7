"""A run's engine events, read: the current step, the change counts, drift, the plan, errors, policies.

Everything comes from the engine's own events (the Automation API's typed `EngineEvent`s, the ones
`pulumi` renders): the summary event for the change counts, resource events for what is running
(the progress line) and for drift (the recorded and the freshly read state of each resource the
engine found changed), diagnostics for errors and policy events for mandatory rules.
"""

from __future__ import annotations

from typing import Callable

from ..differences import CodeDifference, FieldDrift, resource_drift
from ..values import ANSI, COUNTED, comparable, field_differences
from .urns import is_engine_resource, kind_of_type, name_of_urn

ADOPTION_INPUTS = ("adopt_account_id", "adopt_existing")  # a SubAccount create with one of these takes over


def _op(op) -> str:
    return getattr(op, "value", str(op))


class EventCollector:
    """Reads a run's engine events: the current step (for progress), drift, counts, errors."""

    def __init__(self, on_step: Callable[[str], None] = lambda _: None, refresh_ops_only: bool = False):
        self.on_step = on_step
        self.refresh_ops_only = refresh_ops_only
        self.counts: dict[str, int] = {}
        self.drift: list[FieldDrift] = []
        self.planned: list[CodeDifference] = []
        self.errors: list[str] = []
        self.policy_violations: list[str] = []  # mandatory ones: they are why the run failed
        self.adopting = False  # a SubAccount create that takes over an existing account

    def __call__(self, event) -> None:
        if event.resource_pre_event is not None:
            md = event.resource_pre_event.metadata
            if not is_engine_resource(md.type):
                self.on_step(f"{_op(md.op)} {kind_of_type(md.type)} {name_of_urn(md.urn)}")
                self._planned(md)
        elif event.res_outputs_event is not None:
            self._outputs(event.res_outputs_event.metadata)
        elif event.summary_event is not None:
            self.counts = {op: n for op, n in (event.summary_event.resource_changes or {}).items() if op in COUNTED and n}
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            self.errors.append(ANSI.sub("", event.diagnostic_event.message).strip())
        elif event.policy_event is not None and event.policy_event.enforcement_level == "mandatory":
            pe = event.policy_event
            where = f" on {name_of_urn(pe.resource_urn)}" if pe.resource_urn else ""
            self.policy_violations.append(f"mandatory policy {pe.policy_name}{where}: {pe.message.strip()}")

    def _planned(self, md) -> None:
        """A plan step of a preview: after a refresh in the same run, old is the platform, new the code."""
        op = _op(md.op)
        if op not in COUNTED:
            return
        name, type_ = name_of_urn(md.urn), kind_of_type(md.type)
        if op == "create" and type_ == "SubAccount" and md.new is not None and any(
                (md.new.inputs or {}).get(k) not in (None, False) for k in ADOPTION_INPUTS):
            self.adopting = True
        if op in ("create", "delete") or md.old is None or md.new is None:
            self.planned.append(CodeDifference(resource=name, type=type_, op=op))
            return
        differences = field_differences(comparable(md.old.inputs or {}), comparable(md.new.inputs or {}))
        for path, actual, declared in differences or [(None, None, None)]:
            self.planned.append(CodeDifference(resource=name, type=type_, op=op, field=path, declared=declared,
                                               actual=actual))

    def _outputs(self, md) -> None:
        """In a refresh, UPDATE (REFRESH inside a `preview --refresh`) with other values means the platform
        differs from state; DELETE, or no new state, that it is gone."""
        op = _op(md.op)
        if self.refresh_ops_only and op != "refresh":
            return  # a `preview --refresh`: its update/delete steps are the plan (see _planned), not drift
        if is_engine_resource(md.type) or op not in ("update", "delete", "refresh") or md.old is None:
            return
        name, type_ = name_of_urn(md.urn), kind_of_type(md.type)
        if op == "refresh" and md.new is not None and not field_differences(comparable(md.old.outputs or {}),
                                                                             comparable(md.new.outputs or {})):
            return  # as the engine judges a refresh: by what the platform reports, the outputs
        if op == "delete" or md.new is None:
            self.drift.extend(resource_drift(name, type_, md.old.inputs, md.old.outputs, None, None))
        else:
            self.drift.extend(resource_drift(name, type_, md.old.inputs, md.old.outputs, md.new.inputs, md.new.outputs))
