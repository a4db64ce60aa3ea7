"""The one pass of `fleet preview` and `fleet up`: which customers have something for the engine to do.

For each selected customer, in one pass over the whole selection (no engine run, no vendor request
without `refresh`):
1. what is recorded: its state read from the backend as `fleet drift` reads it (a stack never
   deployed, a checkpoint of another version, pending operations, a resource of another kind, a
   value only the engine decrypts: engine), the engine's lock on it (held: engine), and the run
   history (basis.py): its last update must have succeeded, with the same code, environment file and
   provider settings as now, and left the state that is there now (else engine, saying what changed);
2. its declaration against that state, by the providers' own `check` and `diff` in this process
   (operations/drift/read.py's code_verdict, the comparison `fleet drift` and the status page use):
   anything the `up` would change, and anything it would only record in the state (an input the
   provider does not compare, the `protect` option), sends it to the engine;
   with `refresh` (`fleet up` by default), the drift sweep reads the platform first
   (operations/drift/sweep.py) and the declaration is compared with what it read: drift, a difference
   from the code, or platform readings other than the recorded ones (a domain's DNS validation, which
   the `up`'s refresh would record) send it to the engine.
A customer is `unchanged (not run)` only when all of it holds; anything that cannot be told goes to the
engine, and its result says why (`reason`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from providers.platforms import describe, names
from providers.platforms.settings import settings_problems

from ..backend.location import BackendError, current_backend
from ..backend.locks import Lock, read_locks
from ..backend.state import RecordedStack, read_stacks
from ..differences import CodeDifference, FieldDrift, drift_words
from ..drift.read import code_verdict, engine_only
from ..drift.secrets import with_opaque_state
from ..drift.sweep import Sweep, write_only_verdicts
from ..engine.automation import policy_pack_of
from ..engine.environment import engine_env
from ..fleet.models import UNCHANGED, CustomerResult, Display, NoDisplay
from ..history.model import RunBasis, RunEntry
from ..history.runs import store_for
from ..history.store import HistoryError
from ..project.program import load_composition
from ..project.stacks import CustomerStack, project_name
from ..status.read import comparison_config
from .basis import Digests, what_changed

NAMED = 3  # resources and fields named in a reason before "and N more"


@dataclass
class Verdict:
    stack: CustomerStack
    reason: Optional[str] = None          # why the engine must run it ("kind: detail"); None: unchanged
    differences: list[CodeDifference] = field(default_factory=list)  # what the `up` would change (or record)
    drift: list[FieldDrift] = field(default_factory=list)             # with refresh: the platform against state
    basis: Optional[RunBasis] = None      # unchanged: its last update's basis, carried to this run's entry

    @property
    def unchanged(self) -> bool:
        return self.reason is None


@dataclass
class Judgement:
    operation: str
    verdicts: dict[str, Verdict]
    digests: Digests
    refresh: bool
    notes: list[str] = field(default_factory=list)
    rate_limit_wait_seconds: float = 0.0  # how long the one pass's reads waited for vendors' own limits

    def to_engine(self, stacks: Sequence[CustomerStack]) -> list[CustomerStack]:
        return [s for s in stacks if not self.verdicts[s.name].unchanged]

    def unchanged(self, stacks: Sequence[CustomerStack]) -> list[CustomerResult]:
        """`unchanged (not run)` results, each with its last update's basis carried forward."""
        results = []
        for stack in stacks:
            verdict = self.verdicts[stack.name]
            if verdict.unchanged:
                carried = (verdict.basis.model_copy(update={"read_platform": self.refresh})
                           if verdict.basis and self.operation == "up" else None)  # a preview writes nothing
                results.append(CustomerResult(stack=stack.name, customer=stack.customer, platform=stack.platform,
                                              environment=stack.environment, operation=self.operation,
                                              result=UNCHANGED, basis=carried))
        return results

    def reason(self, stack: str) -> Optional[str]:
        verdict = self.verdicts.get(stack)
        return verdict.reason if verdict else None


def kind_of(reason: str) -> str:
    return reason.split(":", 1)[0]


