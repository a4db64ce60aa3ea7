"""What a vendor API tells the core about itself, and the registry the app factory is handed.

The core (app factory, store, faults, request log, control API) needs to know which paths belong
to which vendor, how that vendor shapes an error body, which SQLite tables it owns, which control
routes it adds and which rate limit it documents, if any. Each vendor package exports one `Vendor`
with those facts; the list of vendors is given to `create_app` from outside, so the core never
imports a vendor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from flask import Blueprint

# error_body(status, message) -> (json body, extra headers)
ErrorBody = Callable[[int, str], "tuple[Any, dict[str, str]]"]


@dataclass(frozen=True)
class Window:
    """One user's use of one endpoint in the current refresh period, as the answer announces it."""

    limit: int
    remaining: int
    reset: int  # Unix time (seconds) when the period ends
    allowed: bool


@dataclass(frozen=True)
class RateLimit:
    """A vendor's documented limit: `limit` requests per `period_seconds` per user and endpoint, by
    default (rate_limits.py counts them)."""

    limit: int
    period_seconds: float
    headers: Callable[[Window], dict[str, str]]  # what every counted answer carries


@dataclass(frozen=True)
class Vendor:
    """One emulated API, mounted under `prefix` (e.g. /cakemail)."""

    name: str
    prefix: str
    create_blueprint: Callable[[], Blueprint]
    error_body: ErrorBody
    # The vendor's own SQLite tables (CREATE TABLE IF NOT EXISTS ...) and the ones /_control/reset wipes.
    schema: str = ""
    tables: tuple[str, ...] = ()
    # Adds the vendor's routes to the /_control blueprint (e.g. POST /_control/<vendor>/partners).
    register_control: Optional[Callable[[Blueprint], None]] = None
    # The vendor's documented rate limit (rate_limits.py), on by default; None: it documents none.
    rate_limit: Optional[RateLimit] = None

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


class Registry:
    """The vendors one app serves, in registration order; names and base paths must not clash."""

    def __init__(self, vendors: Iterable[Vendor]):
        self._vendors = tuple(vendors)
        for i, vendor in enumerate(self._vendors):
            if not vendor.prefix.startswith("/") or vendor.prefix.endswith("/"):
                raise ValueError(f"vendor {vendor.name!r}: prefix must look like /name")
            if vendor.prefix == "/_control":
                raise ValueError(f"vendor {vendor.name!r}: /_control belongs to the core")
            for other in self._vendors[:i]:
                if vendor.name == other.name or vendor.owns(other.prefix) or other.owns(vendor.prefix):
                    raise ValueError(f"vendors {other.name!r} and {vendor.name!r} clash")

    def __iter__(self) -> Iterator[Vendor]:
        return iter(self._vendors)

    def for_path(self, path: str) -> Vendor | None:
        return next((v for v in self._vendors if v.owns(path)), None)
