"""The Cakemail client, imported on first use (providers/lazy.py)."""

from ..lazy import client_exports

# Endpoint facts, here so that the platform description reads them without loading the client.
DEFAULT_API_URL = "https://api.cakemail.dev"

__all__ = ["CakemailClient"]

__getattr__ = client_exports(__name__, __all__)
