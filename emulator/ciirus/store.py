"""Ciirus tables and data access: API users (HTTP Basic credentials) and their one sub-account each.

Kept apart from the HTTP layer so the control API can create users without going through HTTP.
Only what a client can change or must see again is stored; the sending counters and reputation
are constants because nothing is ever sent through the emulator.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone
from typing import Any

from ..core.store import Store, check_password, hash_password

SCHEMA = """
CREATE TABLE IF NOT EXISTS ciirus_users (
    user_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ciirus_subaccounts (
    user_id          INTEGER PRIMARY KEY,   -- one sub-account per API user
    sending_domain   TEXT NOT NULL,
    dns_value        TEXT NOT NULL,         -- mandrill_verify.<key>, new for every domain
    dkim_value       TEXT NOT NULL,         -- v=DKIM1; k=rsa; p=<key>, new for every domain
    daily_send_limit INTEGER NOT NULL,
    approved         INTEGER NOT NULL,
    created_at       TEXT NOT NULL          -- naive UTC, as the seed prints it
);
"""
TABLES = ("ciirus_subaccounts", "ciirus_users")

SPF_VALUE = "v=spf1 include:spf.mandrillapp.com ?all"
DKIM_SELECTOR = "mandrill"


def new_dns_value() -> str:
    return "mandrill_verify." + secrets.token_urlsafe(16)  # 22 characters, like the seed's key


def new_dkim_value() -> str:
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(secrets.token_bytes(162)).decode()


def _timestamp() -> str:
    """'2022-08-11T12:00:24.61804': naive UTC, the fraction's trailing zeros trimmed (seed style)."""
    text = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")
    return text.rstrip("0").rstrip(".")


# -- users -------------------------------------------------------------------------------------
def upsert_user(store: Store, username: str, password: str) -> int:
    """Create the API user or change its password; returns its user_id."""
    with store.transaction() as conn:
        row = conn.execute("SELECT user_id FROM ciirus_users WHERE username = ?",
                           (username,)).fetchone()
        if row is not None:
            conn.execute("UPDATE ciirus_users SET password_hash = ? WHERE user_id = ?",
                         (hash_password(password), row["user_id"]))
            return int(row["user_id"])
        cur = conn.execute("INSERT INTO ciirus_users (username, password_hash) VALUES (?, ?)",
                           (username, hash_password(password)))
        return int(cur.lastrowid)


def authenticate(store: Store, username: str, password: str) -> dict[str, Any] | None:
    user = store.query_one("SELECT * FROM ciirus_users WHERE username = ?", (username,))
    if user and check_password(password, user["password_hash"]):
        return user
    return None


# -- sub-accounts ------------------------------------------------------------------------------
def _hydrate(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None:
        row["approved"] = bool(row["approved"])
    return row


def get_subaccount(store: Store, user_id: int) -> dict[str, Any] | None:
    return _hydrate(store.query_one("SELECT * FROM ciirus_subaccounts WHERE user_id = ?",
                                    (user_id,)))


def create_subaccount(store: Store, user_id: int, domain: str, daily_send_limit: int,
                      approved: bool) -> tuple[dict[str, Any], bool]:
    """(sub-account, True) when created; (the existing one, unchanged, False) when there is one."""
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM ciirus_subaccounts WHERE user_id = ?",
                        (user_id,)).fetchone() is None:
            conn.execute(
                "INSERT INTO ciirus_subaccounts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, domain, new_dns_value(), new_dkim_value(), daily_send_limit,
                 int(approved), _timestamp()))
            created = True
        else:
            created = False
    return get_subaccount(store, user_id), created  # type: ignore[return-value]


def update_subaccount(store: Store, user_id: int, domain: str, daily_send_limit: int,
                      approved: bool) -> tuple[dict[str, Any] | None, bool]:
    """(updated sub-account or None, domain changed?). A new domain gets new DNS and DKIM values,
    so it starts unverified like on the real service."""
    with store.transaction() as conn:
        row = conn.execute("SELECT sending_domain FROM ciirus_subaccounts WHERE user_id = ?",
                           (user_id,)).fetchone()
        if row is None:
            return None, False
        changed = row["sending_domain"] != domain
        conn.execute("UPDATE ciirus_subaccounts SET daily_send_limit = ?, approved = ? "
                     "WHERE user_id = ?", (daily_send_limit, int(approved), user_id))
        if changed:
            conn.execute("UPDATE ciirus_subaccounts SET sending_domain = ?, dns_value = ?, "
                         "dkim_value = ? WHERE user_id = ?",
                         (domain, new_dns_value(), new_dkim_value(), user_id))
    return get_subaccount(store, user_id), changed


def delete_subaccount(store: Store, user_id: int) -> dict[str, Any] | None:
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM ciirus_subaccounts WHERE user_id = ?",
                           (user_id,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM ciirus_subaccounts WHERE user_id = ?", (user_id,))
    return _hydrate(dict(row)) if row is not None else None


def expected_records(sub: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """The TXT records that make each *_validation_status true: kind -> (name, type, value)."""
    domain = sub["sending_domain"]
    return {"dns": (domain, "TXT", sub["dns_value"]),
            "dkim": (f"{DKIM_SELECTOR}._domainkey.{domain}", "TXT", sub["dkim_value"]),
            "spf": (domain, "TXT", SPF_VALUE)}
