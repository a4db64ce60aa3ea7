"""The project's program inline: one Python process for a fleet's programs.

By default `pulumi preview` starts a language host, which starts a Python process that imports
the SDK, pydantic and this project's code, for every customer: most of a no-op run's cost. A
fleet run instead passes the program to the Automation API, which serves it from this process
(`--client`): the same file, stacks/__main__.py, executed for each stack with the same config,
so the state and outputs are those of `pulumi up` by hand (tests/e2e/test_inline_program.py).
The engine and each stack's dynamic-provider process are unchanged: every vendor request still
happens in the provider process, which imports only the platform it uses.
The SDK keeps a program's state in context variables, and runs each inline program in a copied
context (pulumi/automation/_server.py), so several run at once in one process. What it does not
make safe is serialize_provider (see guard_provider_serialization).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

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
    guard_provider_serialization()
    with _INLINE_LOCK:
        if str(main_file.parent) not in sys.path:  # as the language host does: the program's modules import
            sys.path.insert(0, str(main_file.parent))

    def program() -> None:
        exec(code, {"__name__": "__main__", "__file__": str(main_file), "__builtins__": __builtins__})

    return program


_INLINE_LOCK = threading.Lock()


def guard_provider_serialization() -> None:
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
