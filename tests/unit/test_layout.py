"""The layout of providers/ and operations/: imports flow one way, and a vendor's code stays in its folders.

As tests/emulator/test_layout.py does for the emulator: the graph is read from the source with
`ast` (every import, also those inside functions: a lazy import that closes a circle is still a
circle; those under `if TYPE_CHECKING:` are annotations only, never run), then each module is imported
first thing in a fresh interpreter. The rules:
- no circle, in either package;
- the HTTP core (http, shared_reads, naming, lazy) imports nothing above it;
- a vendor's modules (its client package, its description, its handlers) import no other vendor's;
- the generic layers (the registry and descriptions' machinery, the handler contract, the
  resources) import no vendor's module, and importing one loads none;
- the provider side imports nothing of the tool; the tool imports providers only through the
  registry, the handler contract and the resources' public modules, never a vendor's module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from providers.platforms import REGISTRY, names

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("providers", "operations")
CORE = {"providers.http", "providers.rate_limits", "providers.shared_reads", "providers.naming", "providers.lazy"}
# Kept for the programs of earlier releases (see the module's docstring): it re-exports the Ciirus description's model.
COMPAT = {"providers.resources.sub_account.ciirus"}
# What the tool may import of providers: the registry and the descriptions' machinery, the handler
# contract and each resource's shared handler base, the resources' public modules, the HTTP core.
TOOL_MAY_IMPORT = {"providers.platforms", "providers.platforms.settings", "providers.platforms.clients",
                   "providers.platforms.credentials", "providers.platforms.description",
                   "providers.handlers.base", "providers.handlers.sub_account", "providers.handlers.account_features",
                   "providers.handlers.sending_domain", "providers.handlers.domain_verification",
                   "providers.resources.catalog", "providers.resources.common", "providers.resources.sub_account",
                   "providers.resources.account_features", "providers.resources.sending_domain",
                   "providers.resources.domain_verification", "providers.http", "providers.rate_limits",
                   "providers.validators"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _run_time_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (annotations only: never imported when run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in (child, *_run_time_nodes(child)))
            continue
        yield node
        yield from _run_time_nodes(node)


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if base_name.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:  # `from . import describe` names the package, `from . import store` a module
                full = f"{base_name}.{alias.name}"
                targets.add(full if full in MODULES else base_name)
    return {t for t in (_resolve(t) for t in targets) if t and t != module}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def vendor_of(module: str) -> str | None:
    """The vendor whose module this is: providers.<v>..., providers.platforms.<v>, providers.handlers.<v>..."""
    parts = module.split(".")
    if parts[0] != "providers" or len(parts) < 2:
        return None
    if parts[1] in names():
        return parts[1]
    if parts[1] in ("platforms", "handlers") and len(parts) > 2 and parts[2] in names():
        return parts[2]
    return None


def test_the_graph_is_read():
    """Guards the checks below against reading nothing: known edges must be seen."""
    assert "providers.platforms.settings" in GRAPH["providers.platforms.cakemail"]
    assert "providers.cakemail" in GRAPH["providers.platforms.cakemail"]  # `from ..cakemail import DEFAULT_API_URL`
    assert "providers.handlers.base" in GRAPH["providers.resources.provider"]
    assert "operations.automation" in GRAPH["operations.cli"]
    assert {"providers.cakemail", "providers.platforms.ciirus", "providers.handlers.signupto.sub_account"} <= set(MODULES)


def test_every_registered_platform_is_checked_here():
    """A vendor is its client package, its description and its handlers, under its registered name."""
    for name, module in REGISTRY.items():
        assert module == f"providers.platforms.{name}" and module in MODULES, module
        assert f"providers.{name}" in MODULES, f"no client package providers/{name}/"
        assert vendor_of(module) == name


def test_no_import_cycle():
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, " -> ".join(cycle)


def test_the_http_core_imports_nothing_above_it():
    for name in CORE:
        assert GRAPH[name] <= CORE, f"{name} imports {sorted(GRAPH[name] - CORE)}"


def test_a_vendors_modules_import_no_other_vendor():
    for name, targets in GRAPH.items():
        vendor = vendor_of(name)
        if vendor is not None:
            foreign = {t for t in targets if vendor_of(t) not in (None, vendor)}
            assert not foreign, f"{name} imports {sorted(foreign)}"


def test_a_vendors_client_package_knows_nothing_of_pulumi_or_the_layers_above():
    for name, targets in GRAPH.items():
        if vendor_of(name) is not None and name.split(".")[1] in names():
            above = {t for t in targets if vendor_of(t) is None and t not in CORE}
            assert not above, f"{name} imports {sorted(above)}"


def test_the_generic_layers_import_no_vendor():
    for name, targets in GRAPH.items():
        if name.startswith("providers.") and vendor_of(name) is None and name not in COMPAT:
            vendors = {t for t in targets if vendor_of(t) is not None}
            assert not vendors, f"{name} imports {sorted(vendors)}"


def test_the_provider_side_imports_nothing_of_the_tool_and_the_tool_no_vendor():
    for name, targets in GRAPH.items():
        if name.startswith("providers"):
            assert not {t for t in targets if t.startswith("operations")}, f"{name} imports the tool"
        else:
            reached = {t for t in targets if t.startswith("providers")}
            assert reached <= TOOL_MAY_IMPORT, f"{name} imports {sorted(reached - TOOL_MAY_IMPORT)}"


_IMPORT_EACH = """
import importlib, json, sys
names, vendors, generic = json.loads(sys.argv[1]), set(json.loads(sys.argv[2])), set(json.loads(sys.argv[3]))
results = {}
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("providers", "operations")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
        continue
    if name in generic:
        loaded = sorted(m for m in sys.modules if m.startswith("providers") and set(m.split(".")) & vendors)
        if loaded:
            results[name] = "loaded vendor modules: " + ", ".join(loaded)
print(json.dumps(results))
"""


def test_each_module_imports_on_its_own_and_a_generic_one_loads_no_vendor():
    """Each module imported first in a clean slate (the SDK and pydantic stay loaded: one interpreter, fast)."""
    listed = sorted(n for n in MODULES if n != "operations.__main__")
    generic = sorted(n for n in listed if n.startswith("providers") and vendor_of(n) is None and n not in COMPAT)
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(listed), json.dumps(list(names())),
                           json.dumps(generic)], capture_output=True, text=True, timeout=300, check=True, cwd=REPO)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {}
