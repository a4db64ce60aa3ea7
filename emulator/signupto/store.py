"""Sign-Up.to tables and data access: partners, company users and their logins and tokens,
accounts, features, nonces and transfers.

The hash schemes are shared secrets (the server must recompute the signature), so partner and
user keys are stored as given rather than hashed; they are never written to the request log.
Login passwords (Token authorisation) are salted hashes and tokens SHA-256 hashes, as for Cakemail.
Accounts keep their searchable fields as columns and features as one JSON object, so
the file stays readable with the sqlite3 CLI.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
import time
from typing import Any, Callable

from .models import LIMITS
from ..core.store import Store, check_password, dumps, hash_password, hash_token, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS signupto_partners (
    partner_id  INTEGER PRIMARY KEY,
    partner_key TEXT NOT NULL,          -- 40 chars, shared secret (needed to verify signatures)
    account_id  INTEGER NOT NULL        -- the partner's own company account
);
CREATE TABLE IF NOT EXISTS signupto_users (
    user_id     INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL,
    hash_key    TEXT NOT NULL           -- 32 chars, shared secret
);
CREATE TABLE IF NOT EXISTS signupto_logins (
    user_id     INTEGER PRIMARY KEY,    -- a company user who may log in for a token
    username    TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    token_ttl_seconds INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signupto_tokens (
    token_hash  TEXT PRIMARY KEY,       -- sha256 of the 96-character token
    user_id     INTEGER NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signupto_accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  INTEGER,                -- managing partner; NULL for a partner's own account
    name        TEXT NOT NULL,
    contactemail TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    country     TEXT NOT NULL,
    address     TEXT,
    telephone   TEXT,
    website     TEXT,
    emailcreditbalance     INTEGER NOT NULL DEFAULT 0,
    smscreditbalance       INTEGER NOT NULL DEFAULT 0,
    inboxtestcreditbalance INTEGER NOT NULL DEFAULT 0,
    cdate       REAL NOT NULL,
    mdate       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signupto_features (
    account_id  INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,          -- JSON: switches and limits (contactemail/timezone live on the account)
    cdate       REAL NOT NULL,
    mdate       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signupto_nonces (
    principal   TEXT NOT NULL,          -- 'partner:<pid>' or 'user:<cid>:<uid>'
    nonce       TEXT NOT NULL,
    used_at     REAL NOT NULL,
    PRIMARY KEY (principal, nonce)
);
CREATE TABLE IF NOT EXISTS signupto_credit_transfers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  INTEGER NOT NULL,
    sourceaccount_id      INTEGER NOT NULL,
    destinationaccount_id INTEGER NOT NULL,
    type        TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    note        TEXT,
    cdate       REAL NOT NULL
);
"""

TABLES = ("signupto_partners", "signupto_users", "signupto_logins", "signupto_tokens",
          "signupto_accounts", "signupto_features", "signupto_nonces", "signupto_credit_transfers")

FIRST_PARTNER_ID = 1001
DEFAULT_TOKEN_TTL = 3600
EXPIRED_TOKEN_KEEP_SECONDS = 86400  # an expired token says "expired" (not "invalid") this long
PARTNER_OWN_CREDITS = {"email": 100000, "sms": 1000, "inboxtest": 100}

# New-account features: email sending on, everything chargeable or third-party off.
DEFAULT_FEATURES: dict[str, Any] = {
    "enableanalyse": True, "enableaudienceinsights": False, "enablechangepassword": True,
    "enablecustommaildomain": False, "enabledkim": True, "enabledynamiccontent": False,
    "enableemail": True, "enableemailcredits": False, "enablefacebook": False,
    "enablehttppmapi": False, "enableinboxtest": False, "enablesalesforce": False,
    "enablesendbulkemail": True, "enablesendbulksms": False, "enablesms": False,
    "enablesubscriberprofilefields": False, "enabletimezonepremium": False,
    "enabletwitter": False, "enablewordpress": False, "locked": False,
    "enablesplittest": False, "enablesubscriptionmo": None,
    "list_limit": 200, "user_limit": 5, "automation_limit": None, "search_limit": None,
    "smsautomation_limit": None, "subscriber_limit": None, "subscriberprofilefield_limit": None,
    "custommaildomaintype": None, "maildomainprimary": None,
}
ACCOUNT_FIELDS = ("name", "contactemail", "timezone", "country", "address", "telephone", "website")


# -- partners and users ------------------------------------------------------------------------
def get_partner(store: Store, partner_id: int) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM signupto_partners WHERE partner_id = ?", (partner_id,))


