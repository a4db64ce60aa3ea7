"""The one place that drives the Pulumi engine: where it is, the environment it runs in, and stacks.

Every subcommand goes through here, so PATH, the backend, the passphrase and the rule "never
enable engine debug logging" (at `-v=9` the engine logs decrypted provider config) hold everywhere.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Mapping, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
# A fleet run serves engine events over gRPC in this process (the Automation API) while other threads
# start `pulumi` processes, which exec at once: gRPC's fork handlers have nothing to do there, so they
# are off (a precaution against fork-time stalls). Set when this module loads, before grpc is imported
# (the SDK is imported where used; operations/cli.py imports this module first).
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
# Variables that make the engine log at a level where it prints decrypted provider configuration.
DEBUG_VARIABLES = ("PULUMI_DEBUG_COMMANDS", "PULUMI_DEBUG_GRPC", "TF_LOG")
# The DIY backend loads stacks for `pulumi stack ls` with this many workers (engine default 10).
# On PostgreSQL each worker holds a pooled connection while it waits for a second one, and the pool
# is 2 x GOMAXPROCS connections: with 10 workers on 2 cores every connection is held by a waiting
# worker and the listing hangs for ever. With 1 worker it cannot: the pool has at least 2.
DIY_BACKEND_PARALLEL = "1"


class EngineSetupError(RuntimeError):
    """The engine cannot run at all as set up (no engine, no state backend): the CLI exits 2 with
    the message, which says what to set."""


class EngineNotFound(EngineSetupError):
    pass


class BackendNotConfigured(EngineSetupError):
    pass


NO_BACKEND = (
    "no Pulumi state backend is set, so the engine would try to log in to Pulumi Cloud. Set one, with the "
    "passphrase that encrypts the stacks' secrets, e.g.:\n"
    "  export PULUMI_BACKEND_URL=file://$HOME/pulumi-state      # a directory of your own, or the team's "
    "postgres://user@host:5432/db (see README, Team setup)\n"
    "  export PULUMI_CONFIG_PASSPHRASE=...                      # or PULUMI_CONFIG_PASSPHRASE_FILE=<file>\n"
    "(the demo uses PULUMI_BACKEND_URL=file://<project>/.demo/state and PULUMI_CONFIG_PASSPHRASE=demo-passphrase; "
    "`pulumi login URL` also sets a backend)")


def require_backend(env: Mapping[str, str], project_dir: Path) -> None:
    """Refuse to start the engine without a state backend: its own message then is about a Pulumi
    Cloud access token, which is not what this project's users need to hear. A backend is set by
    PULUMI_BACKEND_URL, by `backend.url` in Pulumi.yaml, or by `pulumi login` (PULUMI_HOME's
    credentials.json names the current one)."""
    import json

    if env.get("PULUMI_BACKEND_URL"):
        return
    project_file = project_dir / "Pulumi.yaml"
    if project_file.exists() and re.search(r"^backend:\s*\n\s+url:\s*\S", project_file.read_text(), re.M):
        return
    credentials = Path(env.get("PULUMI_HOME") or Path(env.get("HOME") or Path.home()) / ".pulumi") / "credentials.json"
    try:
        if json.loads(credentials.read_text()).get("current"):
            return
    except (OSError, ValueError, AttributeError):
        pass
    raise BackendNotConfigured(NO_BACKEND)


def engine_version(project_dir: Path = REPO) -> str:
    text = (project_dir / "pyproject.toml").read_text() if (project_dir / "pyproject.toml").exists() else ""
    match = re.search(r'^engine_version\s*=\s*"([^"]+)"', text, re.M) or re.search(
        r'^engine_version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    return match.group(1)


def engine_bin_dir() -> Path:
    """The engine built by scripts/install-pulumi.sh: $PULUMI_BIN_DIR, else its install directory."""
    explicit = os.environ.get("PULUMI_BIN_DIR")
    if explicit:
        return Path(explicit)
    root = os.environ.get("PULUMI_INSTALL_ROOT") or str(Path.home() / ".pulumi" / "versions" / engine_version())
    bin_dir = Path(root) / "bin"
    if (bin_dir / "pulumi").exists():
        return bin_dir
    raise EngineNotFound(f"no Pulumi engine in {bin_dir}: run scripts/bootstrap.sh (it builds and installs it), "
                         f"or set PULUMI_BIN_DIR to the directory holding `pulumi`")


def engine_env(base: Optional[Mapping[str, str]] = None, **overrides: str) -> dict[str, str]:
    """The environment every engine run gets: the engine and this virtualenv first on PATH (the
    program and the dynamic providers run with the `python3` found there), offline settings, and
    no debug logging."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in DEBUG_VARIABLES}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(engine_bin_dir()), venv_bin, env.get("PATH", "")])
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    env.setdefault("PULUMI_DIY_BACKEND_PARALLEL", DIY_BACKEND_PARALLEL)
    env.update(overrides)
    interruptible_engine()
    return env


