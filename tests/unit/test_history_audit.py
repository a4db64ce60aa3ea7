"""The run history's audit trail (migration 3: the vendor objects a step concerned, and what happened),
read from stores an older tool wrote, and migrations that are not contiguous."""

from __future__ import annotations

import sqlite3

from operations.history.audit import Action, Audit
from operations.history.runs import stacks_named
from operations.history.store import MIGRATIONS, SCHEMA_TABLE, TABLE, HistoryStore, Location, Migration
from providers.ownership import VendorObject

ACCOUNT = VendorObject(platform="cakemail", noun="account", key="4")


def store(tmp_path) -> HistoryStore:
    return HistoryStore(Location("sqlite", str(tmp_path / "h" / "history.sqlite")))


def test_an_audited_step_records_who_the_objects_and_what_happened(tmp_path, monkeypatch):
    monkeypatch.setenv("EMAIL_PARTNERS_ACTOR", "ada")
    s = store(tmp_path)
    monkeypatch.setattr("operations.history.runs.store_for", lambda env=None: s)
    audit = Audit("retire", tmp_path)
    audit.add(Action("corner-cafe.staging", "retired", [ACCOUNT], "the cakemail account 4 is deleted",
                     platform="cakemail"))
    assert audit.record(exit_status=0)
    [entry] = s.entries()
    assert (entry.operation, entry.stack, entry.customer, entry.environment, entry.result, entry.actor) == (
        "retire", "corner-cafe.staging", "corner-cafe", "staging", "retired", "ada")
    assert entry.objects == [ACCOUNT] and entry.detail == "the cakemail account 4 is deleted"


def test_a_store_an_older_tool_wrote_is_read_then_migrated_on_the_next_write(tmp_path):
    """A store at version 1 (no objects, no detail) reads its rows with empty ones, and is not changed by
    reading; the next write applies the missing migration and keeps the old rows."""
    s = store(tmp_path)
    (tmp_path / "h").mkdir()
    with sqlite3.connect(s.location.target) as conn:
        conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                     f"applied_at TEXT NOT NULL)")
        for statement in MIGRATIONS[0].sqlite:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (1, 'one row per customer per run', 'then')")
        conn.execute(f"INSERT INTO {TABLE} (run_id, started_at, operation, stack, customer, result, changes, drift, "
                     f"differs_from_code, policy, duration_seconds) VALUES ('old', '2026-01-01T00:00:00+00:00', "
                     f"'up', 'a.prod', 'a', 'changes', '{{}}', '[]', '[]', '[]', 1.0)")
    [old] = s.entries()
    assert old.run_id == "old" and old.objects == [] and old.detail is None
    assert s.schema_version() == 1  # reading changed nothing
    audit = Audit("clone", tmp_path)
    audit.add(Action("a.staging", "cloned", detail="from a.prod"))
    s.record(audit.entries())
    assert s.schema_version() == max(m.version for m in MIGRATIONS)
    assert [e.run_id for e in s.entries()][-1] == "old"
    assert s.recorded_stacks() and {("a.prod", "a"), ("a.staging", "a")} <= set(s.recorded_stacks())


def test_migrations_need_not_be_contiguous_a_gap_is_filled_later(tmp_path, monkeypatch):
    """Branches number their migrations apart: a store that has a higher version gets a lower one it lacks
    when a tool that knows it writes, rather than skipping it because the other is higher."""
    s = store(tmp_path)
    audit = Audit("clone", tmp_path)
    audit.add(Action("a.staging", "cloned"))
    newest = max(m.version for m in MIGRATIONS)
    low = Migration(newest + 1, "a column of another branch", sqlite=(f"ALTER TABLE {TABLE} ADD COLUMN other TEXT",),
                    postgres=())
    high = Migration(newest + 2, "a table of a third branch", sqlite=("CREATE TABLE third_branch (x INTEGER)",),
                     postgres=())
    monkeypatch.setattr("operations.history.store.SCHEMA_VERSION", high.version)
    monkeypatch.setattr("operations.history.store.MIGRATIONS", (*MIGRATIONS, high))
    s.record(audit.entries())
    monkeypatch.setattr("operations.history.store.MIGRATIONS", (*MIGRATIONS, low, high))
    s.record(audit.entries())
    with sqlite3.connect(s.location.target) as conn:
        assert sorted(v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE}")) == sorted(
            [*(m.version for m in MIGRATIONS), low.version, high.version])
        assert "other" in [row[1] for row in conn.execute(f"PRAGMA table_info({TABLE})")]


def test_history_by_customer_finds_a_retired_customers_runs_under_every_stack_it_had(tmp_path):
    (tmp_path / "stacks").mkdir()
    recorded = [("corner-cafe.staging", "corner-cafe"), ("corner-cafe.production", "corner-cafe"),
                ("florist.production", "florist")]
    assert stacks_named(tmp_path, "corner-cafe", recorded) == ["corner-cafe", "corner-cafe.production",
                                                                "corner-cafe.staging"]
    assert stacks_named(tmp_path, "*.production", recorded) == ["corner-cafe.production", "florist.production"]
