"""The emulator's core: app factory, store, faults, request log, control API and DNS zone.

It knows vendors only through the `Vendor` descriptions handed to `create_app`; nothing here
imports a vendor package (tests/emulator/test_layout.py checks it).
"""

from .app import create_app
from .vendor import Registry, Vendor

__all__ = ["Registry", "Vendor", "create_app"]
