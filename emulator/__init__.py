"""Local emulator of the partner APIs (Cakemail, Sign-Up.to, Ciirus, SendGrid).

Lets the providers and their tests run against realistic HTTP behaviour, with injectable faults
and a request log, without touching the vendors' real services. Layout (README.md): core/ is the
vendor-neutral machinery, one package per vendor, and server.py hands the vendor list to the core.

`EmulatorServer` and `VENDORS` are loaded on first use, so importing `emulator.core` (or one
vendor) does not load every vendor.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EmulatorServer", "VENDORS"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
