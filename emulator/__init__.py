"""Local emulator of the partner APIs (Cakemail, Sign-Up.to, Ciirus).

Lets the providers and their tests run against realistic HTTP behaviour, with injectable faults
and a request log, without touching the vendors' real services. Layout (README.md): core/ is the
vendor-neutral machinery, one package per vendor, and server.py hands the vendor list to the core.
"""

from .server import VENDORS, EmulatorServer

__all__ = ["EmulatorServer", "VENDORS"]