def interruptible_engine() -> None:
    """Let the engine's processes be stopped by SIGINT, even when this process was started with
    SIGINT ignored (a background job of a non-interactive shell, `nohup cmd &`, some CI runners).

    The engine ends each plugin it no longer needs with SIGINT and waits 5 s before it kills it
    (sdk/go/common/resource/plugin/plugin.go, `newPlugin`'s kill). An ignored signal stays ignored
    across exec, so the language host it asks for metadata at the start of every preview and up
    ignores that SIGINT, and each run pays the whole 5 s. A handled signal is reset to its default
    in a child, so handling SIGINT here (as Python does by default) is enough. SIGHUP is left as
    it is: ignoring it, as nohup does, costs nothing."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def workspace_options(project_dir: Path, env: Optional[Mapping[str, str]] = None):
    from pulumi import automation as auto

    env = dict(env or engine_env())
    require_backend(env, project_dir)
    return auto.LocalWorkspaceOptions(
        work_dir=str(project_dir), env_vars=env, pulumi_home=env.get("PULUMI_HOME"),
        pulumi_command=auto.PulumiCommand(root=str(engine_bin_dir().parent), skip_version_check=True))


def run_cli(args: Sequence[str], project_dir: Path, env: Optional[Mapping[str, str]] = None,
            check: bool = False, timeout: Optional[float] = None,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
    """The `pulumi` CLI itself, for what the Automation API does not offer (stack init with a
    config copy, JSON previews); always non-interactive. `input` goes to stdin (how secrets are
    passed: never on a command line, where other users of the machine could read them)."""
    env = dict(env or engine_env())
    require_backend(env, project_dir)
    return subprocess.run([str(engine_bin_dir() / "pulumi"), *args, "--non-interactive"], cwd=project_dir,
                          env=env, capture_output=True, text=True, check=check, timeout=timeout,
                          input=input)



class PreviewRun:
    """One `pulumi preview` of a stack as the engine's event stream (JSON lines), parsed: the planned
    steps with old and new inputs, the diagnostics and the policy events (the one-document `--json`
    digest drops policy events)."""

    def __init__(self, stack: str, returncode: int, events: list[dict], stderr: str):
        self.stack, self.returncode, self.events, self.stderr = stack, returncode, events, stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

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
    return PreviewRun(stack, result.returncode, events, result.stderr)


def stack_config(stack: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> dict[str, object]:
    """A stack's config with secrets decrypted, in memory only (for an explicit credentials check)."""
    result = run_cli(["config", "--stack", stack, "--show-secrets", "--json"], project_dir, env)
    if result.returncode != 0:
        raise RuntimeError(f"cannot read the config of stack {stack}: {result.stderr.strip()[-500:]}")
    return {key: entry.get("objectValue", entry.get("value")) for key, entry in json.loads(result.stdout).items()}

# --- many stacks of one project at once (fleet) -----------------------------------------------
# One LocalWorkspace serves every thread: each operation is its own `pulumi` process with an
# explicit `--stack`. What must not run concurrently is `pulumi stack select`, which rewrites the
# project's current-stack file in PULUMI_HOME; so stacks are opened without selecting them and
# created with `stack init --no-select`. A stack missing from the backend shows as
# StackNotFoundError from the operation itself, so a fleet run lists nothing first.

def project_workspace(project_dir: Path, env: Optional[Mapping[str, str]] = None):
    from pulumi import automation as auto

    opts = workspace_options(project_dir, env)
    return auto.LocalWorkspace(work_dir=opts.work_dir, pulumi_home=opts.pulumi_home, env_vars=opts.env_vars,
                               pulumi_command=opts.pulumi_command)


