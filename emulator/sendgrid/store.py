"""SendGrid tables and data access: users (parents and their subusers), API keys, credits, domains.

Kept apart from the HTTP layer so the control API can make parents and keys without HTTP.
Usernames are unique across the whole emulator, as SendGrid's are across the service. API keys
are stored as SHA-256 hashes and subuser passwords as salted PBKDF2 hashes: nothing secret is
kept in clear. A domain belongs to one user (a parent or one of its subusers); deleting a
subuser deletes its keys, credits and domains with it.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timezone
from typing import Any, Optional

from ..core.store import Store, dumps, hash_password, hash_token, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS sendgrid_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    password_hash TEXT,                 -- subusers only (a parent logs in elsewhere)
    parent_id     INTEGER,              -- NULL: a parent account
    disabled      INTEGER NOT NULL DEFAULT 0,
    region        TEXT NOT NULL DEFAULT 'global',
    ips           TEXT NOT NULL,        -- JSON list: a parent's IPs, or those assigned to a subuser
    created       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sendgrid_api_keys (
    key_hash TEXT PRIMARY KEY,          -- SHA-256 of the key; the key itself is shown once
    user_id  INTEGER NOT NULL,
    created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sendgrid_credits (
    user_id         INTEGER PRIMARY KEY,
    type            TEXT NOT NULL,      -- unlimited | recurring | nonrecurring
    reset_frequency TEXT,               -- recurring only: monthly | weekly | daily
    total           INTEGER,            -- recurring and nonrecurring
    used            INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sendgrid_domains (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL,
    domain             TEXT NOT NULL,
    subdomain          TEXT NOT NULL,
    automatic_security INTEGER NOT NULL,
    custom_spf         INTEGER NOT NULL,
    is_default         INTEGER NOT NULL,
    ips                TEXT NOT NULL,   -- JSON list, for a custom SPF record
    dkim_selector      TEXT NOT NULL,
    dkim_public_key    TEXT NOT NULL,   -- manual security: the TXT record's key
    valid_records      TEXT NOT NULL,   -- JSON {record: bool}, as of the last validation
    last_validation_attempt_at INTEGER,
    region             TEXT NOT NULL,
    created            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sendgrid_domains_user ON sendgrid_domains (user_id);
"""
TABLES = ("sendgrid_domains", "sendgrid_credits", "sendgrid_api_keys", "sendgrid_users")

DEFAULT_PARENT_IPS = ("198.51.100.10", "198.51.100.11")  # documentation range: never contacted
_KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def new_key_text() -> str:
    """SG.<22 characters>.<43 characters>: the shape of a real SendGrid API key."""
    pick = lambda n: "".join(secrets.choice(_KEY_ALPHABET) for _ in range(n))  # noqa: E731
    return f"SG.{pick(22)}.{pick(43)}"


def _user(row: Any) -> Optional[dict[str, Any]]:
    if row is None:
        return None
    user = dict(row)
    user["disabled"] = bool(user["disabled"])
    user["ips"] = loads(user["ips"])
    return user


# -- users and keys ----------------------------------------------------------------------------
def get_user(store: Store, username: str) -> Optional[dict[str, Any]]:
    return _user(store.query_one("SELECT * FROM sendgrid_users WHERE username = ?", (username,)))


def get_user_by_id(store: Store, user_id: int) -> Optional[dict[str, Any]]:
    return _user(store.query_one("SELECT * FROM sendgrid_users WHERE id = ?", (user_id,)))


