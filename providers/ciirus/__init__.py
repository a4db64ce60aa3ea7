"""The ciirus client, imported on first use: its models alone (what preview needs) do not load `requests`."""

# Endpoint facts, here so that settings can check them at preview without loading the client.
DEFAULT_API_URL = "https://api.ciiruspartners.com"
DEFAULT_API_VERSION = "v2024.07.31"
API_VERSIONS = ("v2023.07.31", "v2024.07.31")

__all__ = ["CiirusClient", "SubAccountExists"]


def __getattr__(name: str):
    if name in __all__:
        from . import client
        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
