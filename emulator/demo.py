"""The demo's partner credentials, one set per vendor (demo values, never real ones)."""

from __future__ import annotations

from .cakemail import store as cakemail_store
from .ciirus import store as ciirus_store
from .core.store import Store
from .sendgrid import store as sendgrid_store
from .signupto import store as signupto_store

SIGNUPTO_PARTNER_ID = 1001
SIGNUPTO_PARTNER_KEY = "demo0partner0key000000000000000000000040"  # 40 characters, as the scheme requires
CIIRUS_USERNAME = "demo-api-user"
CIIRUS_PASSWORD = "demo-password"
SENDGRID_PARENT = "demo-parent"
# Shaped like a real key (SG.<id>.<secret>) so clients that check the prefix accept it.
SENDGRID_API_KEY = "SG.demo-parent-api-key0.demo-secret-never-a-real-sendgrid-key-0000"


def seed(store: Store) -> None:
    """Idempotent: running the demo again finds the same credentials (and the same data)."""
    cakemail_store.ensure_partner(store, cakemail_store.DEMO_USERNAME, cakemail_store.DEMO_PASSWORD)
    signupto_store.upsert_partner(store, SIGNUPTO_PARTNER_ID, SIGNUPTO_PARTNER_KEY)
    ciirus_store.upsert_user(store, CIIRUS_USERNAME, CIIRUS_PASSWORD)
    parent = sendgrid_store.ensure_parent(store, SENDGRID_PARENT, "demo-parent@example.com")
    sendgrid_store.add_api_key(store, parent["id"], SENDGRID_API_KEY)
