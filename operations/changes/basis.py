"""What a state-writing run ran with (its basis), and what of it differs now.

An `up` (and a `refresh`) records, per customer, in the run history (history.model.RunBasis):
- `code`: a digest of each part of the code that decides what the engine does with a declaration:
  `tool` (this package's source and version: how it drives the engine), `providers` (the dynamic
  providers' source as this process imports it, which the providers' processes import too),
  `program` (Pulumi.yaml and the program's Python files), `policies` (the policy pack's files; None
  when the run did not run it), `engine` (the engine build: name, size and modification time of every
  file in its bin directory, and its version), `runtime` (Python and the versions of the libraries
  the program and providers run on: the SDK, pulumi-policy, pydantic, protobuf);
- `environment`: the customer's environment file, whole;
- `settings`: the stack file's config besides the customer declaration (provider settings, their
  encrypted values as ciphertext: a re-encrypted password counts as changed);
- `state`: the checkpoint the run left in the backend, as stored (any later write changes it: a
  `pulumi up` or `refresh` by hand, `pulumi state edit`, an import, another tool).
A later run compares the basis of the customer's last update with the same digests taken now; any
difference sends the customer to the engine, the part named (verdict.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence

import yaml

if TYPE_CHECKING:
    from ..fleet.models import CustomerResult

from ..backend.location import BackendError, current_backend
from ..backend.state import read_stacks
from ..engine.environment import engine_bin_dir, engine_version
from ..history.model import RunBasis, tool_version
from ..project.environments import environments_dir
from ..project.stacks import CUSTOMER_KEY, CustomerStack, project_name

CODE_PARTS = ("tool", "providers", "program", "policies", "engine", "runtime")
PART_WORDS = {"tool": "the email-partners tool", "providers": "the providers (providers/)",
              "program": "the program (Pulumi.yaml, stacks/*.py)", "policies": "the policy pack (policies/)",
              "engine": "the Pulumi engine build", "runtime": "Python or the SDK and libraries it runs on"}
RUNTIME_DISTRIBUTIONS = ("pulumi", "pulumi-policy", "pydantic", "pydantic-core", "protobuf", "grpcio")
SKIPPED = ("__pycache__",)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_digest(files: Iterable[Path], root: Path) -> str:
    """One digest over the files' paths (relative to root) and contents, in path order."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + _sha(path.read_bytes()).encode() + b"\n")
    return digest.hexdigest()


def tree_digest(root: Path, suffixes: Optional[tuple[str, ...]] = None) -> Optional[str]:
    """Every file under `root` (with one of `suffixes`, when given), caches skipped; None when absent."""
    root = root.resolve()
    if not root.is_dir():
        return None
    files = [p for p in root.rglob("*") if p.is_file() and not set(p.relative_to(root).parts) & set(SKIPPED)
             and (suffixes is None or p.suffix in suffixes)]
    return files_digest(files, root)


def _package_dir(name: str) -> Path:
    """Where this process imports the package from (a namespace package's first location)."""
    spec = importlib.util.find_spec(name)
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def program_digest(project_dir: Path) -> str:
    """Pulumi.yaml and the Python files of the program's directory (its `main`)."""
    project_dir = project_dir.resolve()
    project_file = project_dir / "Pulumi.yaml"
    try:
        main = (yaml.safe_load(project_file.read_text()) or {}).get("main") or "."
    except (OSError, yaml.YAMLError):
        main = "."
    program_dir = (project_dir / str(main)).resolve()
    files = [project_file] if project_file.exists() else []
    files += sorted(program_dir.glob("*.py")) if program_dir.is_dir() else []
    return files_digest(files, project_dir) if files else _sha(b"")


def engine_digest() -> str:
    """The engine build: its version and every file of its bin directory by name, size and time."""
    bin_dir = engine_bin_dir()
    entries = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in bin_dir.iterdir() if p.is_file())
    return _sha(json.dumps([engine_version(), entries]).encode())


def runtime_digest() -> str:
    versions = {}
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return _sha(json.dumps([platform.python_implementation(), platform.python_version(), versions]).encode())


def code_fingerprint(project_dir: Path, policy_pack: Optional[Path]) -> dict[str, Optional[str]]:
    """The digest of each part of the code (see the module docstring); `policy_pack` None: not run."""
    return {
        "tool": _sha(f"{tool_version()}:{tree_digest(_package_dir('operations'), ('.py', '.html'))}".encode()),
        "providers": tree_digest(_package_dir("providers"), (".py",)),
        "program": program_digest(project_dir),
        "policies": tree_digest(policy_pack) if policy_pack is not None else None,
        "engine": engine_digest(),
        "runtime": runtime_digest(),
    }


def settings_digest(config: Mapping[str, Any]) -> str:
    """The stack's config besides the declaration, as data (formatting and comments do not count)."""
    rest = {k: v for k, v in config.items() if k != CUSTOMER_KEY}
    return _sha(json.dumps(rest, sort_keys=True, default=str).encode())


class Digests:
    """The digests of one run, each taken once: the code's, and each environment file's."""

    def __init__(self, project_dir: Path, policy_pack: Optional[Path]):
        self.project_dir = project_dir
        self.code = code_fingerprint(project_dir, policy_pack)
        self._environments: dict[Optional[str], Optional[str]] = {}
        self._lock = threading.Lock()

    def environment(self, name: Optional[str]) -> Optional[str]:
        with self._lock:
            if name not in self._environments:
                path = environments_dir(self.project_dir) / f"{name}.yaml"
                self._environments[name] = _sha(path.read_bytes()) if name and path.is_file() else None
            return self._environments[name]

    def basis(self, stack: CustomerStack, state: Optional[str], read_platform: bool) -> RunBasis:
        """The basis of a run of `stack` now, leaving the state whose digest is `state`."""
        return RunBasis(code=dict(self.code), environment=self.environment(stack.environment),
                        settings=settings_digest(stack.config), state=state, read_platform=read_platform)


def what_changed(before: RunBasis, now: RunBasis, stack: CustomerStack) -> list[str]:
    """The parts of `now` that differ from `before`, in words; `now`'s policies None: not run now, not compared."""
    changed = [PART_WORDS[part] for part in CODE_PARTS
               if not (part == "policies" and now.code.get(part) is None) and before.code.get(part) != now.code.get(part)]
    if before.environment != now.environment:
        changed.append(f"its environment file (stacks/environments/{stack.environment}.yaml)")
    if before.settings != now.settings:
        changed.append("the provider settings in its stack file")
    return changed


def with_bases(results: Sequence["CustomerResult"], stacks: Sequence[CustomerStack], project_dir: Path,
               env: Mapping[str, str], digests: Digests, read_platform: bool) -> None:
    """Give each result of a state-writing engine run (up, refresh) its basis: this run's digests and the
    checkpoint it left, read back from the backend in one pass (a result that has one keeps it)."""
    by_name = {s.name: s for s in stacks}
    ran = [r for r in results if r.basis is None and r.stack in by_name and r.result != "not deployed"]
    if not ran:
        return
    backend = current_backend(env)
    try:
        states = read_stacks(backend, project_name(project_dir), [r.stack for r in ran]) if backend else {}
    except BackendError:
        states = {}  # no digest: the next run cannot tell the state is this one, and asks the engine
    for result in ran:
        state = states.get(result.stack)
        result.basis = digests.basis(by_name[result.stack], state.digest if state else None, read_platform)
