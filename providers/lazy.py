"""A vendor package's client, imported on first use: its models alone (what a preview needs) do not load
`requests`. A package names what its `client` module exports; `from providers.cakemail import
CakemailClient` then imports the client only when that name is asked for."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterable


def client_exports(package: str, names: Iterable[str]) -> Callable[[str], Any]:
    """The package's module-level `__getattr__` for `names`, taken from `<package>.client`."""
    exported = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name in exported:
            return getattr(importlib.import_module(f"{package}.client"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
