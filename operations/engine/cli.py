"""The `pulumi` CLI itself, for what the Automation API does not offer: stack init with a config copy,
streamed JSON previews, config with secrets shown, state exports, the backend's stack list.

Every run is non-interactive, gets the environment of operations/engine/environment.py, and fails
with an EngineError whose `cause` is the SDK's classification (operations/engine/errors.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from .environment import engine_bin_dir, engine_env, interruptible_engine, require_backend, with_ownership_index
from .errors import EngineError, StackNotFoundError, classified


def run_cli(args: Sequence[str], project_dir: Path, env: Optional[Mapping[str, str]] = None,
            check: bool = False, timeout: Optional[float] = None,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
    """One `pulumi` run; always non-interactive. `input` goes to stdin (how secrets are passed: never on
    a command line, where other users of the machine could read them)."""
    env = with_ownership_index(dict(env or engine_env()), project_dir)
    require_backend(env, project_dir)
    interruptible_engine()
    return subprocess.run([str(engine_bin_dir() / "pulumi"), *args, "--non-interactive"], cwd=project_dir,
                          env=env, capture_output=True, text=True, check=check, timeout=timeout,
                          input=input)


def run_checked(args: Sequence[str], project_dir: Path, env: Optional[Mapping[str, str]] = None,
                input: Optional[str] = None, timeout: Optional[float] = None) -> str:
    """A `pulumi` run that must succeed: its stdout, else an EngineError with the engine's words."""
    result = run_cli(args, project_dir, env, input=input, timeout=timeout)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        raise EngineError(f"`pulumi {' '.join(args[:2])}` failed: {detail}", classified(result))
    return result.stdout


class PreviewRun:
    """One `pulumi preview` of a stack as the engine's event stream (JSON lines), parsed: the planned
    steps with old and new inputs, the diagnostics and the policy events (the one-document `--json`
    digest drops policy events)."""

    def __init__(self, stack: str, result: subprocess.CompletedProcess, events: list[dict]):
        self.stack, self.returncode, self.events, self.stderr = stack, result.returncode, events, result.stderr
        self.failure = classified(result)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def stack_missing(self) -> bool:
        """The backend has no such stack (a new stack file)."""
        return isinstance(self.failure, StackNotFoundError)

    @property
    def steps(self) -> list[dict]:
        """Each resource's step: op, urn, oldState/newState (inputs, outputs), replaceReasons."""
        steps = []
        for event in self.events:
            meta = (event.get("resourcePreEvent") or {}).get("metadata")
            if meta:
                steps.append({"op": meta.get("op"), "urn": meta.get("urn", ""), "oldState": meta.get("old"),
                              "newState": meta.get("new"), "replaceReasons": meta.get("keys") or []})
        return steps

    @property
    def diagnostics(self) -> list[dict]:
        """Errors and warnings only: debug messages can carry property values."""
        return [e["diagnosticEvent"] for e in self.events
                if e.get("diagnosticEvent", {}).get("severity") in ("error", "warning")]

    @property
    def policy_events(self) -> list[dict]:
        return [e["policyEvent"] for e in self.events if "policyEvent" in e]


def preview(stack: str, project_dir: Path, env: Optional[Mapping[str, str]] = None,
            policy_pack: Optional[Path] = None, timeout: Optional[float] = 900) -> PreviewRun:
    """`pulumi preview --json` of one stack of the project's own program, streamed as engine events;
    with the policy pack when given."""
    args = ["preview", "--stack", stack, "--json"]
    if policy_pack is not None:
        args += ["--policy-pack", str(policy_pack)]
    run_env = dict(env or engine_env())
    run_env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"] = "true"
    result = run_cli(args, project_dir, run_env, timeout=timeout)
    events = []
    for line in result.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return PreviewRun(stack, result, events)


