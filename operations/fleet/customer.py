"""One customer's run inside a fleet operation: the engine call, what its events say, one result.

Everything comes from the engine's own events (the same ones `pulumi` renders): the summary event
for the change counts, resource events for what is running (the progress line) and for drift
(the recorded and the freshly read state of each resource the engine found changed).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Literal, Optional

from pulumi.automation.errors import StackNotFoundError
from pydantic import BaseModel, Field

from . import automation
from .project import CustomerStack

Result = Literal["no changes", "changes", "adopted", "drift", "failed", "not deployed"]
ADOPTION_INPUTS = ("adopt_account_id", "adopt_existing")  # a SubAccount create with one of these takes over
COUNTED = ("create", "update", "replace", "delete")
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the engine's marker of a secret value
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PENDING_RECORDS = "record(s) not validated yet"  # DomainVerification's message at its deadline
# How the Automation API's in-process language server reports a program's exception (automation/_server.py).
INLINE_ERROR_PREFIX = "python inline source runtime error: "


class FieldDrift(BaseModel):
    """A field of a resource that differs between the state and the platform."""

    resource: str = Field(description="the resource's name in the stack, e.g. acme.production-account")
    type: str = Field(description="SubAccount, AccountFeatures, SendingDomain")
    field: Optional[str] = Field(description="a dotted path; None when the whole resource is gone")
    recorded: Any = Field(None, description="the value in state (what the code last set)")
    actual: Any = Field(None, description="the value read from the platform; '[secret]' for secrets")


class CodeDifference(BaseModel):
    """A field where the platform (as just read) is not what the code declares: what `up` would change."""

    resource: str = Field(description="the resource's name in the stack")
    type: str = Field(description="SubAccount, AccountFeatures, SendingDomain")
    op: str = Field(description="what `up` would do: update, replace, create (gone from the platform), delete")
    field: Optional[str] = Field(None, description="a dotted path; None for a whole resource (create, delete)")
    declared: Any = Field(None, description="the value in the code")
    actual: Any = Field(None, description="the value on the platform; '[secret]' for secrets")


class CustomerResult(BaseModel):
    stack: str
    customer: str
    platform: Optional[str]
    environment: Optional[str]
    operation: str
    result: Result
    changes: dict[str, int] = Field(default_factory=dict, description="create/update/replace/delete counts")
    drift: list[FieldDrift] = Field(default_factory=list,
                                    description="what changed on the platform since the state was written")
    differs_from_code: Optional[list[CodeDifference]] = Field(
        None, description="`fleet drift`: where the platform is not what the code declares ([] when it is; "
                          "None when not checked). Unlike `drift`, a refresh does not clear it")
    duration_seconds: float = 0.0
    error: Optional[str] = None

    @property
    def drifted(self) -> bool:
        """The platform is not what the code says (or, where that was not checked, not what state says)."""
        return bool(self.drift) or bool(self.differs_from_code)


def _mask(value: Any) -> Any:
    """Secrets as `[secret]`, nulls dropped (the engine drops them too, so they are never drift),
    whole numbers as integers (the engine's numbers are floats: 1000.0 is shown as it shows it, 1000)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return "[secret]"
        return {k: _mask(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_mask(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def field_differences(old: dict, new: dict, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf that differs; dicts are walked, lists compared whole."""
    found = []
    for key in sorted(set(old) | set(new)):
        if key == "__provider" or key.startswith("__"):
            continue
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(field_differences(a, b, path + "."))
        elif a != b:
            found.append((path, a, b))
    return found


def resource_drift(name: str, type_: str, old_inputs: Optional[dict], old_outputs: Optional[dict],
                   new_inputs: Optional[dict], new_outputs: Optional[dict]) -> list[FieldDrift]:
    """The per-field verdict on one resource a refresh found changed (new outputs None: gone).

    The one comparison behind every drift report: the engine path feeds it the refresh events'
    old and new state, `fleet drift`'s sweep the recorded state and the providers' own read."""
    if new_outputs is None:
        return [FieldDrift(resource=name, type=type_, field=None, recorded="present", actual="gone")]
    # The declared inputs say what the code controls; outputs cover resources without inputs in a read.
    differences = (field_differences(_mask(old_inputs or {}), _mask(new_inputs or {}))
                   or field_differences(_mask(old_outputs or {}), _mask(new_outputs or {})))
    return [FieldDrift(resource=name, type=type_, field=path, recorded=recorded, actual=actual)
            for path, recorded, actual in differences]


def _type_name(type_token: str) -> str:
    return type_token.split(":")[-1]


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
            if not md.type.startswith("pulumi:"):
                self.on_step(f"{_op(md.op)} {_type_name(md.type)} {md.urn.rsplit('::', 1)[-1]}")
                self._planned(md)
        elif event.res_outputs_event is not None:
            self._outputs(event.res_outputs_event.metadata)
        elif event.summary_event is not None:
            self.counts = {op: n for op, n in (event.summary_event.resource_changes or {}).items() if op in COUNTED and n}
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            self.errors.append(ANSI.sub("", event.diagnostic_event.message).strip())
        elif event.policy_event is not None and event.policy_event.enforcement_level == "mandatory":
            pe = event.policy_event
            where = f" on {pe.resource_urn.rsplit('::', 1)[-1]}" if pe.resource_urn else ""
            self.policy_violations.append(f"mandatory policy {pe.policy_name}{where}: {pe.message.strip()}")

    def _planned(self, md) -> None:
        """A plan step of a preview: after a refresh in the same run, old is the platform, new the code."""
        op = _op(md.op)
        if op not in ("update", "replace", "create", "delete"):
            return
        name, type_ = md.urn.rsplit("::", 1)[-1], _type_name(md.type)
        if op == "create" and type_ == "SubAccount" and md.new is not None and any(
                (md.new.inputs or {}).get(k) not in (None, False) for k in ADOPTION_INPUTS):
            self.adopting = True
        if op in ("create", "delete") or md.old is None or md.new is None:
            self.planned.append(CodeDifference(resource=name, type=type_, op=op))
            return
        differences = field_differences(_mask(md.old.inputs or {}), _mask(md.new.inputs or {}))
        for path, actual, declared in differences or [(None, None, None)]:
            self.planned.append(CodeDifference(resource=name, type=type_, op=op, field=path, declared=declared,
                                               actual=actual))

    def _outputs(self, md) -> None:
        """In a refresh, UPDATE (REFRESH inside a `preview --refresh`) with other values means the platform
        differs from state; DELETE, or no new state, that it is gone."""
        op = _op(md.op)
        if self.refresh_ops_only and op != "refresh":
            return  # a `preview --refresh`: its update/delete steps are the plan (see _planned), not drift
        if md.type.startswith("pulumi:") or op not in ("update", "delete", "refresh") or md.old is None:
            return
        name, type_ = md.urn.rsplit("::", 1)[-1], _type_name(md.type)
        if op == "refresh" and md.new is not None and not field_differences(_mask(md.old.outputs or {}),
                                                                             _mask(md.new.outputs or {})):
            return  # as the engine judges a refresh: by what the platform reports, the outputs
        if op == "delete" or md.new is None:
            self.drift.extend(resource_drift(name, type_, md.old.inputs, md.old.outputs, None, None))
        else:
            self.drift.extend(resource_drift(name, type_, md.old.inputs, md.old.outputs, md.new.inputs, md.new.outputs))


def _op(op) -> str:
    return getattr(op, "value", str(op))


def one_line_error(exc: BaseException, diagnostics: list[str]) -> str:
    """The engine's own reason in one line: its error diagnostic, else the last `error:` line."""
    text = "\n".join(diagnostics) or _command_output(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if not re.match(r"(error: )?(update|preview|refresh) failed$", line)]
    errors = [line for line in meaningful if line.startswith("error:")]
    line = (errors or meaningful or [type(exc).__name__])[-1 if errors else 0]
    line = line.removeprefix("error: ").removeprefix(INLINE_ERROR_PREFIX).strip()
    return line if len(line) <= 300 else line[:297] + "..."


def _command_output(exc: BaseException) -> str:
    """A CommandError's text is "code: N / stdout: ... / stderr: ..."; the engine's words are in stderr."""
    raw = ANSI.sub("", str(exc))
    if "\n stderr: " not in raw:
        return raw
    head, stderr = raw.split("\n stderr: ", 1)
    return stderr.strip() or head.split(" stdout: ", 1)[-1]


def customer_error(stack: str, exc: BaseException, collector: EventCollector) -> str:
    """The one line a fleet report shows: the mandatory policies that blocked the run, else the engine's
    reason; for a DomainVerification deadline, where to read the records in full (never a value cut short)."""
    error = "; ".join(collector.policy_violations) or one_line_error(exc, collector.errors)
    if PENDING_RECORDS in error:
        error = (error.split(PENDING_RECORDS, 1)[0] + PENDING_RECORDS
                 + f": `email-partners dns {stack} --pending` prints them in full.")
    return error


def run_customer(stack: CustomerStack, operation: str, workspace,
                 on_step: Callable[[str], None] = lambda _: None, refresh: bool = False,
                 policy_pack=None, program=None) -> CustomerResult:
    """Run one engine operation on one customer; never raises (a fleet goes on past a failure).
    A customer not yet in the backend is created there by preview and up (its stack file stays as
    written), and is "not deployed" for refresh and drift. `program`: automation.inline_program's."""
    started = time.monotonic()
    collector = EventCollector(on_step, refresh_ops_only=operation == "drift")
    base = dict(stack=stack.name, customer=stack.customer, platform=stack.platform,
                environment=stack.environment, operation=operation)
    try:
        try:
            automation.run_operation(automation.open_stack(workspace, stack.name), operation, collector,
                                     refresh=refresh, policy_pack=policy_pack, program=program)
        except StackNotFoundError:
            if operation in ("refresh", "drift"):
                return CustomerResult(**base, result="not deployed",
                                      duration_seconds=round(time.monotonic() - started, 2))
            on_step("creating the stack in the backend")
            automation.init_stack_in_workspace(workspace, stack.name)
            automation.run_operation(automation.open_stack(workspace, stack.name), operation, collector,
                                     refresh=refresh, policy_pack=policy_pack, program=program)
    except Exception as exc:  # noqa: BLE001 - any failure belongs to this customer only
        return CustomerResult(**base, result="failed", changes=collector.counts, drift=collector.drift,
                              duration_seconds=round(time.monotonic() - started, 2),
                              error=automation.explained(customer_error(stack.name, exc, collector), stack.name))
    differs = collector.planned if operation == "drift" else None
    if operation in ("refresh", "drift") and (collector.drift or differs):
        result: Result = "drift"
    elif operation == "up" and collector.adopting and set(collector.counts) == {"create"}:
        result = "adopted"  # the creates took over what exists: nothing new on the platform
    else:
        result = "changes" if collector.counts else "no changes"
    return CustomerResult(**base, result=result, changes=collector.counts, drift=collector.drift,
                          differs_from_code=differs, duration_seconds=round(time.monotonic() - started, 2))
