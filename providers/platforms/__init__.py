"""The platforms, by name: the one list of vendors, one line each.

Each line names the module holding that vendor's description (its `PLATFORM`, see description.py),
imported on first use: the names are known without importing any vendor, and a stack's preview
loads its own platform's description only. Every other list of platforms in the code is derived
from this one (see "Adding a platform" in providers/README.md).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .description import Platform

REGISTRY: dict[str, str] = {
    "cakemail": "providers.platforms.cakemail",
    "signupto": "providers.platforms.signupto",
    "ciirus": "providers.platforms.ciirus",
    "sendgrid": "providers.platforms.sendgrid",
}

_described: dict[str, "Platform"] = {}
_lock = threading.Lock()


class UnknownPlatform(KeyError):
    def __str__(self) -> str:
        return f"unknown platform {self.args[0]!r}; supported: {', '.join(names())}"


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def describe(name: str) -> "Platform":
    """The description of platform `name`, imported on first use."""
    if name not in REGISTRY:
        raise UnknownPlatform(name)
    with _lock:
        if name not in _described:
            platform = importlib.import_module(REGISTRY[name]).PLATFORM
            if platform.name != name:
                raise ValueError(f"{REGISTRY[name]} describes {platform.name!r}, registered as {name!r}")
            _described[name] = platform
        return _described[name]


def described() -> list["Platform"]:
    """Every platform's description (imports them all: not for a preview's hot path)."""
    return [describe(name) for name in REGISTRY]


def offering(resource: str) -> tuple[str, ...]:
    """The platforms whose API offers `resource` (imports every description)."""
    return tuple(p.name for p in described() if p.offers(resource))
