"""The status page's data, read in one pass from what is already recorded: the backend's state of every
selected stack (as `fleet drift`'s sweep reads it), the engine's locks and the run history. Reading
makes no vendor request and decrypts nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from providers.platforms import describe, names
from providers.platforms.settings import provider_settings

from ..backend.location import BackendError, current_backend
from ..backend.locks import read_locks
from ..backend.state import RecordedStack, read_stacks
from ..differences import CodeDifference
from ..drift.read import code_verdict
from ..drift.secrets import with_opaque_state
from ..history.runs import store_for
from ..history.store import HistoryError
from ..notifications.store import last_per_sink
from ..project.program import load_composition
from ..project.stacks import CustomerStack, ProjectError, project_name
from ..promotion.check import promotion_statuses
from .data import RUNS_SHOWN, NeedsUp, StatusPage, build_page

# The page compares declarations, not credentials: each setting a provider's check requires before it
# compares anything (those without a default), when missing or encrypted, is stood in for (nothing is sent).
STAND_IN = "(not needed to compare the declaration)"


def comparison_config(stack: CustomerStack) -> dict[str, Any]:
    """The stack's plain provider settings, with stand-ins for the required ones it does not give."""
    platform = stack.platform or ""
    config = {k: v for k, v in stack.config.items() if k.startswith(f"{platform}:") and isinstance(v, (str, int, float))}
    for setting in provider_settings(describe(platform)) if platform in names() else ():
        if setting.required:
            config.setdefault(setting.config_key, STAND_IN)
    return config


def needs_up_check(project_dir: Path, project: str) -> NeedsUp:
    """What `up` would change on a stack, by `fleet drift`'s own code-against-state comparison."""
    composition = load_composition(project_dir)

    def needs_up(stack: CustomerStack, state: RecordedStack) -> list[CodeDifference]:
        if composition is None:
            return []
        # A write-only secret's ciphertext (a subuser's password) as the one pass carries it: opaque.
        return code_verdict(composition, stack.name, stack.declaration, [with_opaque_state(r) for r in state.resources],
                            comparison_config(stack), project)
    return needs_up


def read_status(project_dir: Path, stacks: Sequence[CustomerStack], env: Mapping[str, str],
                selection: Optional[dict[str, Any]] = None) -> StatusPage:
    """Read everything the page shows, in one pass, and build it."""
    project, chosen, notes = project_name(project_dir), [s.name for s in stacks], []
    backend = current_backend(env)
    if backend is None:
        reason = "no state backend configured (PULUMI_BACKEND_URL or `pulumi login`)"
        states = {n: RecordedStack(name=n, status="engine", reason=reason) for n in chosen}
        notes.append(reason)
    else:
        states = read_stacks(backend, project, chosen)  # a backend that cannot be read fails the page
    try:
        locks = read_locks(backend, project, chosen)
    except BackendError as exc:
        locks = {}
        notes.append(f"locks not shown: {exc}")
    store = store_for(env)
    try:
        recent, latest = store.latest(chosen, RUNS_SHOWN)
    except HistoryError as exc:
        recent, latest = {}, {}
        notes.append(f"run history not shown: {exc}")
    try:
        notifications = last_per_sink(store)
    except HistoryError as exc:
        notifications = []
        notes.append(f"notifications not shown: {exc}")
    try:
        promotions = promotion_statuses(project_dir, stacks)
    except ProjectError as exc:
        promotions = {}
        notes.append(f"promotions not shown: {exc}")
    return build_page(stacks, states, recent, latest, locks, needs_up_check(project_dir, project), project, promotions,
                      backend=backend.shown if backend else None, history_store=store.location.shown,
                      selection=selection or {}, notes=notes, notifications=notifications)
