"""The run history in the team's PostgreSQL database (the session's throw-away server): a table of
its own beside the engine's, made on first use by versioned migrations, safe when two runs make it
at once, one transaction per run."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from operations.history.model import RunEntry
from operations.history.store import MIGRATIONS, SCHEMA_TABLE, TABLE, HistoryError, HistoryStore, location_for


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
    assert versions == sorted(m.version for m in MIGRATIONS)
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


def test_status_on_postgres_shows_a_lock_held_and_the_history_recorded(tmp_path, pulumi_bin, emulator, postgres_url):
    """A real engine lock on the PostgreSQL backend, seen by `status` while an `up` holds it; the
    finished run then in the history beside the engine's table."""
    import json
    import subprocess
    import time

    import requests

    from ..conftest import Control
    from .test_fleet import Fleet, new_partners, signupto_customer

    control = Control(emulator.url)
    vendor_env, _, _ = new_partners(control, "status-pg")
    project = Fleet(tmp_path / "pg", pulumi_bin, postgres_url, vendor_env)
    project.add("held.qa", signupto_customer("Status Held"))
    control.fault("^/signupto/v1/account$", method="POST", latency_ms=5000)
    try:
        up = subprocess.Popen(project.command("up", "--yes"), env=project.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while requests.get(control.url + "/_control/faults", timeout=5).json()["faults"]:
            assert time.monotonic() < deadline and up.poll() is None, "the up never reached the API"
            time.sleep(0.2)
        status = [*project.command()[:-1], "status", "--format", "json"]
        during = json.loads(subprocess.run(status, env=project.env, capture_output=True, text=True, check=True).stdout)
        assert up.wait(timeout=120) == 0, up.stdout.read()
    finally:
        control.clear_faults()
    held = during["customers"][0]
    assert held["lock"] and held["lock"]["pid"] and held["lock"]["since"] and "locked" in held["health"]
    after = json.loads(subprocess.run(status, env=project.env, capture_output=True, text=True, check=True).stdout)
    row = after["customers"][0]
    assert row["lock"] is None and row["state"] == "recorded" and row["resources_in_state"] == 2
    assert row["last_run"]["operation"] == "up" and row["last_run"]["result"] == "changes"
    assert after["history_store"].startswith("postgres://") and "email_partners" not in after["backend"]