def init_stack_in_workspace(workspace, name: str) -> None:
    """Create the stack in the backend, keeping its stack file (config, encryption salt)."""
    workspace.pulumi_command.run(["stack", "init", "--stack", name, "--no-select", "--non-interactive"],
                                 workspace.work_dir, dict(workspace.env_vars))  # raises CommandError


def open_stack(workspace, name: str):
    """An Automation API stack for an existing stack, without `stack select` (see above)."""
    from pulumi import automation as auto
    from pulumi.automation._stack import StackInitMode

    stack = object.__new__(auto.Stack)
    stack.name, stack.workspace, stack._mode = name, workspace, StackInitMode.SELECT
    return stack


FLEET_OPERATIONS = ("preview", "up", "refresh", "drift")


def run_operation(stack, operation: str, on_event, refresh: bool = False,
                  policy_pack: Optional[Path] = None, program=None) -> None:
    """One engine operation; results arrive as engine events (the summary event has the counts:
    the Automation API's own refresh summary is the last update's, wrong for `--preview-only`).
    `refresh` (preview, up) reads the resources first, so drift is part of the plan; `policy_pack`
    (preview, up) runs the pack, whose mandatory rules then block the change. `program`: the
    project's program run in this process (see inline_program), else the engine starts it."""
    packs = {"policy_packs": [str(policy_pack)]} if policy_pack is not None else {}
    if operation == "preview":
        stack.preview(on_event=on_event, refresh=refresh, program=program, **packs)
    elif operation == "up":
        stack.up(on_event=on_event, refresh=refresh, program=program, **packs)
    elif operation == "refresh":
        stack.refresh(on_event=on_event, program=program)
    elif operation == "drift":
        # One `preview --refresh`: its refresh steps say what changed since the state was written, its plan
        # what differs from the code, which still answers "is the platform what the code says?" after a refresh.
        stack.preview(refresh=True, on_event=on_event, program=program)
    else:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(FLEET_OPERATIONS)}")


def policy_pack_of(project_dir: Path, disabled: bool = False) -> Optional[Path]:
    """The project's policy pack (`policies/`), run wherever the tool changes or previews a customer
    unless the user said `--no-policy`."""
    pack = project_dir / "policies"
    return pack if pack.is_dir() and not disabled else None


# --- the project's program inline: one Python process for a fleet's programs ------------------
# By default `pulumi preview` starts a language host, which starts a Python process that imports
# the SDK, pydantic and this project's code, for every customer: most of a no-op run's cost. A
# fleet run instead passes the program to the Automation API, which serves it from this process
# (`--client`): the same file, stacks/__main__.py, executed for each stack with the same config,
# so the state and outputs are those of `pulumi up` by hand (tests/e2e/test_inline_program.py).
# The engine and each stack's dynamic-provider process are unchanged: every vendor request still
# happens in the provider process, which imports only the platform it uses.
# The SDK keeps a program's state in context variables, and runs each inline program in a copied
# context (pulumi/automation/_server.py), so several run at once in one process. What it does not
# make safe is serialize_provider (see _guard_provider_serialization).
INLINE_VARIABLE = "EMAIL_PARTNERS_INLINE"  # "0": run each customer's program as `pulumi up` does


def inline_program(project_dir: Path):
    """The project's program as an Automation API inline program, or None when it must run through
    the engine's language host: EMAIL_PARTNERS_INLINE=0, or a Pulumi.yaml this cannot honour
    (a runtime other than plain `python`, runtime options such as a virtualenv, no __main__.py)."""
    import yaml

    if os.environ.get(INLINE_VARIABLE, "1") == "0":
        return None
    try:
        settings = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    runtime = settings.get("runtime")
    if isinstance(runtime, dict) and not runtime.get("options"):
        runtime = runtime.get("name")
    if runtime != "python":  # options (a virtualenv, a toolchain) are the language host's to honour
        return None
    main = (project_dir / str(settings.get("main") or ".")).resolve()
    main_file = main / "__main__.py" if main.is_dir() else main
    if not main_file.is_file():
        return None
    code = compile(main_file.read_text(), str(main_file), "exec")
    _guard_provider_serialization()
    with _INLINE_LOCK:
        if str(main_file.parent) not in sys.path:  # as the language host does: the program's modules import
            sys.path.insert(0, str(main_file.parent))

    def program() -> None:
        exec(code, {"__name__": "__main__", "__file__": str(main_file), "__builtins__": __builtins__})

    return program


