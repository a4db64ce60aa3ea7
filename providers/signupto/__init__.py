"""The signupto client, imported on first use: its models alone (what preview needs) do not load `requests`."""

# Endpoint facts, here so that settings can check them at preview without loading the client.
DEFAULT_API_URL = "https://api.sign-up.to"

__all__ = ["SignupToClient"]


def __getattr__(name: str):
    if name in __all__:
        from . import client
        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
