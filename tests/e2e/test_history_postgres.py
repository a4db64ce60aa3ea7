"""The run history in the team's PostgreSQL database (the session's throw-away server): a table of
its own beside the engine's, made on first use by versioned migrations, safe when two runs make it
at once, one transaction per run."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from operations.history_model import RunEntry
from operations.history_store import SCHEMA_TABLE, SCHEMA_VERSION, TABLE, HistoryError, HistoryStore, location_for


@pytest.fixture
def database(postgres_url):
    """A fresh database on the session's server, so first use really is first."""
    name = f"history_{os.getpid()}_{threading.get_ident() % 10_000}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(postgres_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def entry(stack: str, run: str, when: str = "2026-11-05T10:00:00+00:00") -> RunEntry:
    return RunEntry(run_id=run, started_at=when, operation="up", stack=stack, customer=stack.split(".")[0],
                    result="changes", changes={"create": 3}, actor="ada")


def test_two_first_runs_at_once_make_the_schema_once(database):
    # The engine's query option (`?table=`) names its own table: the history keeps to its own.
    store = HistoryStore(location_for(database + "&table=engine_state", {}))
    assert store.location.kind == "postgres" and "engine_state" not in store.location.target
    assert store.entries() == [] and store.schema_version() is None  # a read creates nothing
    errors = []

    def run(n: int) -> None:
        try:
            store.record([entry(f"s{n}.prod", f"run-{n}"), entry(f"t{n}.prod", f"run-{n}")])
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(database) as conn:
        versions = [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE} ORDER BY version")]
        tables = {t for (t,) in conn.execute("SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = 'public'")}
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert {TABLE, SCHEMA_TABLE} <= tables
    assert len(store.entries()) == 8
    recent, latest = store.latest(["s1.prod", "t2.prod", "s3.prod"], 5)
    assert {k: [e.run_id for e in v] for k, v in recent.items()} == {"s1.prod": ["run-1"], "t2.prod": ["run-2"],
                                                                      "s3.prod": ["run-3"]}
    assert latest["s3.prod"]["up"].changes == {"create": 3}


def test_a_run_that_fails_to_record_leaves_nothing(database):
    store = HistoryStore(location_for(database, {}))
    store.record([entry("a.prod", "run-1")])
    broken = entry("b.prod", "run-2").model_copy(update={"customer": "x" * 10})
    with psycopg.connect(database, autocommit=True) as conn:  # a constraint the second row breaks
        conn.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT short_customer CHECK (length(customer) < 5)")
    with pytest.raises(HistoryError, match="short_customer"):
        store.record([entry("c.prod", "run-2"), broken])
    assert [e.stack for e in store.entries()] == ["a.prod"]


def test_no_password_in_messages(postgres_url):
    parts = urlsplit(postgres_url)
    wrong = urlunsplit(parts._replace(netloc="postgres:sekrit-pw@127.0.0.1:1"))
    store = HistoryStore(location_for(wrong, {}))
    with pytest.raises(HistoryError) as raised:
        store.record([entry("a.prod", "run-1")])
    assert "sekrit-pw" not in str(raised.value) and "***" in str(raised.value)
