"""The layout rules of providers/, operations/ and policies/, as functions over any source tree.

tests/unit/test_layout.py applies them to this repository, and to small trees planted with one
violation each, so that every rule is shown to catch what it forbids. The import graph is read from
the source with `ast` (every import, also those inside functions: a lazy import that closes a circle
is still a circle; those under `if TYPE_CHECKING:` are annotations only, never run).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("providers", "operations", "policies")
# The command layer: the only modules that may import click, and the only ones that may import a command.
COMMAND_LAYER = ("operations.cli", "operations.__main__", "operations.commands")


@dataclass
class Tree:
    root: Path
    modules: dict[str, Path]          # dotted name -> file
    graph: dict[str, set[str]]        # module -> the project's modules it imports (run-time imports only)
    externals: dict[str, set[str]]    # module -> the top-level names of other packages it imports


def read_tree(root: Path, packages: tuple[str, ...] = PACKAGES) -> Tree:
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py") if (root / package).is_dir() else ():
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph, externals = {}, {}
    for name, path in modules.items():
        graph[name], externals[name] = _imports(name, path, modules, packages)
    return Tree(root, modules, graph, externals)


def _run_time_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (annotations only: never imported when run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in (child, *_run_time_nodes(child)))
            continue
        yield node
        yield from _run_time_nodes(node)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, modules: dict[str, Path], packages: tuple[str, ...]) -> tuple[set[str], set[str]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    external: set[str] = set()
    for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                (targets.add if alias.name.split(".")[0] in packages else lambda n: external.add(n.split(".")[0]))(
                    alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if base_name.split(".")[0] not in packages:
                external.add(base_name.split(".")[0])
                continue
            for alias in node.names:  # `from . import describe` names the package, `from . import store` a module
                full = f"{base_name}.{alias.name}"
                targets.add(full if full in modules else base_name)
    return {t for t in (_resolve(t, modules) for t in targets) if t and t != module}, external


def in_command_layer(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in COMMAND_LAYER)


# --- the rules: each returns its violations, as sentences ---------------------------------------------

def click_outside_the_command_layer(tree: Tree) -> list[str]:
    """Only operations/cli.py and operations/commands/ import click."""
    return [f"{name} imports click" for name, names in sorted(tree.externals.items())
            if "click" in names and not in_command_layer(name)]


def workflows_importing_commands(tree: Tree) -> list[str]:
    """No module outside the command layer imports a command (or the entry point)."""
    return [f"{name} imports {target}" for name, targets in sorted(tree.graph.items()) if not in_command_layer(name)
            for target in sorted(targets) if in_command_layer(target)]


def policy_pack_importing_the_tool(tree: Tree) -> list[str]:
    """The policy pack and the tool do not depend on each other's way round: the pack imports no tool module."""
    return [f"{name} imports {target}" for name, targets in sorted(tree.graph.items()) if name.startswith("policies")
            for target in sorted(targets) if target.startswith("operations")]


def private_names_across_packages(root: Path, files: list[Path], packages: tuple[str, ...]) -> list[str]:
    """`from pkg.module import _name`, or `module._name` on an imported project module, where the module
    is not in the importer's own package: a private name used from outside."""
    found = []
    for path in files:
        source = ast.parse(path.read_text(encoding="utf-8"))
        own = ".".join(path.relative_to(root).parts[:-1])
        aliases: dict[str, str] = {}
        for node in ast.walk(source):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in packages:
                for alias in node.names:
                    if _private(alias.name) and own not in (node.module, node.module.rpartition(".")[0]):
                        found.append(f"{path.relative_to(root)}: from {node.module} import {alias.name}")
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in packages:
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                            alias.name.split(".")[0]
        for node in ast.walk(source):
            if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and aliases[node.value.id].rpartition(".")[0] != own:
                found.append(f"{path.relative_to(root)}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


_IMPORT_EACH = """
import importlib, json, os, signal, sys
names, vendors, generic, packages = (json.loads(a) for a in sys.argv[1:5])
vendors, generic = set(vendors), set(generic)
HANDLED = [s for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)]
results = {}
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in packages]:
        del sys.modules[loaded]
    env, handlers = dict(os.environ), {s: signal.getsignal(s) for s in HANDLED}
    try:
        importlib.import_module(name)
    except Exception as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
        continue
    changed = sorted(set(env.items()) ^ set(os.environ.items()))
    if changed:
        results[name] = "changed os.environ: " + ", ".join(sorted({k for k, _ in changed}))
        os.environ.clear(); os.environ.update(env)
    moved = [s.name for s in HANDLED if signal.getsignal(s) != handlers[s]]
    if moved:
        results[name] = "changed signal handlers: " + ", ".join(moved)
        for s in HANDLED:
            signal.signal(s, handlers[s])
    if name in generic:
        loaded = sorted(m for m in sys.modules if m.startswith("providers") and set(m.split(".")) & vendors)
        if loaded:
            results[name] = "loaded vendor modules: " + ", ".join(loaded)
print(json.dumps(results))
"""


def import_problems(tree: Tree, names: list[str], vendors: list[str] = (), generic: list[str] = ()) -> dict[str, str]:
    """Each module imported first in a clean slate (the SDK and pydantic stay loaded: one interpreter):
    what fails to import, changes os.environ or a signal handler, or (a generic module) loads a vendor."""
    packages = sorted({n.split(".")[0] for n in names})
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(names), json.dumps(list(vendors)),
                           json.dumps(list(generic)), json.dumps(packages)],
                          capture_output=True, text=True, timeout=300, cwd=tree.root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
