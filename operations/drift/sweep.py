"""`fleet drift` in one pass: every selected customer's recorded state read from the backend at once,
the vendors read concurrently under a request budget, each resource judged by the providers' own
read and diff (read.py), in this process: no engine run per customer.

- State: one read of the backend (operations/backend/state.py); a stack it cannot interpret
  (another checkpoint version, pending operations, values only the engine decrypts) is checked by
  the engine path instead, and the result says so. Write-only secrets (a subuser's password) are
  carried opaque, never decrypted, where the stack's history shows the declared one is the recorded
  one (secrets.py); otherwise that customer goes to the engine too.
- Identities (identities.py): one session and one credential look-up per partner identity; a budget
  per environment and vendor bounds concurrency and rate, Retry-After included, for the sweep's
  duration only.
- Bulk reads: one listing of a partner's Cakemail accounts, or of its Sign-Up.to companies, primes
  the clients' per-pass answers, so the providers' reads of those accounts make no request.
- `confirm`: the customers found drifted are refreshed by the engine (preview only) too; a verdict
  that differs is an error of this tool, reported on that customer.
Only GET requests (and Cakemail's token exchange) are made.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

from providers.http import ApiError
from providers.platforms import describe
from providers.platforms.clients import shared_client, under_budget
from providers.platforms.settings import InvalidSetting, MissingCredentials

from ..backend.location import Backend, BackendError, current_backend
from ..backend.state import RecordedStack, read_stacks
from ..backend.updates import last_update_configs
from ..differences import CodeDifference, FieldDrift, code_facts, drift_facts, drift_words
from ..values import comparable
from ..engine.automation import project_workspace
from ..engine.environment import EngineSetupError, engine_env
from ..engine.errors import one_line_error
from ..engine.passphrase import KEYRING
from ..fleet.customer import run_customer
from ..fleet.models import CustomerResult, Display, FleetReport, NoDisplay, now_utc
from ..project.program import load_composition
from ..project.stacks import CustomerStack, project_name
from .identities import Budgets, CredentialsError, IdentityGroup, group_by_identity, provider_config
from .read import code_verdict, engine_only, kind_of, refresh_verdict
from .secrets import needs_engine, recorded_write_only, with_opaque_state

# A primed listing stays usable for the whole sweep: its answers count as read when listed.
PRIMED_FOR_SECONDS = 600.0


class Sweep:
    def __init__(self, stacks: Sequence[CustomerStack], project_dir: Path, env: Optional[dict[str, str]] = None,
                 states: Optional[dict[str, RecordedStack]] = None, recorded_too: bool = False):
        """`states`: the stacks' recorded state when the caller has read it already; `recorded_too`: the
        code's comparison also names what an `up` would only record (read.code_verdict), and `observed`
        collects the customers whose platform readings differ from their recorded outputs (operations/changes/)."""
        self.stacks, self.project_dir = list(stacks), project_dir
        self.given_states, self.recorded_too, self.observed = states, recorded_too, set()
        self.env = env if env is not None else engine_env()
        self.project = project_name(project_dir)
        self.budgets = Budgets(project_dir)
        self.composition = load_composition(project_dir)
        self.notes: list[str] = []
        self._decrypted, self._decrypt_seconds, self._lock = 0, 0.0, threading.Lock()
        self._derivations_before = KEYRING.derivations

    # --- the whole pass -----------------------------------------------------------------------------
    def run(self, display: Display = NoDisplay(), confirm: bool = False, parallel: Optional[int] = None) -> FleetReport:
        started, started_at = time.monotonic(), now_utc()
        results, to_engine, read = self.judge(display)
        engine = self._engine([s for s, _ in to_engine], display, parallel)
        by_reason: dict[str, list[str]] = {}
        for stack, reason in to_engine:
            results[stack.name] = engine[stack.name]
            by_reason.setdefault(reason, []).append(stack.name)
        for reason, names in by_reason.items():
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            self.notes.append(f"checked by the engine ({reason}): {', '.join(names[:10])}{more}")
        if confirm:
            self._confirm(results, parallel)
        ordered = [results[s.name] for s in self.stacks]
        concurrency = sum(b.concurrency for b in self.budgets.all) or 1
        report = FleetReport(operation="drift", started_at=started_at, parallel=concurrency, exit_status=0,
                             duration_seconds=round(time.monotonic() - started, 2), customers=ordered,
                             rate_limit_wait_seconds=round(sum(b.rate_waits.seconds for b in self.budgets.all), 2))
        self.notes.insert(0, f"sweep: {read} customer(s) read in one pass with {self.budgets.requests} "
                             f"API request(s), {len(to_engine)} by the engine")
        if self._decrypted:
            derived = KEYRING.derivations - self._derivations_before
            self.notes.insert(1, f"credentials: {self._decrypted} identit{'y' if self._decrypted == 1 else 'ies'} "
                                 f"decrypted in memory ({derived} passphrase key derivation(s); "
                                 f"{self._decrypt_seconds:.1f} s in all)")
        return report

    def judge(self, display: Display = NoDisplay()) -> tuple[dict[str, CustomerResult],
                                                           list[tuple[CustomerStack, str]], int]:
        """The one pass without the engine: the results of the customers it read (and of those it could
        not: not deployed, failed), the customers it leaves to the engine with the reason, and how many
        it read."""
        results: dict[str, CustomerResult] = {}
        states, backend_problem = (self.given_states, None) if self.given_states is not None else self._states()
        to_engine: list[tuple[CustomerStack, str]] = []
        to_read: list[CustomerStack] = []
        for stack in self.stacks:
            state = states.get(stack.name)
            if backend_problem is not None:
                results[stack.name] = self._result(stack, "failed", error=backend_problem)
            elif state.status == "not deployed":
                results[stack.name] = self._result(stack, "not deployed")
            elif state.status == "unreadable":
                results[stack.name] = self._result(stack, "failed", error=state.reason)
            elif state.status == "engine" or engine_only(state.resources):
                to_engine.append((stack, state.reason or engine_only(state.resources)))
            else:
                to_read.append(stack)
        to_read, secret_bound = write_only_verdicts(to_read, states, current_backend(self.env))
        to_engine += secret_bound

        for stack in self.stacks:
            if stack.name in results:
                display.finish(results[stack.name])
        results.update(self._read_all(to_read, states, display))
        return results, to_engine, len(to_read)

    def _states(self) -> tuple[dict[str, RecordedStack], Optional[str]]:
        backend: Optional[Backend] = current_backend(self.env)
        if backend is None:
            reason = "no state backend configured (PULUMI_BACKEND_URL or `pulumi login`): read by the engine"
            return {s.name: RecordedStack(name=s.name, status="engine", reason=reason) for s in self.stacks}, None
        try:
            return read_stacks(backend, self.project, [s.name for s in self.stacks]), None
        except BackendError as exc:
            return {}, str(exc)

    # --- reading, identity by identity ------------------------------------------------------------------
    def _read_all(self, stacks: list[CustomerStack], states: dict[str, RecordedStack],
                  display: Display) -> dict[str, CustomerResult]:
        groups = group_by_identity(stacks, self.env)
        # Identities needing no decryption start first; a decryption may derive a key (CPU) or start the engine.
        groups.sort(key=lambda g: g.identity.secrets_from is not None)
        # One pool of readers per budget, as many as it lets through at once: a reader waiting for one
        # vendor's turn never holds up another vendor's customers.
        readers = {(g.identity.environment, g.identity.platform): ThreadPoolExecutor(
            max_workers=self.budgets.spec(g.identity.environment, g.identity.platform).concurrency,
            thread_name_prefix=f"read-{g.identity.platform}") for g in groups}
        results: dict[str, CustomerResult] = {}
        self._budgeted = contextlib.ExitStack()  # the budgets hold for this pass only (see _identity)
        try:
            # A decryption is CPU-bound (a key derivation, hashlib releases the GIL; or an engine process): two per core.
            with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1), thread_name_prefix="identity") as identities:
                pending = [identities.submit(self._identity, g, states,
                                             readers[(g.identity.environment, g.identity.platform)], display)
                           for g in groups]
                for future in pending:
                    for customer in future.result():
                        result = customer.result()
                        results[result.stack] = result
        finally:
            for pool in readers.values():
                pool.shutdown(wait=True)
            with self._lock:
                self._budgeted.close()
        return results

    def _identity(self, group: IdentityGroup, states: dict[str, RecordedStack], readers: ThreadPoolExecutor,
                  display: Display) -> list[Future]:
        """Credentials once, the bulk listing once, then every customer of the identity."""
        try:
            began = time.monotonic()
            config = provider_config(group, self.project_dir, self.env)
            if group.identity.secrets_from is not None:
                with self._lock:
                    self._decrypted += 1
                    self._decrypt_seconds += time.monotonic() - began
            platform = describe(group.identity.platform)
            client = shared_client(platform.name, config)
        except (CredentialsError, MissingCredentials, InvalidSetting, ValueError, KeyError) as exc:
            return [self._done(self._result(s, "failed", error=str(exc)), display) for s in group.stacks]
        with self._lock:  # the client is the process's: its budget is restored when the pass ends
            self._budgeted.enter_context(under_budget(client, self.budgets.for_identity(group.identity)))
        if platform.prime_reads is not None:  # the platform's bulk read: one listing serves the pass's reads
            try:
                platform.prime_reads(client, PRIMED_FOR_SECONDS)
            except ApiError as exc:
                if exc.status in (401, 403):  # refused credentials: every customer of this identity, one request
                    return [self._done(self._result(s, "failed", error=str(exc)), display)
                            for s in group.stacks]
                self.notes.append(f"{group.identity.describe()}: the bulk listing failed ({exc}); read one by one")
        return [readers.submit(self._customer, s, states[s.name], config, display) for s in group.stacks]

    @staticmethod
    def _done(result: CustomerResult, display: Display) -> Future:
        display.finish(result)
        future: Future = Future()
        future.set_result(result)
        return future

    def _customer(self, stack: CustomerStack, state: RecordedStack, config: dict, display: Display) -> CustomerResult:
        started = time.monotonic()
        display.start(stack.name)
        drift: list[FieldDrift] = []
        refreshed = []  # the state as a refresh would leave it: what the code is compared with
        try:
            for resource in state.resources:
                if kind_of(resource):
                    display.step(stack.name, f"read {kind_of(resource)} {resource.name}")
                    found, after = refresh_verdict(resource, config, self.project)
                    drift += found
                    if after is not None:
                        refreshed.append(after)
                        if comparable(after.outputs) != comparable(with_opaque_state(resource).outputs):
                            self.observed.add(stack.name)
            code = (code_verdict(self.composition, stack.name, stack.declaration, refreshed, config, self.project,
                                 recorded_too=self.recorded_too)
                    if self.composition is not None else None)
        except Exception as exc:  # noqa: BLE001 - one customer's failure is that customer's only
            result = self._result(stack, "failed", drift=drift, error=one_line_error(exc, []), started=started)
        else:
            result = self._result(stack, "drift" if drift or code else "no changes", drift=drift,
                                  differs_from_code=code, started=started)
        display.finish(result)
        return result

    # --- the engine path, for what the sweep leaves to it --------------------------------------------
    def _engine(self, stacks: list[CustomerStack], display: Display,
                parallel: Optional[int]) -> dict[str, CustomerResult]:
        if not stacks:
            return {}
        try:
            workspace = project_workspace(self.project_dir, self.env)
        except EngineSetupError as exc:
            return {s.name: self._result(s, "failed", error=str(exc)) for s in stacks}

        def one(stack: CustomerStack) -> CustomerResult:
            display.start(stack.name)
            result = run_customer(stack, "drift", workspace, on_step=lambda text: display.step(stack.name, text))
            display.finish(result)
            return result

        with ThreadPoolExecutor(max_workers=parallel or os.cpu_count() or 1, thread_name_prefix="engine") as pool:
            return {r.stack: r for r in pool.map(one, stacks)}

    def _confirm(self, results: dict[str, CustomerResult], parallel: Optional[int]) -> None:
        """The drifted customers again, by the engine's refresh in preview mode; any other verdict is our error."""
        drifted = [s for s in self.stacks if results[s.name].drift and results[s.name].result == "drift"]
        engine = self._engine(drifted, NoDisplay(), parallel)
        for stack in drifted:
            mine, theirs = results[stack.name], engine[stack.name]
            if theirs.result == "failed":
                mine.error = f"--confirm: the engine's refresh failed: {theirs.error}"
                mine.result = "failed"
            elif drift_facts(mine.drift) != drift_facts(theirs.drift) or (
                    mine.differs_from_code is not None and theirs.differs_from_code is not None
                    and code_facts(mine.differs_from_code) != code_facts(theirs.differs_from_code)):
                mine.error = (f"error of email-partners: the sweep and the engine disagree on this customer: sweep "
                              f"{drift_words(mine.drift)}; engine {drift_words(theirs.drift)}")
                mine.result, mine.drift, mine.differs_from_code = "failed", theirs.drift, theirs.differs_from_code
        self.notes.append(f"--confirm: {len(drifted)} drifted customer(s) refreshed by the engine (preview only)")

    def _result(self, stack: CustomerStack, result: str, drift: Optional[list[FieldDrift]] = None,
                differs_from_code: Optional[list[CodeDifference]] = None, error: Optional[str] = None,
                started: Optional[float] = None) -> CustomerResult:
        return CustomerResult(stack=stack.name, customer=stack.customer, platform=stack.platform,
                              environment=stack.environment, operation="drift", result=result, drift=drift or [],
                              differs_from_code=differs_from_code, error=error,
                              duration_seconds=round(time.monotonic() - started, 2) if started else 0.0)


