"""The Ciirus client, imported on first use (providers/lazy.py)."""

from ..lazy import client_exports

# Endpoint facts, here so that the platform description reads them without loading the client.
DEFAULT_API_URL = "https://api.ciiruspartners.com"
DEFAULT_API_VERSION = "v2024.07.31"
API_VERSIONS = ("v2023.07.31", "v2024.07.31")

__all__ = ["CiirusClient", "SubAccountExists"]

__getattr__ = client_exports(__name__, __all__)