_INLINE_LOCK = threading.Lock()


def _guard_provider_serialization() -> None:
    """Make the SDK's `pulumi.dynamic.dynamic.serialize_provider` safe for many programs in one process.

    It swaps the process-wide `pickle.Pickler` for the pure-Python one, patches that class's
    `_batch_setitems` and `save_dict` to sort dictionaries, and restores `pickle.Pickler` only:
    - two threads at once can restore each other's swap, and the second then reads
      `_batch_setitems` from the C pickler, which has none (AttributeError);
    - each call wraps the previous call's patch, so pickling a provider that holds a dict recurses
      once per earlier call in the process: a RecursionError after some 300 providers (this
      project's providers hold none, but nothing else would keep a fleet from failing there).
    So: one call at a time, each from the unpatched methods, exactly as the first call in a fresh
    process does (what `pulumi up` by hand runs: the pickled providers in state are the same).
    Private SDK API: tests/unit/test_inline_program.py fails, naming it, when the SDK changes."""
    import pickle

    from pulumi.dynamic import dynamic

    with _INLINE_LOCK:
        current = dynamic.serialize_provider
        if getattr(current, "guarded_by_email_partners", False):
            return
        pristine = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)
        lock = threading.Lock()

        def serialize_provider(provider):
            with lock:
                pickle._Pickler._batch_setitems, pickle._Pickler.save_dict = pristine
                try:
                    return current(provider)
                finally:
                    pickle._Pickler._batch_setitems, pickle._Pickler.save_dict = pristine

        serialize_provider.guarded_by_email_partners = True
        serialize_provider.sdk_function = current
        dynamic.serialize_provider = serialize_provider


def explained(message: str, stack: str) -> str:
    """The engine's error, with what to do where its own words do not say it."""
    if "incorrect passphrase" in message:
        return (f"stack {stack}: its secrets are encrypted with another passphrase than the one PULUMI_CONFIG_PASSPHRASE "
                f"(or PULUMI_CONFIG_PASSPHRASE_FILE) gives; run it with its own, or re-encrypt it once with "
                f"`pulumi stack change-secrets-provider passphrase --stack {stack}` ({message})")
    return message


class EngineError(RuntimeError):
    """A `pulumi` command failed; the message holds its own explanation (never a secret value)."""


def _checked(args: Sequence[str], project_dir: Path, env: Optional[Mapping[str, str]] = None,
             input: Optional[str] = None, timeout: Optional[float] = None) -> str:
    result = run_cli(args, project_dir, env, input=input, timeout=timeout)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        raise EngineError(f"`pulumi {' '.join(args[:2])}` failed: {detail}")
    return result.stdout


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
                self._listed = self._list()
                return name in self._listed
            self._known[name] = self._ask(name)
        return self._known[name]

    def _ask(self, name: str) -> bool:
        result = run_cli(["stack", "output", "--stack", name, "--json"], self._project_dir, self._env)
        if result.returncode != 0 and "no stack named" not in (result.stderr + result.stdout):
            raise EngineError(f"cannot tell whether stack {name!r} exists: {result.stderr.strip()[-2000:]}")
        return result.returncode == 0

    def _list(self) -> set[str]:
        return set(list_stacks(self._project_dir, self._env))


def list_stacks(project_dir: Path, env: Optional[Mapping[str, str]] = None, timeout: float = 300) -> list[str]:
    """The names of the project's stacks in the current backend (`pulumi stack ls`), without the
    `organization/project/` a backend may put before them."""
    try:
        out = _checked(["stack", "ls", "--json"], project_dir, env, timeout=timeout)
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
    _checked(args, project_dir, env)


def set_secret(stack: str, key: str, value: str, project_dir: Path, env: Optional[Mapping[str, str]] = None) -> None:
    """Encrypt a secret into the stack's config (value on stdin, never on the command line)."""
    _checked(["config", "set", "--secret", "--stack", stack, key], project_dir, env, input=value)