def ensure_parent(store: Store, username: str, email: str, ips: Optional[list[str]] = None) -> dict[str, Any]:
    """The parent of that username, made if absent; `ips` (when given) replaces its IP list."""
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM sendgrid_users WHERE username = ?", (username,)).fetchone()
        if row is not None and row["parent_id"] is not None:
            raise ValueError(f"{username!r} is a subuser, not a parent")
        if row is None:
            conn.execute("INSERT INTO sendgrid_users (username, email, ips, created) VALUES (?, ?, ?, ?)",
                         (username, email, dumps(list(ips or DEFAULT_PARENT_IPS)), _now()))
        elif ips is not None:
            conn.execute("UPDATE sendgrid_users SET ips = ? WHERE id = ?", (dumps(list(ips)), row["id"]))
    return get_user(store, username)  # type: ignore[return-value]


def add_api_key(store: Store, user_id: int, key: Optional[str] = None) -> str:
    """Register a key for the user (a given one is idempotent, for the demo); returns it."""
    key = key or new_key_text()
    store.execute("INSERT OR IGNORE INTO sendgrid_api_keys (key_hash, user_id, created) VALUES (?, ?, ?)",
                  (hash_token(key), user_id, _now()))
    return key


def user_for_key(store: Store, key: str) -> Optional[dict[str, Any]]:
    return _user(store.query_one(
        "SELECT u.* FROM sendgrid_api_keys k JOIN sendgrid_users u ON u.id = k.user_id WHERE k.key_hash = ?",
        (hash_token(key),)))


# -- subusers ----------------------------------------------------------------------------------
def subusers(store: Store, parent_id: int, username: Optional[str], region: str,
             limit: int, offset: int) -> list[dict[str, Any]]:
    """The parent's subusers, oldest first; `username` matches as a prefix, as a search box does."""
    sql, params = "SELECT * FROM sendgrid_users WHERE parent_id = ?", [parent_id]
    if username:
        sql += " AND substr(username, 1, ?) = ?"
        params += [len(username), username]
    if region != "all":
        sql += " AND region = ?"
        params.append(region)
    sql += " ORDER BY id LIMIT ? OFFSET ?"
    params += [limit, offset]
    return [_user(r) for r in store.query(sql, tuple(params))]  # type: ignore[misc]


def subuser_of(store: Store, parent_id: int, username: str) -> Optional[dict[str, Any]]:
    user = get_user(store, username)
    return user if user is not None and user["parent_id"] == parent_id else None


