"""The run history's storage: one row per customer per run, in a table of this tool's own.

Where it lives follows the state backend, so a team that shares state shares history:
- a PostgreSQL backend (`postgres://...`): the same database, table `email_partners_history`
  beside the engine's `pulumi_state` (never inside it: the engine owns its table);
- a file backend (`file:///dir`): the SQLite file `dir/email-partners-history.sqlite`;
- any other backend (or none configured): `$PULUMI_HOME/email-partners-history.sqlite`, this
  machine only.

The schema is versioned (`email_partners_history_schema` holds the applied versions) and created on
the first write; reading a store that does not exist yet finds no runs and creates nothing. A run is
written in one transaction: all its customers or none. A store whose schema is newer than this
tool knows is refused, not guessed at.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from ..backend.location import CONNECT_TIMEOUT_SECONDS, file_root, redacted, without_table
from ..errors import OperationError
from .model import RunEntry, now_utc

TABLE = "email_partners_history"
SCHEMA_TABLE = "email_partners_history_schema"
SQLITE_NAME = "email-partners-history.sqlite"

# Serialises the first-use migrations of concurrent writers on PostgreSQL (any constant will do).
MIGRATION_LOCK_KEY = 7_341_902_115
JSON_COLUMNS = ("changes", "drift", "differs_from_code", "policy", "basis", "objects", "promotion")
NULLABLE_JSON = ("basis", "promotion")  # NULL when the run had none (the others read NULL as empty)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


_COLUMNS = """
    run_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    operation TEXT NOT NULL,
    stack TEXT NOT NULL,
    customer TEXT NOT NULL,
    platform TEXT,
    environment TEXT,
    result TEXT NOT NULL,
    changes TEXT NOT NULL,
    drift TEXT NOT NULL,
    differs_from_code TEXT NOT NULL,
    policy TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    error TEXT,
    git_commit TEXT,
    actor TEXT,
    tool_version TEXT,
    run_exit_status INTEGER"""

NOTIFICATIONS_TABLE = "email_partners_notifications"
_NOTIFICATION_COLUMNS = """
    delivery_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    sink TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    event TEXT NOT NULL,
    active INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    link TEXT,
    delivered INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT"""

# Append only: a released migration is never edited, a change is a new version. Versions need not be
# contiguous (branches of the tool number theirs apart): `migrate` applies each one a store lacks, in order.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "one row per customer per run",
              sqlite=(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, {_COLUMNS})",
                      f"CREATE INDEX {TABLE}_stack_time ON {TABLE} (stack, started_at, id)",
                      f"CREATE INDEX {TABLE}_time ON {TABLE} (started_at, id)"),
              postgres=(f"CREATE TABLE {TABLE} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_COLUMNS})",
                        f"CREATE INDEX {TABLE}_stack_time ON {TABLE} (stack, started_at, id)",
                        f"CREATE INDEX {TABLE}_time ON {TABLE} (started_at, id)")),
    Migration(2, "why the engine ran a customer, and what a state-writing run ran with (operations/changes/)",
              sqlite=(f"ALTER TABLE {TABLE} ADD COLUMN reason TEXT", f"ALTER TABLE {TABLE} ADD COLUMN basis TEXT"),
              postgres=(f"ALTER TABLE {TABLE} ADD COLUMN reason TEXT", f"ALTER TABLE {TABLE} ADD COLUMN basis TEXT")),
    Migration(3, "the audit trail: vendor objects concerned and what happened",
              sqlite=(f"ALTER TABLE {TABLE} ADD COLUMN objects TEXT", f"ALTER TABLE {TABLE} ADD COLUMN detail TEXT"),
              postgres=(f"ALTER TABLE {TABLE} ADD COLUMN objects TEXT", f"ALTER TABLE {TABLE} ADD COLUMN detail TEXT")),
    Migration(4, "a promotion's source, base and fields (`promote`)",
              sqlite=(f"ALTER TABLE {TABLE} ADD COLUMN promotion TEXT",),
              postgres=(f"ALTER TABLE {TABLE} ADD COLUMN promotion TEXT",)),
    Migration(5, "notifications: each event told to each sink, delivered or not (operations/notifications/store.py)",
              sqlite=(f"CREATE TABLE {NOTIFICATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                      f"{_NOTIFICATION_COLUMNS})",
                      f"CREATE INDEX {NOTIFICATIONS_TABLE}_subject ON {NOTIFICATIONS_TABLE} (sink, kind, subject, id)"),
              postgres=(f"CREATE TABLE {NOTIFICATIONS_TABLE} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                        f"{_NOTIFICATION_COLUMNS})",
                        f"CREATE INDEX {NOTIFICATIONS_TABLE}_subject ON {NOTIFICATIONS_TABLE} (sink, kind, subject, id)")),
)
SCHEMA_VERSION = max(m.version for m in MIGRATIONS)
# The columns each migration added: a store that lacks one is read with NULL in its place (reading changes nothing).
ADDED_BY = {"reason": 2, "basis": 2, "objects": 3, "detail": 3, "promotion": 4}

FIELDS = ("run_id", "started_at", "operation", "stack", "customer", "platform", "environment", "result", "changes",
          "drift", "differs_from_code", "policy", "duration_seconds", "error", "git_commit", "actor", "tool_version", "run_exit_status",
          "reason", "basis", "objects", "detail", "promotion")
SELECTED = "{selected fields}"  # stands for FIELDS in a query, each column the store lacks as NULL


class HistoryError(OperationError):
    """The history cannot be read or written; the message names the store, never a password."""


@dataclass(frozen=True)
class Location:
    kind: Literal["sqlite", "postgres"]
    target: str  # a file path, or a libpq URL (the engine's query options removed)

    @property
    def shown(self) -> str:
        return self.target if self.kind == "sqlite" else redacted(self.target)


def location_for(backend_url: Optional[str], env: Mapping[str, str]) -> Location:
    """Where the history of runs against `backend_url` is kept (see the module docstring)."""
    scheme = urlsplit(backend_url).scheme if backend_url else ""
    if scheme in ("postgres", "postgresql"):
        return Location("postgres", without_table(backend_url))
    if scheme == "file":
        return Location("sqlite", str(file_root(backend_url) / SQLITE_NAME))
    home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return Location("sqlite", str(home / SQLITE_NAME))


class HistoryStore:
    """Reads and writes the run history at one location."""

    def __init__(self, location: Location):
        self.location = location
        self.dialect = location.kind

    # --- connections -----------------------------------------------------------------------------
    @contextmanager
    def _connect(self, create: bool) -> Iterator[Optional[Any]]:
        """A connection in a transaction that commits on success; None when reading a store that
        does not exist (nothing is created by a read)."""
        if self.dialect == "sqlite":
            path = Path(self.location.target)
            if not path.exists():
                if not create:
                    yield None
                    return
                path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise HistoryError(f"cannot open the run history {path}: {exc}") from None
            try:
                conn.execute("BEGIN IMMEDIATE" if create else "BEGIN")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.rollback()
                raise HistoryError(f"run history {path}: {exc}") from None
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.close()
            return
        import psycopg

        try:
            conn = psycopg.connect(self.location.target, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.Error as exc:
            raise HistoryError(f"cannot connect to the run history in {self.location.shown}: "
                               f"{' '.join(str(exc).split())[:300]}") from None
        try:
            with conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise HistoryError(f"run history in {self.location.shown}: {' '.join(str(exc).split())[:300]}") from None
        finally:
            conn.close()

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, Any]:
        """`column` is one of `values`, as one parameter whatever their number."""
        if self.dialect == "postgres":
            return f"{column} = ANY(?)", list(values)
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.dialect == "postgres" else text

    def _rows(self, conn, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(conn.execute(self._sql(text), tuple(params)).fetchall())

    # --- schema ----------------------------------------------------------------------------------
    def _applied_version(self, conn) -> Optional[int]:
        """The schema version in the store, or None when the store has no history table yet."""
        applied = self._applied_versions(conn)
        return None if applied is None else max(applied, default=0)

    def _applied_versions(self, conn) -> Optional[set[int]]:
        """The migrations the store has, or None when it has no history table yet."""
        if self.dialect == "sqlite":
            exists = self._rows(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,))
        else:
            exists = self._rows(conn, "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                                      "AND table_name = ?", (SCHEMA_TABLE,))
        if not exists:
            return None
        return {row[0] for row in self._rows(conn, f"SELECT version FROM {SCHEMA_TABLE}")}

    def _check_known(self, version: Optional[int]) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise HistoryError(f"the run history in {self.location.shown} has schema version {version}, written by a "
                               f"newer email-partners; this one knows versions up to {SCHEMA_VERSION}: upgrade it")

    def migrate(self, conn) -> int:
        """Apply the migrations this store lacks, inside the caller's transaction."""
        if self.dialect == "postgres":
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        applied = self._applied_versions(conn)
        self._check_known(None if applied is None else max(applied, default=0))
        if applied is None:
            conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                         f"applied_at TEXT NOT NULL)")
            applied = set()
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in applied:
                continue
            for statement in getattr(migration, self.dialect):
                conn.execute(statement)
            conn.execute(self._sql(f"INSERT INTO {SCHEMA_TABLE} (version, description, applied_at) VALUES (?, ?, ?)"),
                         (migration.version, migration.description, now_utc()))
        return SCHEMA_VERSION

    def schema_version(self) -> Optional[int]:
        with self._connect(create=False) as conn:
            return None if conn is None else self._applied_version(conn)

    # --- the tables beside the runs' (operations/notifications/store.py) --------------------------
    @contextmanager
    def transaction(self, create: bool, needs: int = 1) -> Iterator[Optional[Any]]:
        """A connection in one transaction: the schema migrated first when `create`; None when reading
        a store that does not exist yet or lacks migration `needs` (nothing is created by a read)."""
        if not create:
            with self._reading() as store:
                yield store[0] if store is not None and needs in store[1] else None
            return
        with self._connect(create=True) as conn:
            if conn is not None:
                self.migrate(conn)
            yield conn

    def rows(self, conn, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        """A query's rows (`?` placeholders in either dialect)."""
        return self._rows(conn, text, params)

    def execute_many(self, conn, text: str, rows: Sequence[Sequence[Any]]) -> None:
        statement = self._sql(text)
        if self.dialect == "postgres":
            with conn.cursor() as cursor:
                cursor.executemany(statement, rows)
        else:
            conn.executemany(statement, rows)

    def one_of(self, column: str, values: Sequence[str]) -> tuple[str, Any]:
        """`column` is one of `values`, as one SQL condition and its one parameter."""
        return self._in(column, values)

    # --- writing and reading ---------------------------------------------------------------------
    def record(self, entries: Sequence[RunEntry]) -> None:
        """One run's entries in one transaction (the schema created or upgraded first, in it)."""
        if not entries:
            return
        with self._connect(create=True) as conn:
            self.migrate(conn)
            statement = self._sql(f"INSERT INTO {TABLE} ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})")
            rows = [row_of(entry) for entry in entries]
            if self.dialect == "postgres":
                with conn.cursor() as cursor:
                    cursor.executemany(statement, rows)
            else:
                conn.executemany(statement, rows)

    @contextmanager
    def _reading(self) -> Iterator[Optional[tuple[Any, set[int]]]]:
        """A connection to read with and the migrations the store has; None when there is nothing to read
        yet (no store, or no history table). Reading creates and migrates nothing."""
        with self._connect(create=False) as conn:
            applied = None if conn is None else self._applied_versions(conn)
            if applied is not None:
                self._check_known(max(applied, default=0))
            yield None if applied is None else (conn, applied)

    def _query(self, text: str, params: Sequence[Any], extra: int = 0) -> list:
        """Entries of a SELECT of FIELDS (SELECTED in `text`; with `extra` columns after them: (entry,
        *extras) each); none when the store or its table does not exist yet."""
        with self._reading() as store:
            if store is None:
                return []
            conn, applied = store
            selected = ", ".join(f if ADDED_BY.get(f, 1) in applied else f"NULL AS {f}" for f in FIELDS)
            rows = self._rows(conn, text.replace(SELECTED, selected), params)
        if extra:
            return [(entry_of_row(row[:-extra]), *row[-extra:]) for row in rows]
        return [entry_of_row(row) for row in rows]

    def entries(self, stacks: Optional[Sequence[str]] = None, last: Optional[int] = None) -> list[RunEntry]:
        """The newest entries first, of the given stacks (all when None), at most `last`."""
        if stacks is not None and not stacks:
            return []
        where, params = "", []
        if stacks is not None:
            clause, value = self._in("stack", stacks)
            where, params = f"WHERE {clause}", [value]
        limit = f" LIMIT {int(last)}" if last is not None else ""
        return self._query(f"SELECT {SELECTED} FROM {TABLE} {where} ORDER BY started_at DESC, id DESC{limit}",
                           params)

    def run_ids(self) -> set[str]:
        """Every run the store holds (what a copy of another store's history leaves out)."""
        with self._reading() as store:
            return set() if store is None else {row[0] for row in self._rows(store[0], f"SELECT DISTINCT run_id FROM {TABLE}")}

    def recorded_stacks(self) -> list[tuple[str, str]]:
        """(stack, customer) of every stack the history holds runs of, retired ones included."""
        with self._reading() as store:
            if store is None:
                return []
            return [(row[0], row[1]) for row in self._rows(store[0], f"SELECT DISTINCT stack, customer FROM {TABLE}")]

    def latest(self, stacks: Sequence[str], per_stack: int) -> tuple[dict[str, list[RunEntry]],
                                                                     dict[str, dict[str, RunEntry]]]:
        """For the whole fleet in one query: each stack's newest `per_stack` entries (newest first),
        and each stack's newest entry of each operation."""
        recent: dict[str, list[RunEntry]] = {}
        by_operation: dict[str, dict[str, RunEntry]] = {}
        if not stacks:
            return recent, by_operation
        clause, value = self._in("stack", stacks)
        order = "ORDER BY started_at DESC, id DESC"
        inner = (f"SELECT {SELECTED}, ROW_NUMBER() OVER (PARTITION BY stack {order}) AS in_stack, "
                 f"ROW_NUMBER() OVER (PARTITION BY stack, operation {order}) AS in_operation, id "
                 f"FROM {TABLE} WHERE {clause}")
        entries = self._query(f"SELECT {', '.join(FIELDS)}, in_stack, in_operation FROM ({inner}) AS ranked "
                              f"WHERE in_stack <= ? OR in_operation = 1 ORDER BY stack, started_at DESC, id DESC",
                              [value, per_stack], extra=2)
        for entry, in_stack, in_operation in entries:
            if in_stack <= per_stack:
                recent.setdefault(entry.stack, []).append(entry)
            if in_operation == 1:
                by_operation.setdefault(entry.stack, {})[entry.operation] = entry
        return recent, by_operation


def row_of(entry: RunEntry) -> tuple:
    data = entry.model_dump(mode="json")
    return tuple(json.dumps(data[f], sort_keys=True) if f in JSON_COLUMNS and data[f] is not None else data[f]
                 for f in FIELDS)


def entry_of_row(row: Sequence[Any]) -> RunEntry:
    data = dict(zip(FIELDS, row))
    for column in JSON_COLUMNS:  # a row written before a column existed holds NULL there
        if data.get(column):
            data[column] = json.loads(data[column])
        elif column not in NULLABLE_JSON:
            data[column] = {} if column == "changes" else []
    return RunEntry.model_validate(data)
