"""The SendGrid client, imported on first use (providers/lazy.py)."""

from ..lazy import client_exports

# Endpoint facts, here so that the platform description reads them without loading the client.
DEFAULT_API_URL = "https://api.sendgrid.com"
EU_API_URL = "https://api.eu.sendgrid.com"  # for subusers pinned to the EU region (the spec's second server)

__all__ = ["SendGridClient", "SubuserExists", "SubuserNotFound"]

__getattr__ = client_exports(__name__, __all__)