def stack_config(stack: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> dict[str, object]:
    """A stack's config with secrets decrypted, in memory only (for an explicit credentials check)."""
    result = run_cli(["config", "--stack", stack, "--show-secrets", "--json"], project_dir, env)
    if result.returncode != 0:
        raise EngineError(f"cannot read the config of stack {stack}: {result.stderr.strip()[-500:]}",
                          classified(result))
    return {key: entry.get("objectValue", entry.get("value")) for key, entry in json.loads(result.stdout).items()}


def exported_state(stack: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> Optional[dict[str, Any]]:
    """The stack's deployment (`pulumi stack export`): resources and pending operations; None when the
    backend has no such stack."""
    result = run_cli(["stack", "export", "--stack", stack], project_dir, env)
    failure = classified(result)
    if isinstance(failure, StackNotFoundError):
        return None
    if failure is not None:
        raise EngineError(f"cannot read the state of {stack}: {result.stderr.strip()[-1000:]}", failure)
    return json.loads(result.stdout).get("deployment") or {}


class StacksInBackend:
    """`name in stacks`: whether the current backend has that stack.

    The first name is asked for alone (`pulumi stack output`, one stack read); from the second on,
    the project's stacks are listed once (`pulumi stack ls`) and every answer comes from that list.
    Measured on PostgreSQL (2 cores): one name 0.15 s; the listing of 36 stacks 0.22 s, against
    3.9 s for asking 12 names one by one. (The listing is safe only with PULUMI_DIY_BACKEND_PARALLEL,
    which engine_env sets.)"""

    def __init__(self, project_dir: Path, env: Optional[Mapping[str, str]] = None):
        self._project_dir, self._env, self._known = project_dir, env, {}
        self._listed: Optional[set[str]] = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._listed is not None:
            return name in self._listed
        if name not in self._known:
            if self._known:
                self._listed = set(list_stacks(self._project_dir, self._env))
                return name in self._listed
            self._known[name] = self._ask(name)
        return self._known[name]

    def _ask(self, name: str) -> bool:
        result = run_cli(["stack", "output", "--stack", name, "--json"], self._project_dir, self._env)
        failure = classified(result)
        if failure is not None and not isinstance(failure, StackNotFoundError):
            raise EngineError(f"cannot tell whether stack {name!r} exists: {result.stderr.strip()[-2000:]}", failure)
        return failure is None


def list_stacks(project_dir: Path, env: Optional[Mapping[str, str]] = None, timeout: float = 300) -> list[str]:
    """The names of the project's stacks in the current backend (`pulumi stack ls`), without the
    `organization/project/` a backend may put before them."""
    try:
        out = run_checked(["stack", "ls", "--json"], project_dir, env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EngineError(f"`pulumi stack ls` did not answer in {timeout:.0f} s (on PostgreSQL, is "
                          f"PULUMI_DIY_BACKEND_PARALLEL set above 1? see the README's team set-up)") from None
    return [str(entry["name"]).rsplit("/", 1)[-1] for entry in json.loads(out or "[]")]


def stack_names(project_dir: Path, env: Optional[Mapping[str, str]] = None) -> StacksInBackend:
    """The project's stacks in the current backend, as a membership test."""
    return StacksInBackend(project_dir, env)


def init_stack(name: str, project_dir: Path, copy_config_from: Optional[str] = None,
               env: Optional[Mapping[str, str]] = None) -> None:
    """`pulumi stack init`; with `copy_config_from`, the other stack's config is copied and its
    secrets re-encrypted for the new stack's secrets provider by Pulumi itself."""
    args = ["stack", "init", name, "--no-select"]
    if copy_config_from:
        args += ["--copy-config-from", copy_config_from]
    run_checked(args, project_dir, env)


def copy_config(source: str, target: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> None:
    """Another stack's config into an existing stack, secrets re-encrypted by Pulumi (`pulumi config cp`)."""
    run_checked(["config", "cp", "--stack", source, "--dest", target], project_dir, env)


def set_secret(stack: str, key: str, value: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> None:
    """Encrypt a secret into the stack's config (value on stdin, never on the command line)."""
    run_checked(["config", "set", "--secret", "--stack", stack, key], project_dir, env, input=value)