def create_subuser(store: Store, parent_id: int, username: str, email: str, password: str,
                   ips: list[str], region: str) -> Optional[dict[str, Any]]:
    """The new subuser (credits unlimited), or None when the username is taken anywhere."""
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM sendgrid_users WHERE username = ?", (username,)).fetchone():
            return None
        cur = conn.execute(
            "INSERT INTO sendgrid_users (username, email, password_hash, parent_id, region, ips, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, email, hash_password(password), parent_id, region, dumps(ips), _now()))
        conn.execute("INSERT INTO sendgrid_credits (user_id, type) VALUES (?, 'unlimited')", (cur.lastrowid,))
    return get_user(store, username)


def set_disabled(store: Store, user_id: int, disabled: bool) -> None:
    store.execute("UPDATE sendgrid_users SET disabled = ? WHERE id = ?", (int(disabled), user_id))


def set_ips(store: Store, user_id: int, ips: list[str]) -> None:
    store.execute("UPDATE sendgrid_users SET ips = ? WHERE id = ?", (dumps(ips), user_id))


def delete_subuser(store: Store, user_id: int) -> None:
    with store.transaction() as conn:
        for table, column in (("sendgrid_domains", "user_id"), ("sendgrid_credits", "user_id"),
                              ("sendgrid_api_keys", "user_id"), ("sendgrid_users", "id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))


# -- credits -----------------------------------------------------------------------------------
def get_credits(store: Store, user_id: int) -> dict[str, Any]:
    row = store.query_one("SELECT * FROM sendgrid_credits WHERE user_id = ?", (user_id,))
    return row or {"user_id": user_id, "type": "unlimited", "reset_frequency": None, "total": None, "used": 0}


def set_credits(store: Store, user_id: int, kind: str, reset_frequency: Optional[str],
                total: Optional[int]) -> None:
    """A new allocation starts afresh: nothing used of it yet."""
    store.execute("INSERT INTO sendgrid_credits (user_id, type, reset_frequency, total, used)"
                  " VALUES (?, ?, ?, ?, 0) ON CONFLICT (user_id) DO UPDATE SET type = excluded.type,"
                  " reset_frequency = excluded.reset_frequency, total = excluded.total, used = 0",
                  (user_id, kind, reset_frequency, total))


def set_credits_used(store: Store, user_id: int, used: int) -> None:
    """Control API: as if the subuser had sent `used` emails of its allocation."""
    store.execute("UPDATE sendgrid_credits SET used = ? WHERE user_id = ?", (used, user_id))


# -- domains -----------------------------------------------------------------------------------
def _domain(row: Any) -> Optional[dict[str, Any]]:
    if row is None:
        return None
    domain = dict(row)
    for key in ("automatic_security", "custom_spf", "is_default"):
        domain[key] = bool(domain[key])
    domain["ips"] = loads(domain["ips"])
    domain["valid_records"] = loads(domain["valid_records"])
    return domain


def create_domain(store: Store, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    with store.transaction() as conn:
        if fields["is_default"]:  # one default domain per user
            conn.execute("UPDATE sendgrid_domains SET is_default = 0 WHERE user_id = ?", (user_id,))
        cur = conn.execute(
            "INSERT INTO sendgrid_domains (user_id, domain, subdomain, automatic_security, custom_spf,"
            " is_default, ips, dkim_selector, dkim_public_key, valid_records, region, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)",
            (user_id, fields["domain"], fields["subdomain"], int(fields["automatic_security"]),
             int(fields["custom_spf"]), int(fields["is_default"]), dumps(fields["ips"]),
             fields["dkim_selector"], fields["dkim_public_key"], fields["region"], _now()))
    return get_domain(store, int(cur.lastrowid))  # type: ignore[return-value]


def get_domain(store: Store, domain_id: int) -> Optional[dict[str, Any]]:
    return _domain(store.query_one("SELECT * FROM sendgrid_domains WHERE id = ?", (domain_id,)))


def domains_of(store: Store, user_ids: list[int]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(user_ids))
    rows = store.query(f"SELECT * FROM sendgrid_domains WHERE user_id IN ({marks}) ORDER BY id", tuple(user_ids))
    return [_domain(r) for r in rows]  # type: ignore[misc]


def update_domain(store: Store, domain: dict[str, Any], *, is_default: Optional[bool] = None,
                  custom_spf: Optional[bool] = None) -> dict[str, Any]:
    with store.transaction() as conn:
        if is_default:
            conn.execute("UPDATE sendgrid_domains SET is_default = 0 WHERE user_id = ?", (domain["user_id"],))
        if is_default is not None:
            conn.execute("UPDATE sendgrid_domains SET is_default = ? WHERE id = ?", (int(is_default), domain["id"]))
        if custom_spf is not None and custom_spf != domain["custom_spf"]:
            # The SPF record changes, so what was validated of it no longer holds.
            valid = {k: v for k, v in domain["valid_records"].items() if k != "subdomain_spf"}
            conn.execute("UPDATE sendgrid_domains SET custom_spf = ?, valid_records = ? WHERE id = ?",
                         (int(custom_spf), dumps(valid), domain["id"]))
    return get_domain(store, domain["id"])  # type: ignore[return-value]


def record_validation(store: Store, domain_id: int, valid_records: dict[str, bool], when: int) -> None:
    store.execute("UPDATE sendgrid_domains SET valid_records = ?, last_validation_attempt_at = ? WHERE id = ?",
                  (dumps(valid_records), when, domain_id))


def delete_domain(store: Store, domain_id: int) -> None:
    store.execute("DELETE FROM sendgrid_domains WHERE id = ?", (domain_id,))
