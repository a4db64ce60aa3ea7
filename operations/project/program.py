"""The project's program as data: `stacks/customer.py`'s `plan` (the resources a declaration makes),
loaded in this process, so the tool compares a declaration with the state by the program's own code."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Optional

_loading = threading.Lock()


def load_composition(project_dir: Path) -> Optional[ModuleType]:
    """The project's own stacks/customer.py (its `plan`), loaded under a private name."""
    path = project_dir / "stacks" / "customer.py"
    if not path.exists():
        return None
    name = f"_email_partners_customer_{abs(hash(str(path)))}"
    with _loading:
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dataclasses look their module up while it runs
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return sys.modules[name]
