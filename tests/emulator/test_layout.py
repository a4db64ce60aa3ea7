"""The emulator's package layout: imports flow one way (vendors -> core), with no cycle.

The graph is read from the source with `ast` (every import, also those inside functions, since a
lazy import that closes a circle is still a circle); then each module is imported first thing in
a fresh interpreter, which is what would fail if an import order mattered.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import emulator

PACKAGE = Path(emulator.__file__).parent
VENDOR_PACKAGES = ("emulator.cakemail", "emulator.signupto", "emulator.ciirus", "emulator.sendgrid")


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("emulator", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The emulator module an import names (a module, or the package holding the name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name.startswith("emulator"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if not base_name.startswith("emulator"):
                continue
            for alias in node.names:  # `from . import store` names a module, not the package
                full = f"{base_name}.{alias.name}"
                targets.add(full if full in MODULES else base_name)
    return {t for t in (_resolve(t) for t in targets) if t and t != module}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
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
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read():
    """Guards the checks below against reading nothing: known edges must be seen."""
    assert {"emulator.core", "emulator.core.store", "emulator.cakemail.routes",
            "emulator.signupto.auth", "emulator.ciirus.store", "emulator.server"} <= set(MODULES)
    assert "emulator.core.store" in GRAPH["emulator.cakemail.store"]
    assert "emulator.cakemail.store" in GRAPH["emulator.cakemail.routes"]  # `from . import store as db`
    assert set(VENDOR_PACKAGES) <= GRAPH["emulator.server"]


def test_every_served_vendor_is_checked_here():
    """A vendor added to server.VENDORS but not to VENDOR_PACKAGES would escape the checks below."""
    from emulator.server import VENDORS

    assert {f"emulator.{vendor.name}" for vendor in VENDORS} == set(VENDOR_PACKAGES)


def test_no_import_cycle():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_core_imports_no_vendor_and_nothing_above_it():
    for name, targets in GRAPH.items():
        if name.startswith("emulator.core"):
            outside = {t for t in targets if not t.startswith("emulator.core")}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_vendors_import_only_the_core_and_themselves():
    for vendor in VENDOR_PACKAGES:
        for name, targets in GRAPH.items():
            if name == vendor or name.startswith(vendor + "."):
                foreign = {t for t in targets
                           if not (t == vendor or t.startswith(vendor + ".") or t.startswith("emulator.core"))}
                assert not foreign, f"{name} imports {sorted(foreign)}"


_IMPORT_EACH = """
import importlib, json, sys
results = {}
vendor_packages = [tuple(v.split(".")) for v in json.loads(sys.argv[2])]
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "emulator" or m.startswith("emulator.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
        continue
    vendors = sorted(m for m in sys.modules if tuple(m.split(".")[:2]) in vendor_packages)
    if name.startswith("emulator.core") and vendors:
        results[name] = "loaded vendor modules: " + ", ".join(vendors)
print(json.dumps(results))
"""


def test_each_module_imports_on_its_own():
    """Each module imported first in a clean slate (flask stays loaded: one interpreter, fast);
    importing a core module must not load any vendor."""
    names = sorted(n for n in MODULES if n != "emulator.__main__")
    names.append("emulator.__main__")  # importable without running (main() is behind __name__)
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(names), json.dumps(VENDOR_PACKAGES)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {}
