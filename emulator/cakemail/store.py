"""Cakemail tables and data access: partners, OAuth tokens, accounts, account owners, DKIM keys.

Kept apart from the HTTP layer so the routes stay about request/response shapes, and so the
control API and the CLI (--seed-demo) can create partners without going through HTTP.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from ..core.store import Store, check_password, dumps, hash_password, hash_token, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS cakemail_partners (
    username          TEXT PRIMARY KEY,
    password_hash     TEXT NOT NULL,
    token_ttl_seconds INTEGER NOT NULL,
    refresh_ttl_seconds INTEGER NOT NULL,
    account_id        INTEGER NOT NULL  -- the partner's own row in cakemail_accounts
);
CREATE TABLE IF NOT EXISTS cakemail_tokens (
    token_hash  TEXT PRIMARY KEY,       -- sha256 of the opaque token
    kind        TEXT NOT NULL,          -- 'access' or 'refresh'
    username    TEXT NOT NULL,
    issued_at   REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cakemail_token_scopes (
    token_hash  TEXT PRIMARY KEY,       -- a token made with POST /token account_id=...
    account_id  INTEGER NOT NULL        -- the sub-account it acts as (none: the partner's own)
);
CREATE TABLE IF NOT EXISTS cakemail_accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   INTEGER,                -- NULL for a partner's own (root) account
    lineage     TEXT NOT NULL,          -- ancestor ids joined by '-', ending with this id
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    partner     INTEGER NOT NULL DEFAULT 0,
    created_on  INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    body        TEXT NOT NULL           -- JSON: address, usage_limits, metadata, ...
);
CREATE TABLE IF NOT EXISTS cakemail_users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    email       TEXT NOT NULL,
    first_name  TEXT,
    last_name   TEXT,
    language    TEXT,
    timezone    TEXT
);
CREATE TABLE IF NOT EXISTS cakemail_dkim_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    domain      TEXT NOT NULL,          -- lower-case host name
    selector    TEXT NOT NULL,
    public_key  TEXT NOT NULL,          -- base64 DER SubjectPublicKeyInfo (random modulus)
    created_on  INTEGER NOT NULL
);
"""
# Wiped by /_control/reset (AUTOINCREMENT sequences are kept so ids never repeat).
TABLES = ("cakemail_tokens", "cakemail_token_scopes", "cakemail_users", "cakemail_accounts",
          "cakemail_partners", "cakemail_dkim_keys")

DEFAULT_TOKEN_TTL = 3600
DEFAULT_REFRESH_TTL = 30 * 86400

DEMO_USERNAME = "demo-partner@example.com"
DEMO_PASSWORD = "demo-password"


# -- partners ----------------------------------------------------------------------------------
def get_partner(store: Store, username: str) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM cakemail_partners WHERE username = ?", (username,))


def upsert_partner(store: Store, username: str, password: str, token_ttl: int = DEFAULT_TOKEN_TTL,
                   refresh_ttl: int = DEFAULT_REFRESH_TTL) -> int:
    """Create the partner (and its own root account) or update its password and TTLs."""
    with store.transaction() as conn:
        row = conn.execute("SELECT account_id FROM cakemail_partners WHERE username = ?",
                           (username,)).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE cakemail_partners SET password_hash = ?, token_ttl_seconds = ?, "
                "refresh_ttl_seconds = ? WHERE username = ?",
                (hash_password(password), token_ttl, refresh_ttl, username))
            return int(row["account_id"])
        now = int(time.time())
        body = {"usage_limits": {}, "metadata": {}, "trial": False}
        cur = conn.execute(
            "INSERT INTO cakemail_accounts (parent_id, lineage, name, status, partner, created_on,"
            " body) VALUES (NULL, '', ?, 'active', 1, ?, ?)", (username, now, dumps(body)))
        account_id = int(cur.lastrowid)
        conn.execute("UPDATE cakemail_accounts SET lineage = ? WHERE id = ?",
                     (str(account_id), account_id))
        conn.execute("INSERT INTO cakemail_partners VALUES (?, ?, ?, ?, ?)",
                     (username, hash_password(password), token_ttl, refresh_ttl, account_id))
        return account_id


def ensure_partner(store: Store, username: str, password: str) -> int:
    """Create the partner only if absent (idempotent seeding); returns its account id."""
    existing = get_partner(store, username)
    if existing is not None:
        return int(existing["account_id"])
    return upsert_partner(store, username, password)


def authenticate(store: Store, username: str, password: str) -> dict[str, Any] | None:
    partner = get_partner(store, username)
    if partner and check_password(password, partner["password_hash"]):
        return partner
    return None


