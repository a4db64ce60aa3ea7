"""The layout of providers/, operations/ and policies/: imports flow one way, a vendor's code stays in its
folders, and the tool is a library with a thin command line (the rules themselves: tests/unit/layout.py).

As tests/emulator/test_layout.py does for the emulator, the graph is read from the source, then each
module is imported first thing in a fresh interpreter. The rules:
- no circle, in any package;
- the HTTP core (http, shared_reads, naming, lazy) imports nothing above it;
- a vendor's modules (its client package, its description, its handlers) import no other vendor's;
- the generic layers (the registry and descriptions' machinery, the handler contract, the
  resources) import no vendor's module, and importing one loads none;
- the provider side imports nothing of the tool; the tool imports providers only through the
  registry, the handler contract and the resources' public modules, never a vendor's module;
- only the command layer (operations/cli.py, operations/commands/) imports click, and no workflow
  imports a command; the policy pack imports nothing of the tool;
- importing a module changes neither os.environ nor a signal handler;
- no module, test or benchmark uses another package's private (`_name`) names.
Each rule of the tool's layout is also shown to catch a violation planted in a tree of its own.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from providers.platforms import REGISTRY, names

from .layout import (click_outside_the_command_layer, import_problems, policy_pack_importing_the_tool,
                     private_names_across_packages, read_tree, workflows_importing_commands)

REPO = Path(__file__).resolve().parents[2]
CORE = {"providers.http", "providers.rate_limits", "providers.shared_reads", "providers.naming", "providers.lazy"}
# Kept for the programs of earlier releases (see the module's docstring): it re-exports the Ciirus description's model.
COMPAT = {"providers.resources.sub_account.ciirus"}
# What the tool may import of providers: the registry and the descriptions' machinery, the handler
# contract and each resource's shared handler base, the resources' public modules, the HTTP core, and the
# ownership vocabulary the tool shares with the policy pack and the providers (providers/ownership.py).
TOOL_MAY_IMPORT = {"providers.platforms", "providers.platforms.settings", "providers.platforms.clients",
                   "providers.platforms.credentials", "providers.platforms.description",
                   "providers.handlers.base", "providers.handlers.sub_account", "providers.handlers.account_features",
                   "providers.handlers.sending_domain", "providers.handlers.domain_verification",
                   "providers.resources.catalog", "providers.resources.common", "providers.resources.sub_account",
                   "providers.resources.account_features", "providers.resources.sending_domain",
                   "providers.resources.domain_verification", "providers.http", "providers.rate_limits",
                   "providers.validators", "providers.naming", "providers.ownership"}

TREE = read_tree(REPO)
MODULES, GRAPH = TREE.modules, TREE.graph


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
    assert "operations.engine.automation" in GRAPH["operations.fleet.operation"]
    assert "operations.commands.common" in GRAPH["operations.cli"]  # a lazy import inside a function
    assert "providers.naming" in GRAPH["policies.settings"]
    assert "click" in TREE.externals["operations.commands.fleet"]
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
        elif name.startswith("operations"):
            reached = {t for t in targets if t.startswith("providers")}
            assert reached <= TOOL_MAY_IMPORT, f"{name} imports {sorted(reached - TOOL_MAY_IMPORT)}"


def test_each_module_imports_on_its_own_changes_nothing_and_a_generic_one_loads_no_vendor():
    """Each module imported first in a clean slate: it imports, leaves os.environ and every signal handler
    as they were (the command line's entry prepares the process, explicitly), and a generic one loads no vendor."""
    listed = sorted(n for n in MODULES if n not in ("operations.__main__", "policies.__main__"))
    generic = sorted(n for n in listed if n.startswith("providers") and vendor_of(n) is None and n not in COMPAT)
    assert import_problems(TREE, listed, list(names()), generic) == {}


# --- the tool: a library with a thin command line ----------------------------------------------------------

def test_only_the_command_layer_imports_click():
    assert click_outside_the_command_layer(TREE) == []


def test_no_workflow_imports_a_command():
    assert workflows_importing_commands(TREE) == []


def test_the_policy_pack_imports_nothing_of_the_tool():
    assert policy_pack_importing_the_tool(TREE) == []


def test_no_private_name_is_used_across_packages():
    files = [p for d in ("operations", "providers", "policies", "tests", "benchmarks") for p in (REPO / d).rglob("*.py")]
    assert private_names_across_packages(REPO, files, ("providers", "operations", "policies", "emulator")) == []


def _planted(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    for package in ("operations", "policies"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return read_tree(tmp_path)


def test_a_workflow_that_imports_click_is_caught(tmp_path):
    tree = _planted(tmp_path, {"operations/commands/__init__.py": "", "operations/commands/ok.py": "import click\n",
                               "operations/fleet/__init__.py": "", "operations/fleet/run.py": "import click\n"})
    assert click_outside_the_command_layer(tree) == ["operations.fleet.run imports click"]


def test_a_workflow_that_imports_a_command_is_caught(tmp_path):
    tree = _planted(tmp_path, {"operations/commands/__init__.py": "", "operations/commands/fleet.py": "",
                               "operations/fleet/__init__.py": "",
                               "operations/fleet/run.py": "def f():\n    from ..commands import fleet\n"})
    assert workflows_importing_commands(tree) == ["operations.fleet.run imports operations.commands.fleet"]


def test_a_policy_pack_that_imports_the_tool_is_caught(tmp_path):
    tree = _planted(tmp_path, {"operations/project.py": "X = 1\n",
                               "policies/settings.py": "from operations.project import X\n"})
    assert policy_pack_importing_the_tool(tree) == ["policies.settings imports operations.project"]


def test_a_module_that_changes_the_environment_or_a_signal_on_import_is_caught(tmp_path):
    tree = _planted(tmp_path, {"operations/quiet.py": "import os\nVALUE = os.environ.get('HOME')\n",
                               "operations/env.py": "import os\nos.environ.setdefault('PLANTED_BY_THE_TEST', '1')\n",
                               "operations/sig.py": "import signal\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"})
    assert import_problems(tree, ["operations.env", "operations.quiet", "operations.sig"]) == {
        "operations.env": "changed os.environ: PLANTED_BY_THE_TEST",
        "operations.sig": "changed signal handlers: SIGUSR1"}


def test_a_private_name_used_from_another_package_is_caught(tmp_path):
    files = {"operations/engine/cli.py": "def _checked():\n    pass\n",
             "operations/engine/other.py": "from operations.engine.cli import _checked\n",
             "operations/customers/retire.py": "from operations.engine import cli\ncli._checked()\n",
             "benchmarks/bench.py": "from operations.engine.cli import _checked\n"}
    _planted(tmp_path, files)
    found = private_names_across_packages(tmp_path, [tmp_path / f for f in files], ("operations",))
    assert found == ["operations/customers/retire.py: cli._checked (operations.engine.cli)",
                     "benchmarks/bench.py: from operations.engine.cli import _checked"]
