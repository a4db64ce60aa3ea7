"""The sendgrid client, imported on first use: its models alone (what preview needs) do not load `requests`."""

# Endpoint facts, here so that settings can check them at preview without loading the client.
DEFAULT_API_URL = "https://api.sendgrid.com"
EU_API_URL = "https://api.eu.sendgrid.com"  # for subusers pinned to the EU region (the spec's second server)

__all__ = ["SendGridClient", "SubuserExists", "SubuserNotFound"]


def __getattr__(name: str):
    if name in __all__:
        from . import client
        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
