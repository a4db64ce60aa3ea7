"""SQLite persistence for the emulator.

Everything the emulator knows (vendor accounts, tokens, partner credentials, pending faults and the
request log) lives in one SQLite file so that a restart with the same file loses nothing. The
werkzeug server is threaded, so a single connection is shared behind a re-entrant lock; WAL mode
keeps readers (e.g. a test opening the file) from blocking the server.

The core's tables (request log, faults, DNS zone, rate limits) are created here; each vendor brings its own
tables through its `Vendor.schema`. Vendor tables are prefixed with the vendor name and keep the
searchable fields as real columns (the rest of a vendor body is a JSON column) so the file stays
readable with the sqlite3 CLI.
Secrets are never stored in clear: passwords are salted PBKDF2 hashes, tokens are SHA-256 hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from typing import Any, Iterable, Iterator

from flask import current_app

from .vendor import Vendor

SCHEMA = """
CREATE TABLE IF NOT EXISTS request_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    query       TEXT NOT NULL,          -- JSON object
    body        TEXT,                   -- JSON (secrets masked)
    status      INTEGER NOT NULL,       -- 0 when the connection was dropped
    fault       INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER,
    rate_limit  TEXT                    -- JSON {limit, remaining, reset} of a vendor's rate-limit window, if counted
);
CREATE TABLE IF NOT EXISTS faults (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    method      TEXT,                   -- NULL: any method
    path        TEXT NOT NULL,          -- regular expression, re.search on the full path
    status      INTEGER,
    retry_after REAL,
    latency_ms  INTEGER,
    drop_conn   INTEGER NOT NULL DEFAULT 0,
    after_processing INTEGER NOT NULL DEFAULT 0,  -- 1: the request is served, then its answer is lost
    remaining   INTEGER NOT NULL,
    created     TEXT NOT NULL,
    share       REAL NOT NULL DEFAULT 1,     -- the fraction of matching requests it hits, spread evenly
    seen        INTEGER NOT NULL DEFAULT 0   -- matching requests so far (for share)
);
CREATE TABLE IF NOT EXISTS dns_records (
    name    TEXT NOT NULL,              -- lower-case, no trailing dot
    type    TEXT NOT NULL,              -- 'TXT', 'CNAME' or 'MX'
    value   TEXT NOT NULL,              -- TXT text as published; CNAME target / MX exchange normalised like name
    created TEXT NOT NULL,
    PRIMARY KEY (name, type, value)
);
CREATE TABLE IF NOT EXISTS rate_limit_settings (
    vendor  TEXT NOT NULL,
    user    TEXT NOT NULL,              -- '' : every user of the vendor
    limit_  INTEGER,                    -- requests per period; NULL: no limit
    period  REAL NOT NULL,              -- seconds
    PRIMARY KEY (vendor, user)
);
CREATE TABLE IF NOT EXISTS rate_limit_windows (
    vendor   TEXT NOT NULL,
    user     TEXT NOT NULL,
    endpoint TEXT NOT NULL,             -- as the vendor names it (e.g. "GET /sendgrid/v3/subusers")
    ends     INTEGER NOT NULL,          -- Unix time: the window's end, a whole second
    used     INTEGER NOT NULL,
    PRIMARY KEY (vendor, user, endpoint)
);
"""

# Tables wiped by /_control/reset (AUTOINCREMENT sequences are kept so ids never repeat).
CORE_TABLES = ("request_log", "faults", "dns_records", "rate_limit_settings", "rate_limit_windows")

PBKDF2_ITERATIONS = 20_000


class Store:
    """Thread-safe wrapper around one SQLite connection, holding the core's and the vendors' tables."""

    def __init__(self, path: str, vendors: Iterable[Vendor] = ()):
        self.path = str(path)
        self.vendors = tuple(vendors)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(SCHEMA)
            for table, column, ddl in (("faults", "share", "REAL NOT NULL DEFAULT 1"),
                                       ("faults", "seen", "INTEGER NOT NULL DEFAULT 0"),
                                       ("request_log", "rate_limit", "TEXT")):
                columns = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
                if column not in columns:  # a database made before the column existed
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
            for vendor in self.vendors:
                if vendor.schema:
                    self._conn.executescript(vendor.schema)

    # -- low level -----------------------------------------------------------------------------
    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and an IMMEDIATE transaction; read-modify-write sequences use this."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in CORE_TABLES + tuple(t for v in self.vendors for t in v.tables):
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._conn.close()


# -- helpers shared by the vendor modules ------------------------------------------------------
def get_store() -> Store:
    """The Store of the running Flask app (set by create_app)."""
    return current_app.extensions["emulator_store"]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt),
                                 PBKDF2_ITERATIONS).hex()
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt),
                                    int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