def write_only_verdicts(stacks: list[CustomerStack], states: dict[str, RecordedStack], backend: Optional[Backend]
                        ) -> tuple[list[CustomerStack], list[tuple[CustomerStack, str]]]:
    """Those whose write-only secrets the one pass can carry opaque, and those it leaves to the engine,
    with the reason (secrets.py): the last update's config is read only where it decides."""
    asking = {s.name: states[s.name].key for s in stacks
              if states[s.name].key and any(recorded_write_only(r) for r in states[s.name].resources)}
    try:
        configs = last_update_configs(backend, asking) if asking else {}
    except BackendError as exc:
        return [s for s in stacks if s.name not in asking], [(s, str(exc)) for s in stacks if s.name in asking]
    readable, engine = [], []
    for stack in stacks:
        reason = needs_engine(stack.declaration, states[stack.name].resources, configs.get(stack.name))
        if reason:
            engine.append((stack, reason))
        else:
            readable.append(stack)
    return readable, engine


def sweep(stacks: Sequence[CustomerStack], project_dir: Path, display_for=None, confirm: bool = False,
          parallel: Optional[int] = None) -> FleetReport:
    """`fleet drift` without `--engine`: the report, with the notes printed under its table.
    `display_for(operation, customers)`: a live display's context (none by default)."""
    runner = Sweep(stacks, project_dir)
    with (display_for("drift", len(stacks)) if display_for else contextlib.nullcontext(NoDisplay())) as display:
        report = runner.run(display, confirm=confirm, parallel=parallel)
    report.notes = runner.notes
    return report