def upsert_partner(store: Store, partner_id: int | None, partner_key: str | None) -> dict[str, Any]:
    """Create a partner (and its own funded account) or replace an existing partner's key."""
    key = partner_key or secrets.token_hex(20)
    with store.transaction() as conn:
        if partner_id is None:
            top = conn.execute("SELECT MAX(partner_id) AS m FROM signupto_partners").fetchone()["m"]
            partner_id = max(FIRST_PARTNER_ID, (top or 0) + 1)
        row = conn.execute("SELECT account_id FROM signupto_partners WHERE partner_id = ?",
                           (partner_id,)).fetchone()
        if row is not None:
            conn.execute("UPDATE signupto_partners SET partner_key = ? WHERE partner_id = ?",
                         (key, partner_id))
            account_id = int(row["account_id"])
        else:
            account_id = _insert_account(conn, None, {
                "name": f"Partner {partner_id}", "contactemail": f"partner{partner_id}@example.com",
                "timezone": "Europe/London", "country": "GB"}, PARTNER_OWN_CREDITS)
            conn.execute("INSERT INTO signupto_partners VALUES (?, ?, ?)",
                         (partner_id, key, account_id))
    return {"partner_id": partner_id, "partner_key": key, "partner_account_id": account_id}


def add_user(store: Store, company_id: int, user_id: int | None, hash_key: str | None) -> dict[str, Any]:
    key = hash_key or secrets.token_hex(16)
    with store.transaction() as conn:
        if user_id is None:
            top = conn.execute("SELECT MAX(user_id) AS m FROM signupto_users").fetchone()["m"]
            user_id = (top or 0) + 1
        conn.execute("INSERT OR REPLACE INTO signupto_users VALUES (?, ?, ?)",
                     (user_id, company_id, key))
    return {"company_id": company_id, "user_id": user_id, "hash_key": key}


def get_user(store: Store, company_id: int, user_id: int) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM signupto_users WHERE user_id = ? AND company_id = ?",
                           (user_id, company_id))


# -- logins and tokens (Token authorisation) ---------------------------------------------------
class UsernameTaken(Exception):
    pass


def set_login(store: Store, user_id: int, username: str, password: str, ttl: int) -> None:
    """Give a company user a username and password for POST /v1/token (replacing any login)."""
    with store.transaction() as conn:
        other = conn.execute("SELECT user_id FROM signupto_logins WHERE username = ?",
                             (username,)).fetchone()
        if other is not None and other["user_id"] != user_id:
            raise UsernameTaken(f"username {username!r} belongs to user {other['user_id']}")
        conn.execute("INSERT OR REPLACE INTO signupto_logins VALUES (?, ?, ?, ?)",
                     (user_id, username, hash_password(password), ttl))


def login(store: Store, username: str, password: str) -> dict[str, Any] | None:
    """The user (user_id, company_id, token_ttl_seconds) whose login this is, else None."""
    row = store.query_one(
        "SELECT l.*, u.company_id FROM signupto_logins l JOIN signupto_users u USING (user_id)"
        " WHERE l.username = ?", (username,))
    if row is None or not check_password(password, row["password_hash"]):
        return None
    return row


def issue_token(store: Store, user_id: int, ttl: int, now: float) -> tuple[str, float]:
    """A new 96-character base64 token for the user and its expiry (unix time)."""
    token = base64.b64encode(secrets.token_bytes(72)).decode()
    with store.transaction() as conn:
        conn.execute("DELETE FROM signupto_tokens WHERE expires_at < ?",
                     (now - EXPIRED_TOKEN_KEEP_SECONDS,))
        conn.execute("INSERT INTO signupto_tokens VALUES (?, ?, ?)",
                     (hash_token(token), user_id, now + ttl))
    return token, now + ttl


def token_user(store: Store, token: str) -> dict[str, Any] | None:
    """(user_id, company_id, expires_at) of a token whose user still exists, else None."""
    return store.query_one(
        "SELECT t.user_id, u.company_id, t.expires_at FROM signupto_tokens t"
        " JOIN signupto_users u USING (user_id) WHERE t.token_hash = ?", (hash_token(token),))


