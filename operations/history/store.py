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
JSON_COLUMNS = ("changes", "drift", "differs_from_code", "policy")


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

# Append only: a released migration is never edited, a change is a new version.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "one row per customer per run",
              sqlite=(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, {_COLUMNS})",
                      f"CREATE INDEX {TABLE}_stack_time ON {TABLE} (stack, started_at, id)",
                      f"CREATE INDEX {TABLE}_time ON {TABLE} (started_at, id)"),
              postgres=(f"CREATE TABLE {TABLE} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_COLUMNS})",
                        f"CREATE INDEX {TABLE}_stack_time ON {TABLE} (stack, started_at, id)",
                        f"CREATE INDEX {TABLE}_time ON {TABLE} (started_at, id)")),
    Migration(4, "a promotion's source, base and fields (`promote`)",
              sqlite=(f"ALTER TABLE {TABLE} ADD COLUMN promotion TEXT",),
              postgres=(f"ALTER TABLE {TABLE} ADD COLUMN promotion TEXT",)),
)
# Versions need not be contiguous (branches number theirs apart): each is applied once, lowest first.
SCHEMA_VERSION = max(m.version for m in MIGRATIONS)

FIELDS = ("run_id", "started_at", "operation", "stack", "customer", "platform", "environment", "result", "changes",
          "drift", "differs_from_code", "policy", "duration_seconds", "error", "git_commit", "actor", "tool_version", "run_exit_status",
          "promotion")
# JSON columns that may be NULL (added by a later migration: older rows have none).
NULLABLE_JSON = ("promotion",)


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
        if self.dialect == "sqlite":
            exists = self._rows(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,))
        else:
            exists = self._rows(conn, "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                                      "AND table_name = ?", (SCHEMA_TABLE,))
        if not exists:
            return None
        return self._rows(conn, f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}")[0][0]

    def _check_known(self, version: Optional[int]) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise HistoryError(f"the run history in {self.location.shown} has schema version {version}, written by a "
                               f"newer email-partners; this one knows versions up to {SCHEMA_VERSION}: upgrade it")

    def migrate(self, conn) -> int:
        """Apply the migrations this store lacks, inside the caller's transaction."""
        if self.dialect == "postgres":
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        version = self._applied_version(conn)
        self._check_known(version)
        if version is None:
            conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                         f"applied_at TEXT NOT NULL)")
        applied = {row[0] for row in self._rows(conn, f"SELECT version FROM {SCHEMA_TABLE}")}
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

    def _query(self, text: str, params: Sequence[Any], extra: int = 0) -> list:
        """Entries of a SELECT of FIELDS (with `extra` columns after them: (entry, *extras) each);
        none when the store or its table does not exist yet."""
        with self._connect(create=False) as conn:
            if conn is None:
                return []
            version = self._applied_version(conn)
            self._check_known(version)
            if version is None:
                return []
            rows = self._rows(conn, text, params)
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
        return self._query(f"SELECT {', '.join(FIELDS)} FROM {TABLE} {where} ORDER BY started_at DESC, id DESC{limit}",
                           params)

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
        inner = (f"SELECT {', '.join(FIELDS)}, ROW_NUMBER() OVER (PARTITION BY stack {order}) AS in_stack, "
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
    return tuple(json.dumps(data[f], sort_keys=True) if f in JSON_COLUMNS or (f in NULLABLE_JSON and data[f] is not None)
                 else data[f] for f in FIELDS)


def entry_of_row(row: Sequence[Any]) -> RunEntry:
    data = dict(zip(FIELDS, row))
    for column in JSON_COLUMNS:
        data[column] = json.loads(data[column]) if data[column] else ([] if column != "changes" else {})
    for column in NULLABLE_JSON:
        data[column] = json.loads(data[column]) if data[column] else None
    return RunEntry.model_validate(data)