def _words(differences: Sequence[CodeDifference]) -> str:
    named = [f"{d.type} {d.resource}" + (f" {d.field}" if d.field else "") + (f" ({d.op})" if d.op != "update" else "")
             for d in differences]
    more = f" and {len(named) - NAMED} more" if len(named) > NAMED else ""
    return ", ".join(named[:NAMED]) + more


def gate(stack: CustomerStack, state: Optional[RecordedStack], lock: Optional[Lock],
         latest: Mapping[str, RunEntry], digests: Digests) -> tuple[Optional[str], Optional[RunBasis]]:
    """Why what is recorded leaves the verdict to the engine (None: nothing), and the basis of its
    last update (see the module docstring, step 1)."""
    if state is None or state.status == "not deployed":
        return "not deployed: the engine creates its stack's resources", None
    if state.status != "recorded":
        return f"state: {state.reason}", None
    only = engine_only(state.resources)
    if only:
        return f"state: {only}", None
    if lock is not None:
        return f"locked: a lock is held on its stack by {lock}", None
    up = latest.get("up")
    if up is None or up.basis is None:
        return ("no recorded update: email-partners has no record of its last update and what it ran "
                "(every customer runs through the engine once after this release)"), None
    writes = [e for e in (up, latest.get("refresh")) if e is not None]
    newest = max(writes, key=lambda e: e.started_at)
    failed = next((e for e in (newest, up) if e.result == "failed"), None)
    if failed is not None:
        return f"last run failed: its {failed.operation} of {failed.started_at} failed", None
    if newest.basis is None or newest.basis.state != state.digest:
        return (f"state changed: its state was written after the {newest.operation} email-partners recorded at "
                f"{newest.started_at} (`pulumi` by hand, or another tool)"), None
    changed = what_changed(up.basis, digests.basis(stack, state.digest, False), stack)
    if changed:
        return f"changed since its last update: {', '.join(changed)}", None
    return None, up.basis


def settings_verdict(stack: CustomerStack) -> Optional[str]:
    """Provider settings the preview's check refuses (missing, or wrong on their face): those in clear in
    the stack file or the environment. Encrypted ones are those its last update ran with (basis.py)."""
    platform = stack.platform
    if platform not in names():
        return None
    encrypted = {k for k, v in stack.config.items() if isinstance(v, dict)}
    plain = {k: v for k, v in stack.config.items() if k.startswith(f"{platform}:") and k not in encrypted}
    problems = [reason for key, reason in settings_problems(describe(platform), plain) if key not in encrypted]
    return f"provider settings: {'; '.join(problems)}" if problems else None


def compared(stack: CustomerStack, state: RecordedStack, composition, project: str) -> Verdict:
    """The declaration against the recorded state (no refresh): step 2 of the module docstring."""
    if composition is None:
        return Verdict(stack, "program: stacks/customer.py (the program as data) is missing")
    try:
        found = code_verdict(composition, stack.name, stack.declaration,
                             [with_opaque_state(r) for r in state.resources], comparison_config(stack), project,
                             recorded_too=True)
    except Exception as exc:  # noqa: BLE001 - what cannot be compared goes to the engine
        return Verdict(stack, f"not compared: {type(exc).__name__}: {exc}")
    return Verdict(stack, _difference_reason(found), differences=found)


def _difference_reason(found: Sequence[CodeDifference]) -> Optional[str]:
    changes = [d for d in found if d.op != "record"]
    if changes:
        return f"would change: {_words(changes)}"
    if found:
        return f"would record: {_words(found)} (the engine writes it into the state)"
    return None


def read_verdicts(stacks: list[CustomerStack], states: dict[str, RecordedStack], project_dir: Path,
                  env: Mapping[str, str], display: Display) -> tuple[dict[str, Verdict], list[str], float]:
    """With `refresh`: the drift sweep reads the platform in one pass, then the code is compared with it.
    Also the notes for the report, and how long the reads waited for vendors' own limits."""
    sweep = Sweep(stacks, project_dir, dict(env), states=states, recorded_too=True)
    results, left, _ = sweep.judge(display)
    verdicts = {stack.name: Verdict(stack, f"state: {reason}") for stack, reason in left}
    for stack in stacks:
        result = results.get(stack.name)
        if result is None:
            continue
        found = result.differs_from_code or []
        if result.result in ("failed", "not deployed"):
            reason: Optional[str] = f"not read: {result.error or result.result}"
        elif result.drift:
            reason = f"drifted: {drift_words(result.drift)}"
        else:
            reason = _difference_reason(found)
            if reason is None and stack.name in sweep.observed:
                reason = "platform readings changed: the engine's refresh records them (a domain's DNS validation...)"
        verdicts[stack.name] = Verdict(stack, reason, differences=found, drift=result.drift)
    read = sum(1 for s in stacks if s.name in results)
    notes = [f"one pass: {read} customer(s) read with {sweep.budgets.requests} API request(s)"] + [
        n for n in sweep.notes if n.startswith("credentials:") or "bulk listing failed" in n]
    return verdicts, notes, sum(b.rate_waits.seconds for b in sweep.budgets.all)


