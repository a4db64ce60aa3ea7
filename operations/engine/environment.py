"""Where the engine is and the environment every engine run gets.

So PATH, the backend, the passphrase and the rule "never enable engine debug logging" (at `-v=9`
the engine logs decrypted provider config) hold for every run the tool starts. Nothing here changes
the process when imported: `prepare_process` does that, called once by the command line's entry.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Mapping, Optional

from ..errors import UsageError

REPO = Path(__file__).resolve().parents[2]
# Variables that make the engine log at a level where it prints decrypted provider configuration.
DEBUG_VARIABLES = ("PULUMI_DEBUG_COMMANDS", "PULUMI_DEBUG_GRPC", "TF_LOG")
# The DIY backend loads stacks for `pulumi stack ls` with this many workers (engine default 10).
# On PostgreSQL each worker holds a pooled connection while it waits for a second one, and the pool
# is 2 x GOMAXPROCS connections: with 10 workers on 2 cores every connection is held by a waiting
# worker and the listing hangs for ever. With 1 worker it cannot: the pool has at least 2.
DIY_BACKEND_PARALLEL = "1"

class EngineSetupError(UsageError):
    """The engine cannot run at all as set up (no engine, no state backend): the message says what to set."""


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


def prepare_process() -> None:
    """What this process needs before it drives the engine; called by the command line's entry point.

    A fleet run serves engine events over gRPC in this process (the Automation API) while other threads
    start `pulumi` processes, which exec at once: gRPC's fork handlers have nothing to do there, so they
    are off (a precaution against fork-time stalls). gRPC reads the setting when it is imported, so this
    runs before anything imports the SDK."""
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    interruptible_engine()


def interruptible_engine() -> None:
    """Let the engine's processes be stopped by SIGINT, even when this process was started with
    SIGINT ignored (a background job of a non-interactive shell, `nohup cmd &`, some CI runners).

    The engine ends each plugin it no longer needs with SIGINT and waits 5 s before it kills it
    (sdk/go/common/resource/plugin/plugin.go, `newPlugin`'s kill). An ignored signal stays ignored
    across exec, so the language host it asks for metadata at the start of every preview and up
    ignores that SIGINT, and each run pays the whole 5 s. A handled signal is reset to its default
    in a child, so handling SIGINT here (as Python does by default) is enough. SIGHUP is left as
    it is: ignoring it, as nohup does, costs nothing. Called before every engine process starts."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def require_backend(env: Mapping[str, str], project_dir: Path) -> None:
    """Refuse to start the engine without a state backend: its own message then is about a Pulumi
    Cloud access token, which is not what this project's users need to hear. A backend is set by
    PULUMI_BACKEND_URL, by `backend.url` in Pulumi.yaml, or by `pulumi login` (PULUMI_HOME's
    credentials.json names the current one)."""
    if env.get("PULUMI_BACKEND_URL"):
        refuse_moved(env)
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


# Set by `backend copy` for its own reads of the backend it moves (and may have to resume).
READ_MOVED_VARIABLE = "EMAIL_PARTNERS_READ_MOVED_BACKEND"


class BackendMoved(EngineSetupError):
    pass


def refuse_moved(env: Mapping[str, str]) -> None:
    """A file backend whose stacks were moved to another (`backend copy`) is kept as a record: the tool
    refuses to run the engine on it, so that nothing diverges from the team's copy."""
    from ..backend.location import moved_to

    record = moved_to(env["PULUMI_BACKEND_URL"])
    if record is not None and not env.get(READ_MOVED_VARIABLE):
        raise BackendMoved(f"the stacks of {env['PULUMI_BACKEND_URL']} were moved to {record.get('to')} by "
                           f"{record.get('by')} at {record.get('at')} (`email-partners backend copy`): set "
                           f"PULUMI_BACKEND_URL to that backend. This one is kept as it was, as a record.")


def engine_version(project_dir: Path = REPO) -> str:
    text = (project_dir / "pyproject.toml").read_text() if (project_dir / "pyproject.toml").exists() else ""
    match = re.search(r'^engine_version\s*=\s*"([^"]+)"', text, re.M) or re.search(
        r'^engine_version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    return match.group(1)


def with_ownership_index(env: dict[str, str], project_dir: Path) -> dict[str, str]:
    """The project's ownership index, named for the engine's processes (the providers refuse at create,
    and the policy pack at preview, what it says another stack manages: providers/ownership.py)."""
    from providers.ownership import INDEX_FILE, INDEX_VARIABLE

    env.setdefault(INDEX_VARIABLE, str(project_dir / INDEX_FILE))
    return env


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
    no debug logging. A plain dict: building it changes nothing."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in DEBUG_VARIABLES}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(engine_bin_dir()), venv_bin, env.get("PATH", "")])
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    env.setdefault("PULUMI_DIY_BACKEND_PARALLEL", DIY_BACKEND_PARALLEL)
    env.update(overrides)
    return env