# -- tokens ------------------------------------------------------------------------------------
def issue_tokens(store: Store, partner: dict[str, Any], ttl: int,
                 scope_account_id: int | None = None) -> tuple[str, str]:
    """A new access/refresh pair; both act as scope_account_id when given (a scoped token)."""
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    with store.transaction() as conn:
        conn.execute("DELETE FROM cakemail_tokens WHERE expires_at < ?", (now,))
        conn.execute("DELETE FROM cakemail_token_scopes WHERE token_hash NOT IN "
                     "(SELECT token_hash FROM cakemail_tokens)")
        conn.execute("INSERT INTO cakemail_tokens VALUES (?, 'access', ?, ?, ?)",
                     (hash_token(access), partner["username"], now, now + ttl))
        conn.execute("INSERT INTO cakemail_tokens VALUES (?, 'refresh', ?, ?, ?)",
                     (hash_token(refresh), partner["username"], now,
                      now + int(partner["refresh_ttl_seconds"])))
        if scope_account_id is not None:
            conn.executemany("INSERT INTO cakemail_token_scopes VALUES (?, ?)",
                             [(hash_token(t), scope_account_id) for t in (access, refresh)])
    return access, refresh


def partner_for_token(store: Store, token: str, kind: str) -> dict[str, Any] | None:
    """The partner owning an unexpired token of that kind, plus the token's `scope_account_id`
    (None: it acts as the partner's own account); else None."""
    row = store.query_one(
        "SELECT p.*, s.account_id AS scope_account_id FROM cakemail_tokens t"
        " JOIN cakemail_partners p ON p.username = t.username"
        " LEFT JOIN cakemail_token_scopes s ON s.token_hash = t.token_hash"
        " WHERE t.token_hash = ? AND t.kind = ? AND t.expires_at > ?",
        (hash_token(token), kind, time.time()))
    return row


# -- accounts ----------------------------------------------------------------------------------
def _hydrate(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    row["body"] = loads(row["body"])
    row["owner"] = store.query_one(
        "SELECT * FROM cakemail_users WHERE account_id = ? ORDER BY id LIMIT 1", (row["id"],))
    return row


def get_account(store: Store, account_id: int) -> dict[str, Any] | None:
    row = store.query_one("SELECT * FROM cakemail_accounts WHERE id = ? AND deleted = 0",
                          (account_id,))
    return _hydrate(store, row) if row else None


def create_account(store: Store, parent: dict[str, Any], name: str, status: str, partner: bool,
                   body: dict[str, Any], owner: dict[str, Any] | None) -> dict[str, Any]:
    now = int(time.time())
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO cakemail_accounts (parent_id, lineage, name, status, partner, created_on,"
            " body) VALUES (?, '', ?, ?, ?, ?, ?)",
            (parent["id"], name, status, int(partner), now, dumps(body)))
        account_id = int(cur.lastrowid)
        conn.execute("UPDATE cakemail_accounts SET lineage = ? WHERE id = ?",
                     (f"{parent['lineage']}-{account_id}", account_id))
        if owner is not None:
            conn.execute(
                "INSERT INTO cakemail_users (account_id, email, first_name, last_name, language,"
                " timezone) VALUES (?, ?, ?, ?, ?, ?)",
                (account_id, owner["email"], owner.get("first_name"), owner.get("last_name"),
                 owner.get("language"), owner.get("timezone")))
    return get_account(store, account_id)  # type: ignore[return-value]


def update_account(store: Store, account: dict[str, Any]) -> dict[str, Any]:
    """Write back name/status/partner/body of a hydrated account."""
    store.execute(
        "UPDATE cakemail_accounts SET name = ?, status = ?, partner = ?, body = ? WHERE id = ?",
        (account["name"], account["status"], int(account["partner"]), dumps(account["body"]),
         account["id"]))
    return get_account(store, account["id"])  # type: ignore[return-value]


def delete_account(store: Store, account: dict[str, Any]) -> None:
    """Soft-delete the account and its descendants (they can no longer be reached)."""
    store.execute(
        "UPDATE cakemail_accounts SET deleted = 1, status = 'deleted' "
        "WHERE id = ? OR lineage LIKE ?", (account["id"], f"{account['lineage']}-%"))


SORT_COLUMNS = {"name": "name", "created_on": "created_on"}
FILTER_COLUMNS = {"name": "name", "status": "status", "id": "id"}


def list_accounts(store: Store, parent: dict[str, Any], recursive: bool,
                  filters: list[tuple[str, str]], sort: tuple[str, bool] | None, page: int,
                  per_page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the parent's live sub-accounts plus the total count."""
    where = ["deleted = 0"]
    params: list[Any] = []
    if recursive:
        where.append("lineage LIKE ?")
        params.append(f"{parent['lineage']}-%")
    else:
        where.append("parent_id = ?")
        params.append(parent["id"])
    for term, value in filters:
        where.append(f"{FILTER_COLUMNS[term]} = ?")
        params.append(value)
    order = "id ASC"
    if sort is not None:
        term, descending = sort
        direction = "DESC" if descending else "ASC"  # ties follow creation order likewise
        order = f"{SORT_COLUMNS[term]} {direction}, id {direction}"
    clause = " AND ".join(where)
    total = store.query_one(f"SELECT COUNT(*) AS n FROM cakemail_accounts WHERE {clause}",
                            tuple(params))["n"]
    rows = store.query(
        f"SELECT * FROM cakemail_accounts WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, per_page, (page - 1) * per_page))
    return [_hydrate(store, r) for r in rows], int(total)