def judge(stacks: Sequence[CustomerStack], operation: str, project_dir: Path, refresh: bool = False,
          no_policy: bool = False, env: Optional[Mapping[str, str]] = None,
          display: Display = NoDisplay()) -> Judgement:
    """Every customer's verdict (see the module docstring); never raises for one customer's problem."""
    env = dict(env) if env is not None else engine_env()
    project, chosen = project_name(project_dir), [s.name for s in stacks]
    judgement = Judgement(operation, {}, Digests(project_dir, policy_pack_of(project_dir, no_policy)), refresh)
    verdicts = judgement.verdicts
    backend = current_backend(env)
    problem, states, locks, latest = None, {}, {}, {}
    try:
        states = read_stacks(backend, project, chosen) if backend is not None else {}
        locks = read_locks(backend, project, chosen)
        _, latest = store_for(env).latest(chosen, 1)
    except (BackendError, HistoryError) as exc:
        problem = f"not read: {exc}"
    if backend is None:
        problem = "not read: no state backend configured (PULUMI_BACKEND_URL or `pulumi login`)"
    candidates, also_compared = [], []
    for stack in stacks:
        if problem is not None:
            verdicts[stack.name] = Verdict(stack, problem)
            continue
        state = states.get(stack.name)
        reason, basis = gate(stack, state, locks.get(stack.name), latest.get(stack.name, {}), judgement.digests)
        reason = reason or settings_verdict(stack)
        verdicts[stack.name] = Verdict(stack, reason, basis=basis)
        if reason is None:
            candidates.append(stack)
        elif state is not None and state.status == "recorded" and not engine_only(state.resources):
            also_compared.append(stack)  # the engine's all the same; its verdict still says what would change
    candidates, secret_bound = write_only_verdicts(candidates, states, backend) if candidates else ([], [])
    for stack, reason in secret_bound:
        verdicts[stack.name] = Verdict(stack, f"write-only secret: {reason}")
    if refresh and candidates:
        found, notes, judgement.rate_limit_wait_seconds = read_verdicts(candidates, states, project_dir, env, display)
        judgement.notes += notes
    else:
        composition = load_composition(project_dir) if candidates else None
        found = {s.name: compared(s, states[s.name], composition, project) for s in candidates}
    for name, verdict in found.items():
        verdict.basis = verdicts[name].basis
        verdicts[name] = verdict
    if not refresh:
        readable, _ = write_only_verdicts(also_compared, states, backend) if also_compared else ([], [])
        composition = load_composition(project_dir) if readable else None
        for stack in readable:
            verdicts[stack.name].differences = compared(stack, states[stack.name], composition, project).differences
    judgement.notes = summary(verdicts, chosen) + judgement.notes
    return judgement


def summary(verdicts: Mapping[str, Verdict], order: Sequence[str]) -> list[str]:
    """The lines under the table: how many were not run, and who went to the engine, by kind of reason."""
    unchanged = sum(1 for v in verdicts.values() if v.unchanged)
    lines = [f"one pass: {unchanged} customer(s) unchanged (not run), {len(verdicts) - unchanged} to the engine"]
    by_kind: dict[str, list[str]] = {}
    for name in order:
        if not verdicts[name].unchanged:
            by_kind.setdefault(kind_of(verdicts[name].reason), []).append(name)
    for kind, names in by_kind.items():
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        lines.append(f"to the engine ({kind}): {', '.join(names[:10])}{more}")
    return lines
