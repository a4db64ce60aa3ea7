"""The run history on SQLite: versioned schema made on the first write, one transaction per run,
newest-first queries for one stack or the whole fleet, the recording hooks, nothing secret."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from operations.differences import FieldDrift
from operations.fleet.models import CustomerResult, FleetReport
from operations.fleet.record import record_report
from operations.history.render import history_table
from operations.history.runs import store_for
from operations.history.model import RunEntry, actor, git_commit, without_url_passwords
from operations.history.store import MIGRATIONS, SCHEMA_TABLE, SCHEMA_VERSION, HistoryError, HistoryStore, Location


def store(tmp_path) -> HistoryStore:
    return HistoryStore(Location("sqlite", str(tmp_path / "h" / "history.sqlite")))


def entry(stack: str, when: str, operation: str = "up", **fields) -> RunEntry:
    return RunEntry(run_id=f"run-{when}", started_at=f"2026-11-{when}T09:00:00+00:00", operation=operation,
                    stack=stack, customer=stack.split(".")[0], result=fields.pop("result", "changes"), **fields)


def test_reading_creates_nothing_and_the_first_write_applies_the_migrations(tmp_path):
    s = store(tmp_path)
    assert s.entries() == [] and s.latest(["a"], 3) == ({}, {}) and s.schema_version() is None
    assert not (tmp_path / "h").exists()
    s.record([entry("a.prod", "01")])
    assert s.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(s.location.target) as conn:
        versions = conn.execute(f"SELECT version, description FROM {SCHEMA_TABLE}").fetchall()
    assert sorted(v for v, _ in versions) == sorted(m.version for m in MIGRATIONS)
    s.record([entry("a.prod", "02")])  # already migrated: nothing applied twice
    with sqlite3.connect(s.location.target) as conn:
        assert conn.execute(f"SELECT COUNT(*) FROM {SCHEMA_TABLE}").fetchone()[0] == len(MIGRATIONS)


def test_versions_need_not_be_contiguous_each_missing_one_is_applied_once(tmp_path, monkeypatch):
    """Branches number their migrations apart: whatever order MIGRATIONS lists them in, a tool that knows
    more of them applies each one the store lacks, once."""
    import operations.history.store as module

    s = store(tmp_path)
    s.record([entry("a.prod", "01")])
    newest = max(m.version for m in MIGRATIONS)
    added = (newest + 3, newest + 1, newest + 2)
    extra = tuple(module.Migration(v, f"test {v}", sqlite=(f"CREATE TABLE t{v} (x INTEGER)",), postgres=())
                  for v in added)
    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS + extra)
    monkeypatch.setattr(module, "SCHEMA_VERSION", newest + 3)
    s.record([entry("a.prod", "02")])
    s.record([entry("a.prod", "03")])
    with sqlite3.connect(s.location.target) as conn:
        applied = [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE} ORDER BY version")]
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert applied == sorted({*(m.version for m in MIGRATIONS), *added})
    assert {f"t{v}" for v in added} <= tables
    assert [e.started_at[:10] for e in s.entries()] == ["2026-11-03", "2026-11-02", "2026-11-01"]


def test_a_promotion_is_kept_with_its_run_and_shown(tmp_path):
    from operations.history.model import PromotedField, Promotion

    s = store(tmp_path)
    carried = Promotion(source="acme.staging", base="0123abcd", fields=[
        PromotedField(field="features.per_month", old=50000, new=80000),
        PromotedField(field="sending_domains[news2.acme.example]", new={"domain": "news2.acme.example"})])
    s.record([entry("acme.production", "01", operation="promote", result="promoted", promotion=carried),
              entry("acme.production", "02")])
    promoted, plain = s.entries()[1], s.entries()[0]
    assert promoted.promotion == carried and plain.promotion is None
    from rich.console import Console

    out = Console(width=300, record=True)
    out.print(history_table(s.entries(), "t"))
    text = out.export_text()
    assert "promoted from acme.staging: features.per_month 50000 -> 80000, domain news2.acme.example added" in text


def test_a_newer_schema_is_refused_for_reading_and_writing(tmp_path):
    s = store(tmp_path)
    s.record([entry("a.prod", "01")])
    with sqlite3.connect(s.location.target) as conn:
        conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (?, 'from the future', 'x')", (SCHEMA_VERSION + 1,))
    for attempt in (lambda: s.entries(), lambda: s.record([entry("a.prod", "02")])):
        with pytest.raises(HistoryError, match=f"schema version {SCHEMA_VERSION + 1}.*newer"):
            attempt()


def test_one_run_is_one_transaction(tmp_path, monkeypatch):
    s = store(tmp_path)
    s.record([entry("a.prod", "01")])
    import operations.history.store as module

    real = module.row_of

    def second_breaks_a_constraint(e):  # the first row is inserted, then the database refuses the second
        row = real(e)
        return row if e.stack == "b.prod" else row[:4] + (None,) + row[5:]
    monkeypatch.setattr(module, "row_of", second_breaks_a_constraint)
    with pytest.raises(HistoryError, match="NOT NULL"):
        s.record([entry("b.prod", "02"), entry("c.prod", "02")])
    assert [e.stack for e in s.entries()] == ["a.prod"]  # neither customer of the failed run


def test_queries_newest_first_per_stack_and_per_operation(tmp_path):
    s = store(tmp_path)
    for day in ("01", "02", "03"):
        s.record([entry("a.prod", day), entry("b.prod", day, operation="drift" if day == "02" else "up")])
    assert [e.started_at[:10] for e in s.entries(["a.prod"])] == ["2026-11-03", "2026-11-02", "2026-11-01"]
    assert len(s.entries(last=4)) == 4 and s.entries([]) == []
    recent, latest = s.latest(["a.prod", "b.prod", "gone.prod"], 2)
    assert {k: [e.started_at[8:10] for e in v] for k, v in recent.items()} == {"a.prod": ["03", "02"],
                                                                               "b.prod": ["03", "02"]}
    assert {op: e.started_at[8:10] for op, e in latest["b.prod"].items()} == {"up": "03", "drift": "02"}
    recent, latest = s.latest(["b.prod"], 1)  # an older operation's newest entry comes too
    assert len(recent["b.prod"]) == 1 and latest["b.prod"]["drift"].started_at[8:10] == "02"
    many = [f"s{i}.prod" for i in range(1500)]  # one parameter, whatever the fleet's size
    assert s.latest(many + ["a.prod"], 1)[0]["a.prod"][0].started_at[8:10] == "03"


def test_record_fleet_report_one_entry_per_customer_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    monkeypatch.setenv("GITHUB_ACTOR", "octo")
    (tmp_path / "state").mkdir()
    drift = [FieldDrift(resource="a-account", type="SubAccount", field="owner.password", recorded="old-pw",
                        actual="new-pw"), FieldDrift(resource="a-account", type="SubAccount", field="name",
                                                      recorded="A", actual="B")]
    report = FleetReport(operation="drift", started_at="2026-11-05T10:00:00+00:00", duration_seconds=3.0, parallel=2,
                         exit_status=4, customers=[
                             CustomerResult(stack="a.prod", customer="a", platform="cakemail", environment="prod",
                                            operation="drift", result="drift", drift=drift, duration_seconds=1.2),
                             CustomerResult(stack="b.prod", customer="b", platform="ciirus", environment="prod",
                                            operation="drift", result="failed", duration_seconds=0.4,
                                            error="cannot read postgres://team:hunter2@db/pulumi: refused")])
    assert record_report(report, tmp_path)
    entries = {e.stack: e for e in store_for().entries()}
    assert (tmp_path / "state" / "email-partners-history.sqlite").exists()
    a, b = entries["a.prod"], entries["b.prod"]
    assert a.run_id == b.run_id and a.started_at == "2026-11-05T10:00:00+00:00" and a.run_exit_status == 4
    assert [(d.field, d.recorded, d.actual) for d in a.drift] == [("owner.password", "[secret]", "[secret]"),
                                                                 ("name", "A", "B")]
    assert b.error == "cannot read postgres://team:***@db/pulumi: refused"
    assert a.actor == "octo (ci)" and a.environment == "prod" and a.duration_seconds == 1.2


def test_a_history_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    monkeypatch.setenv("PULUMI_BACKEND_URL", blocker.as_uri())
    report = FleetReport(operation="up", started_at="2026-11-05T10:00:00+00:00", duration_seconds=1, parallel=1,
                         exit_status=0, customers=[CustomerResult(stack="a.prod", customer="a", platform="cakemail",
                                                                  environment="prod", operation="up", result="changes")])
    assert record_report(report, tmp_path) is False
    assert "warning: the run history was not recorded" in capsys.readouterr().err


def test_who_and_which_commit(tmp_path):
    assert actor({"EMAIL_PARTNERS_ACTOR": "release-bot", "GITHUB_ACTOR": "octo"}) == "release-bot"
    assert actor({"GITLAB_USER_LOGIN": "gl"}) == "gl (ci)" and actor({})
    assert git_commit(tmp_path, {"CI_COMMIT_SHA": "abc123"}) == "abc123"  # not a git checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("1")
    run = dict(cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["git", "add", "f"], **run)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "c"], **run)
    head = subprocess.run(["git", "rev-parse", "HEAD"], **run, text=True).stdout.strip()
    assert git_commit(tmp_path, {}) == head
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path, {}) == head + "-dirty"


def test_url_passwords_are_cut():
    assert without_url_passwords("a postgres://u:p%40ss@h:5/d and https://x:y@z/") == \
        "a postgres://u:***@h:5/d and https://x:***@z/"
    assert without_url_passwords("no url here") == "no url here" and without_url_passwords(None) is None


def test_history_table_names_the_columns(tmp_path):
    e = entry("a.prod", "01", operation="drift", result="drift",
              drift=[FieldDrift(resource="a-account", type="SubAccount", field="name", recorded="A", actual="B")],
              git_commit="0123456789abcdef-dirty", actor="ada")
    from rich.console import Console

    console = Console(width=250, record=True)
    console.print(history_table([e], "t"))
    text = console.export_text()
    assert "SubAccount a-account name" in text and "0123456789ab-dirty" in text and "ada" in text


def test_a_store_of_version_1_is_read_without_the_new_columns_then_migrated_by_the_versions_it_lacks(tmp_path,
                                                                                                      monkeypatch):
    """Schema version 2 adds `reason` and `basis`. A store written by the previous release reads (NULL for
    them, nothing created); the next write applies exactly the migrations it lacks, whatever their numbers
    (other branches add 3, 4...: a store may have 1 and 3 and lack 2)."""
    from operations.history import store as store_module
    from operations.history.model import RunBasis

    s = store(tmp_path)
    first = store_module.MIGRATIONS[0]
    known = sorted(m.version for m in store_module.MIGRATIONS)
    later = store_module.Migration(known[-1] + 1, "a later branch's", sqlite=("CREATE TABLE later_branch (x INTEGER)",),
                                   postgres=("CREATE TABLE later_branch (x INTEGER)",))
    monkeypatch.setattr(store_module, "MIGRATIONS", (first,))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    monkeypatch.setattr(store_module, "FIELDS", tuple(f for f in store_module.FIELDS if store_module.ADDED_BY.get(f, 1) == 1))
    s.record([entry("a.prod", "01")])
    monkeypatch.undo()
    with sqlite3.connect(s.location.target) as conn:  # a later branch's migration is there already
        conn.execute("CREATE TABLE later_branch (x INTEGER)")
        conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (?, 'a later branch''s', 'x')", (later.version,))
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, later))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", later.version)
    [old] = s.entries()
    assert old.reason is None and old.basis is None
    basis = RunBasis(code={"program": "p"}, state="d", read_platform=True)
    s.record([entry("a.prod", "02", reason="would change: x", basis=basis)])
    with sqlite3.connect(s.location.target) as conn:
        assert sorted(v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE}")) == [*known, later.version]
    newest = s.entries()[0]
    assert (newest.reason, newest.basis) == ("would change: x", basis)
    assert s.latest(["a.prod"], 1)[1]["a.prod"]["up"].basis == basis