def use_nonce(store: Store, principal: str, nonce: str, now: float, keep_seconds: float) -> bool:
    """Record a nonce; False if this principal already used it (nonces older than keep_seconds are purged)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM signupto_nonces WHERE used_at < ?", (now - keep_seconds,))
        try:
            conn.execute("INSERT INTO signupto_nonces VALUES (?, ?, ?)", (principal, nonce, now))
        except sqlite3.IntegrityError:
            return False
    return True


# -- accounts and features ---------------------------------------------------------------------
def _insert_account(conn: sqlite3.Connection, partner_id: int | None, fields: dict[str, Any],
                    credits: dict[str, int] | None = None) -> int:
    now = time.time()
    credits = credits or {}
    cur = conn.execute(
        "INSERT INTO signupto_accounts (partner_id, name, contactemail, timezone, country, address,"
        " telephone, website, emailcreditbalance, smscreditbalance, inboxtestcreditbalance, cdate,"
        " mdate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (partner_id, *(fields.get(k) for k in ACCOUNT_FIELDS), credits.get("email", 0),
         credits.get("sms", 0), credits.get("inboxtest", 0), now, now))
    account_id = int(cur.lastrowid)
    conn.execute("INSERT INTO signupto_features VALUES (?, ?, ?, ?)",
                 (account_id, dumps(DEFAULT_FEATURES), now, now))
    return account_id


def create_account(store: Store, partner_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    with store.transaction() as conn:
        account_id = _insert_account(conn, partner_id, fields)
    return get_account(store, account_id)  # type: ignore[return-value]


def get_account(store: Store, account_id: int) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM signupto_accounts WHERE id = ?", (account_id,))


def managed_accounts(store: Store, partner_id: int) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM signupto_accounts WHERE partner_id = ? ORDER BY id",
                       (partner_id,))


_FEATURES_SQL = ("SELECT f.*, a.contactemail, a.timezone FROM signupto_features f JOIN"
                 " signupto_accounts a ON a.id = f.account_id WHERE f.account_id = ?")


def _features(row: Any) -> dict[str, Any]:
    return {**DEFAULT_FEATURES, **loads(row["body"]), "contactemail": row["contactemail"],
            "timezone": row["timezone"], "cdate": row["cdate"], "mdate": row["mdate"]}


def get_features(store: Store, account_id: int) -> dict[str, Any]:
    """Switches and limits plus contactemail/timezone (kept once, on the account) and the dates."""
    return _features(store.query_one(_FEATURES_SQL, (account_id,)))


def update_features(store: Store, account_id: int,
                    merge: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Read-merge-write in one transaction so concurrent partial PUTs cannot lose each other.

    merge(current) returns the new features (or raises, which changes nothing). The account's
    mdate moves too when a field it shows (contactemail, timezone, a limit) changed.
    """
    now = time.time()
    with store.transaction() as conn:
        old = _features(conn.execute(_FEATURES_SQL, (account_id,)).fetchone())
        new = merge(dict(old))
        conn.execute("UPDATE signupto_features SET body = ?, mdate = ? WHERE account_id = ?",
                     (dumps({k: new[k] for k in DEFAULT_FEATURES}), now, account_id))
        touched = any(new[k] != old[k] for k in ("contactemail", "timezone", *LIMITS))
        conn.execute("UPDATE signupto_accounts SET contactemail = ?, timezone = ?,"
                     " mdate = CASE WHEN ? THEN ? ELSE mdate END WHERE id = ?",
                     (new["contactemail"], new["timezone"], int(touched), now, account_id))


def remove_account(store: Store, account_id: int) -> None:
    """What Sign-Up.to support can do and the API cannot: remove an account and its settings."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM signupto_features WHERE account_id = ?", (account_id,))
        for table in ("signupto_tokens", "signupto_logins"):
            conn.execute(f"DELETE FROM {table} WHERE user_id IN"
                         " (SELECT user_id FROM signupto_users WHERE company_id = ?)", (account_id,))
        conn.execute("DELETE FROM signupto_users WHERE company_id = ?", (account_id,))
        conn.execute("DELETE FROM signupto_accounts WHERE id = ?", (account_id,))


def set_credits(store: Store, account_id: int, credits: dict[str, int]) -> dict[str, Any] | None:
    with store.transaction() as conn:
        for kind, value in credits.items():
            conn.execute(f"UPDATE signupto_accounts SET {kind}creditbalance = ? WHERE id = ?",
                         (value, account_id))
    return get_account(store, account_id)


class InsufficientCredits(Exception):
    def __init__(self, kind: str, account_id: int):
        super().__init__(f"Insufficient {kind} credits on account {account_id}")


def transfer(store: Store, partner_id: int, source: int, destination: int, kind: str,
             amount: int, note: str | None) -> dict[str, Any]:
    """Move credits atomically; a negative amount moves them from destination back to source."""
    column = f"{kind}creditbalance"
    giver, taker, units = (source, destination, amount) if amount > 0 else (destination, source, -amount)
    now = time.time()
    with store.transaction() as conn:
        balance = conn.execute(f"SELECT {column} AS b FROM signupto_accounts WHERE id = ?",
                               (giver,)).fetchone()["b"]
        if balance < units:
            raise InsufficientCredits(kind, giver)
        conn.execute(f"UPDATE signupto_accounts SET {column} = {column} - ?, mdate = ? WHERE id = ?",
                     (units, now, giver))
        conn.execute(f"UPDATE signupto_accounts SET {column} = {column} + ?, mdate = ? WHERE id = ?",
                     (units, now, taker))
        cur = conn.execute(
            "INSERT INTO signupto_credit_transfers (partner_id, sourceaccount_id,"
            " destinationaccount_id, type, amount, note, cdate) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (partner_id, source, destination, kind, amount, note, now))
    return {"id": int(cur.lastrowid), "sourceaccount_id": source,
            "destinationaccount_id": destination, "type": kind, "amount": amount, "note": note,
            "cdate": now}
