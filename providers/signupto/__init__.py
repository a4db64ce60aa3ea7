"""The Sign-Up.to client, imported on first use (providers/lazy.py)."""

from ..lazy import client_exports

# Endpoint facts, here so that the platform description reads them without loading the client.
DEFAULT_API_URL = "https://api.sign-up.to"

__all__ = ["SignupToClient"]

__getattr__ = client_exports(__name__, __all__)
