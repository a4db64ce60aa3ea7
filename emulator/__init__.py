"""Local emulator of the partner APIs (Cakemail now; Sign-Up.to and Ciirus later).

Lets the providers and their tests run against realistic HTTP behaviour, with injectable faults
and a request log, without touching the vendors' real services.
"""

from .server import EmulatorServer

__all__ = ["EmulatorServer"]
