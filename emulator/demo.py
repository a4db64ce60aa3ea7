"""The demo's partner identities, one per vendor and example environment (demo values, never real ones).

`--seed-demo` creates every identity that `stacks/environments/*.yaml` names, so the README's
journeys (`new`, `clone`, `discover` in staging, production or sandbox-alice) authenticate as
written, and one customer account that no stack made (`seed_accounts`: what `discover` finds). The secrets below are the values the README gives for the variables those files name
(`STAGING_CAKEMAIL_PASSWORD=...`); tests/emulator/test_demo_seed.py holds the two together.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

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
SENDGRID_PARENTS = {
    SENDGRID_PARENT: SENDGRID_API_KEY,                                               # demo stacks, production
    "staging-parent": "SG.staging-parent-key00.staging-secret-never-a-real-sendgrid-key-00",  # staging
}

# The demo stacks and the `production` environment use the first identity of each vendor.
CAKEMAIL_PARTNERS = {
    cakemail_store.DEMO_USERNAME: cakemail_store.DEMO_PASSWORD,      # demo stacks, production
    "staging-partner@example.com": "staging-password",               # staging
    "sandbox-alice@example.com": "sandbox-alice-password",           # sandbox-alice
}
SIGNUPTO_PARTNERS = {
    SIGNUPTO_PARTNER_ID: SIGNUPTO_PARTNER_KEY,                       # demo stacks, production
    1002: "staging0partner0key000000000000000000040",                 # staging
    1003: "sandbox0alice0partner0key000000000000040",                # sandbox-alice
}
CIIRUS_USERS = {
    CIIRUS_USERNAME: CIIRUS_PASSWORD,                                # demo stacks, production
    "staging-api-user": "staging-password",                          # staging
}


# A customer the production partner has had since before any stack (made in the partner console, say):
# the README's `discover` brings it under management. Made through the API itself, once (by its name).
FLORIST = {"name": "Florist", "usage_limits": {"per_month": 20000, "maximum_contacts": 5000},
           "account_owner": {"email": "owner@florist.example", "first_name": "Flora", "last_name": "Green"}}
FLORIST_DOMAIN = "news.florist.example"


def seed_accounts(base_url: str) -> None:
    """The accounts the demo partners already have, through the running emulator's own API (idempotent)."""
    api = f"{base_url}/cakemail"

    def call(method: str, path: str, body=None, token=None, form=None):
        data = urllib.parse.urlencode(form).encode() if form else (json.dumps(body).encode() if body else None)
        headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with urllib.request.urlopen(urllib.request.Request(api + path, data, headers, method=method), timeout=10) as r:
            return json.loads(r.read() or b"null")

    token = call("POST", "/token", form={"grant_type": "password", "username": cakemail_store.DEMO_USERNAME,
                                         "password": cakemail_store.DEMO_PASSWORD})["access_token"]
    named = call("GET", "/accounts?" + urllib.parse.urlencode({"filter": f"name=={FLORIST['name']}"}), token=token)
    if named["data"]:
        return
    account = call("POST", "/accounts", FLORIST, token)["data"]
    call("POST", f"/brands/default/dkim?account_id={account['id']}", {"domain": FLORIST_DOMAIN}, token)


def seed(store: Store) -> None:
    """Idempotent: running the demo again finds the same credentials (and the same data)."""
    for username, password in CAKEMAIL_PARTNERS.items():
        cakemail_store.ensure_partner(store, username, password)
    for partner_id, key in SIGNUPTO_PARTNERS.items():
        signupto_store.upsert_partner(store, partner_id, key)
    for username, password in CIIRUS_USERS.items():
        ciirus_store.upsert_user(store, username, password)
    for username, key in SENDGRID_PARENTS.items():
        parent = sendgrid_store.ensure_parent(store, username, f"{username}@example.com")
        sendgrid_store.add_api_key(store, parent["id"], key)
