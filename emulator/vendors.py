"""Registry of the vendor APIs the emulator speaks, one base path each.

The app factory, the fault injector and the request logger all need to know which paths belong to
which vendor and how that vendor shapes an error body; keeping that in one list means adding a
vendor (Sign-Up.to under /signupto, Ciirus under /ciirus) is one module plus one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from flask import Blueprint

# error_body(status, message) -> (json body, extra headers)
ErrorBody = Callable[[int, str], "tuple[Any, dict[str, str]]"]


@dataclass(frozen=True)
class Vendor:
    name: str
    prefix: str
    create_blueprint: Callable[[], Blueprint]
    error_body: ErrorBody
    # The vendor's own SQLite tables (CREATE TABLE IF NOT EXISTS ...) and the ones /_control/reset wipes.
    schema: str = ""
    tables: tuple[str, ...] = ()
    # Adds the vendor's routes to the /_control blueprint (e.g. POST /_control/<vendor>/partners).
    register_control: Optional[Callable[[Blueprint], None]] = None

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


def all_vendors() -> list[Vendor]:
    """Every vendor, in registration order (imported lazily to keep imports acyclic)."""
    from . import cakemail, control_signupto, signupto, signupto_store
    from . import cakemail_dkim, ciirus, ciirus_store, control_ciirus, dns_zone

    return [
        Vendor("cakemail", "/cakemail", cakemail.create_blueprint, cakemail.error_body),
        Vendor("signupto", "/signupto", signupto.create_blueprint, signupto.error_body,
               schema=signupto_store.SCHEMA, tables=signupto_store.TABLES,
               register_control=control_signupto.register),
        # The shared DNS zone and the Cakemail DKIM keys (verified through it) ride with Ciirus.
        Vendor("ciirus", "/ciirus", ciirus.create_blueprint, ciirus.error_body,
               schema=ciirus_store.SCHEMA + dns_zone.SCHEMA + cakemail_dkim.SCHEMA,
               tables=ciirus_store.TABLES + dns_zone.TABLES + cakemail_dkim.TABLES,
               register_control=control_ciirus.register),
    ]


def vendor_for_path(path: str) -> Vendor | None:
    for vendor in all_vendors():
        if vendor.owns(path):
            return vendor
    return None
