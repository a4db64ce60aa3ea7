"""Where the state is, and how it is read: a file directory, a PostgreSQL table, or somewhere only the
engine reads (Pulumi Cloud, a bucket).

The layout is the engine's DIY backend (pkg/backend/diy): keys such as `.pulumi/stacks/<project>/<stack>.json`
are files under the file backend's directory, and rows of the PostgreSQL backend's one table
(`pulumi_state`, or the URL's `?table=`): key TEXT (under the URL's own path: `<database>/.pulumi/...`),
data JSON (`{"data": <base64 of the bytes>}`), updated_at. Every reader here is read only.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel

from ..errors import OperationError

CONNECT_TIMEOUT_SECONDS = 10
T = TypeVar("T")


class BackendError(OperationError):
    """The backend cannot be read at all; the message never holds a password."""


def redacted(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def file_root(url: str) -> Path:
    """file:///abs/dir, file://~/dir (the engine expands `~` too); query options are the engine's."""
    return Path(os.path.expanduser(unquote(url[len("file://"):].split("?", 1)[0])))


def without_table(url: str) -> str:
    """A PostgreSQL backend URL as libpq takes it: the engine's own `table` option removed."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "table"]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Backend(BaseModel):
    url: str
    kind: Literal["file", "postgres", "other"]

    @property
    def shown(self) -> str:
        return redacted(self.url)

    @property
    def root(self) -> Path:
        """A file backend's directory."""
        return file_root(self.url)

    @property
    def table(self) -> str:
        """A PostgreSQL backend's table (the engine's `?table=` option, `pulumi_state` by default)."""
        table = dict(parse_qsl(urlsplit(self.url).query)).get("table", "pulumi_state")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
            raise BackendError(f"the state backend {self.shown} names table {table!r}, which is not a plain table name")
        return table

    @property
    def key_prefix(self) -> str:
        """Where the engine keeps the bucket's keys in the table: under the URL's path (postgres://host/db: "db/")."""
        path = urlsplit(self.url).path.strip("/")
        return path + "/" if path else ""

    def read(self, work: Callable[["Rows"], T], missing: T) -> T:
        """`work` over a PostgreSQL backend's table, in one read-only transaction; `missing` when the engine
        never created its table (nothing was ever deployed there)."""
        import psycopg

        try:
            with psycopg.connect(without_table(self.url), connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                 autocommit=False) as conn:
                conn.read_only = True
                result = work(Rows(conn, self.table, self.key_prefix))
                conn.rollback()
                return result
        except psycopg.errors.UndefinedTable:
            return missing
        except psycopg.Error as exc:
            raise BackendError(f"cannot read the state backend {self.shown}: {' '.join(str(exc).split())[:300]}") \
                from None


class Rows:
    """Queries over the backend's table, by key relative to the bucket (the prefix added and removed here)."""

    def __init__(self, conn: Any, table: str, prefix: str):
        self._conn, self._table, self._prefix = conn, table, prefix

    def _select(self, columns: str, where: str, param: Any) -> list[tuple]:
        from psycopg import sql

        return self._conn.execute(sql.SQL(f"SELECT key, {columns} FROM {{}} WHERE {where}")
                                  .format(sql.Identifier(self._table)), (param,)).fetchall()

    def by_keys(self, keys: Sequence[str], with_time: bool = False) -> list[tuple]:
        """(key, base64 data[, updated_at]) of the rows with these keys."""
        rows = self._select("data->>'data'" + (", updated_at" if with_time else ""), "key = ANY(%s)",
                            [self._prefix + k for k in keys])
        return [(row[0][len(self._prefix):], *row[1:]) for row in rows]

    def keys_like(self, patterns: Sequence[str]) -> list[str]:
        """The keys matching any LIKE pattern (patterns relative to the bucket, `%` and `_` already escaped)."""
        escaped = re.sub(r"([\\%_])", r"\\\1", self._prefix)
        rows = self._select("NULL", "key LIKE ANY(%s)", [escaped + p for p in patterns])
        return [row[0][len(self._prefix):] for row in rows]

    def under(self, key_prefix: str) -> list[tuple]:
        """(key, base64 data) of every row under a key prefix."""
        rows = self._select("data->>'data'", "starts_with(key, %s)", self._prefix + key_prefix)
        return [(row[0][len(self._prefix):], row[1]) for row in rows]


MOVED_FILE = "email-partners-moved.json"  # in a file backend whose stacks `email-partners backend copy` moved


def moved_to(url: str) -> Optional[dict[str, Any]]:
    """Where a file backend's stacks were moved, as `backend copy` recorded it beside them (to, at, by,
    stacks); None for a backend in use."""
    if urlsplit(url).scheme != "file":
        return None
    try:
        record = json.loads((file_root(url) / MOVED_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def current_backend(env: Mapping[str, str]) -> Optional[Backend]:
    """The backend the engine would use: PULUMI_BACKEND_URL, else the one `pulumi login` recorded."""
    url = env.get("PULUMI_BACKEND_URL")
    if not url:
        home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
        try:
            url = json.loads((home / "credentials.json").read_text()).get("current")
        except (OSError, ValueError):
            url = None
    if not url:
        return None
    scheme = urlsplit(url).scheme
    kind = "file" if scheme == "file" else "postgres" if scheme == "postgres" else "other"
    return Backend(url=url, kind=kind)
