"""The inline path's use of the SDK's private API (operations/engine/inline.py, automation.py): provider serialization
made safe for many programs in one process, and what the inline program is. When the SDK changes
what these rely on, these tests fail and say what to re-check. The same state and outputs as the
CLI path, per platform, are proved through the engine in tests/e2e/test_inline_program.py."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pulumi.dynamic import ResourceProvider, dynamic

from operations.engine import automation
from operations.engine import inline as inline_module

REPO = Path(__file__).resolve().parents[2]


def test_the_sdk_still_patches_pickle_the_way_the_guard_expects():
    """If this fails, the SDK changed what guard_provider_serialization works around: re-read
    pulumi/dynamic/dynamic.py's serialize_provider, and adapt the guard or drop it."""
    import inspect

    assert "serialize_provider" in inspect.getsource(dynamic.Resource.__init__), \
        "Resource.__init__ no longer calls the module's serialize_provider: the guard is not used"
    sdk_function = getattr(dynamic.serialize_provider, "sdk_function", dynamic.serialize_provider)
    body = inspect.getsource(sdk_function)
    assert "pickle.Pickler._batch_setitems" in body and "pickle.Pickler.save_dict" in body, \
        "serialize_provider no longer patches pickle's Pickler: the guard's reset is pointless"


PROVIDER_CODE = textwrap.dedent("""
    from providers.resources.sub_account import SubAccountProvider
    from pulumi.dynamic import dynamic
    print(dynamic.serialize_provider(SubAccountProvider()))
""")


class HoldsADict(ResourceProvider):
    def __init__(self):
        self.settings = {"b": 2, "a": 1}


UNGUARDED = textwrap.dedent("""
    from pulumi.dynamic import dynamic, ResourceProvider
    class HoldsADict(ResourceProvider):
        def __init__(self):
            self.settings = {"b": 2, "a": 1}
    for i in range(1000):
        dynamic.serialize_provider(HoldsADict())
""")


def test_unguarded_the_sdk_fails_after_some_hundred_providers_in_one_process():
    """Why the guard exists (and, when this fails, the sign that the SDK fixed it): each call wraps
    the previous call's patch, so a provider holding a dict recurses once per earlier call."""
    run = subprocess.run([sys.executable, "-c", UNGUARDED], cwd=REPO, capture_output=True, text=True)
    assert run.returncode != 0 and "RecursionError" in run.stderr, run.stderr[-2000:]


def test_many_serializations_in_threads_give_a_fresh_processs_bytes(monkeypatch):
    from providers.resources.sub_account import SubAccountProvider

    fresh = subprocess.run([sys.executable, "-c", PROVIDER_CODE], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.strip()
    monkeypatch.setattr(dynamic, "serialize_provider", dynamic.serialize_provider)  # undone after the test
    monkeypatch.setattr(pickle._Pickler, "_batch_setitems", pickle._Pickler._batch_setitems)
    monkeypatch.setattr(pickle._Pickler, "save_dict", pickle._Pickler.save_dict)
    inline_module.guard_provider_serialization()
    inline_module.guard_provider_serialization()  # installing twice wraps once
    guarded = dynamic.serialize_provider
    assert guarded.guarded_by_email_partners

    def serialize(i):
        return dynamic.serialize_provider(SubAccountProvider() if i % 2 else HoldsADict())

    # Guarded, 1,500 calls in 4 threads all work, and our providers' bytes are a fresh process's.
    with ThreadPoolExecutor(4) as pool:
        results = set(pool.map(serialize, range(1500)))
    assert len(results) == 2 and fresh in results
    assert pickle.Pickler is not pickle._Pickler  # the C pickler is back for everyone else


@pytest.mark.parametrize("pulumi_yaml, inline", [
    ("name: p\nruntime: python\nmain: stacks/\n", True),
    ("name: p\nruntime:\n  name: python\nmain: stacks/\n", True),
    ("name: p\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n", False),  # options: the engine's job
    ("name: p\nruntime: nodejs\n", False),
])
def test_inline_only_for_a_plain_python_project(tmp_path, monkeypatch, pulumi_yaml, inline):
    (tmp_path / "Pulumi.yaml").write_text(pulumi_yaml)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "__main__.py").write_text("import pulumi\n")
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(dynamic, "serialize_provider", dynamic.serialize_provider)
    assert (inline_module.inline_program(tmp_path) is not None) is inline
    monkeypatch.setenv(inline_module.INLINE_VARIABLE, "0")
    assert inline_module.inline_program(tmp_path) is None


def test_an_inline_programs_exception_reads_as_the_cli_paths_one_line_reason():
    from operations.engine.errors import one_line_error

    diagnostics = ["python inline source runtime error: customer.features: boom\nTraceback (most recent call last):\n"]
    assert one_line_error(RuntimeError("x"), diagnostics) == "customer.features: boom"


def test_the_sdk_stack_is_still_made_of_what_open_stack_sets():
    """open_stack builds an Automation API Stack without its __init__ (which runs `pulumi stack select`,
    not safe with several threads): if the SDK's Stack gains state of its own, re-read open_stack."""
    import inspect

    from pulumi import automation as auto
    from pulumi.automation._stack import StackInitMode

    body = inspect.getsource(auto.Stack.__init__)
    assigned = set(re.findall(r"^\s*self\.(\w+)\s*=", body, re.M))
    assert assigned == {"name", "workspace", "_mode"}, \
        f"auto.Stack.__init__ now sets {sorted(assigned)}: open_stack (object.__new__) must set them too"
    stack = automation.open_stack(object(), "acme.production")
    assert (stack.name, stack._mode) == ("acme.production", StackInitMode.SELECT) and isinstance(stack, auto.Stack)


def test_grpc_fork_support_is_off_before_grpc_loads():
    """A fleet run's threads start `pulumi` processes while gRPC serves engine events: the tool turns
    gRPC's fork handlers off, which only works before grpc is imported. The command line's entry does it
    (operations/engine/environment.py's prepare_process), not an import: importing the entry loads no SDK."""
    code = textwrap.dedent("""
        import os, sys
        class Spy:  # says what the variable was when grpc is first imported
            def find_spec(self, name, path, target=None):
                if name == "grpc":
                    print("grpc imported with", os.environ.get("GRPC_ENABLE_FORK_SUPPORT"))
        sys.meta_path.insert(0, Spy())
        import operations.cli
        print("after import", os.environ.get("GRPC_ENABLE_FORK_SUPPORT"), "grpc" in sys.modules)
        try:
            operations.cli.main(["fleet", "preview", "--help"])
        except SystemExit:
            pass
    """)
    env = {k: v for k, v in os.environ.items() if k != "GRPC_ENABLE_FORK_SUPPORT"}
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, check=True)
    lines = [line for line in run.stdout.splitlines() if line.startswith(("grpc imported", "after import"))]
    assert lines == ["after import None False", "grpc imported with false"], run.stdout + run.stderr
