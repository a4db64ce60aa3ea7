"""The one pass's safety gate (operations/changes/verdict.py) on recorded facts, what the basis compares
(basis.py), and `--changed-since` on a local git repository (since.py): every case that cannot be told
goes to the engine, named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from operations.backend.locks import Lock
from operations.backend.state import RecordedResource, RecordedStack
from operations.changes import basis as basis_module
from operations.changes.basis import Digests, what_changed
from operations.changes.since import changed_since
from operations.changes.verdict import gate, settings_verdict
from operations.fleet.operation import select
from operations.history.model import RunBasis, RunEntry
from operations.project.stacks import CustomerStack

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = RecordedResource(urn="urn:pulumi:s::email-partners::emailpartners:index:Customer$"
                               "pulumi-python:dynamic/partners:SubAccount::a.prod-account",
                           type="pulumi-python:dynamic/partners:SubAccount", custom=True, id="42",
                           inputs={"platform": "cakemail", "name": "A"}, outputs={"platform": "cakemail", "name": "A"})


@pytest.fixture
def digests(tmp_path, monkeypatch):
    monkeypatch.setattr(basis_module, "engine_digest", lambda: "the-engine")
    (tmp_path / "stacks" / "environments").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks" / "environments" / "prod.yaml").write_text("providers: {}\n")
    return Digests(tmp_path, None)


def customer(**config) -> CustomerStack:
    return CustomerStack("a.prod", Path("Pulumi.a.prod.yaml"),
                         {"email-partners:customer": {"platform": "cakemail"}, "cakemail:username": "p@x.example",
                          **config})


def state(digest: str = "d1", **fields) -> RecordedStack:
    return RecordedStack(name="a.prod", status="recorded", resources=[ACCOUNT], key="k", digest=digest, **fields)


def run(operation: str, when: str, result: str = "changes", basis=None) -> RunEntry:
    return RunEntry(run_id=when, started_at=f"2026-12-0{when}T10:00:00+00:00", operation=operation, stack="a.prod",
                    customer="a", result=result, basis=basis)


def test_the_gate_passes_only_what_its_last_update_ran_and_left(digests):
    stack = customer()
    last = digests.basis(stack, "d1", True)
    assert gate(stack, state(), None, {"up": run("up", "1", basis=last)}, digests) == (None, last)
    # A later refresh by the tool that left this very state is fine; one that left another is not.
    assert gate(stack, state("d2"), None, {"up": run("up", "1", basis=last),
                                           "refresh": run("refresh", "2", "drift", basis=digests.basis(stack, "d2", True))},
                digests)[0] is None
    cases = {
        "not deployed": (RecordedStack(name="a.prod", status="not deployed"), None, {}),
        "state: the state has pending operations": (
            RecordedStack(name="a.prod", status="engine", reason="the state has pending operations of an interrupted run"),
            None, {}),
        "state: checkpoint version 9": (RecordedStack(name="a.prod", status="engine", reason="checkpoint version 9 (...)"),
                                        None, {}),
        "locked: a lock is held on its stack by ops@host (pid 7)": (
            state(), Lock(username="ops", hostname="host", pid=7, since="2026-12-01T00:00:00"), {}),
        "no recorded update": (state(), None, {}),
        "last run failed: its up of 2026-12-02": (state(), None, {"up": run("up", "2", "failed", basis=last)}),
        "last run failed: its refresh": (state(), None, {"up": run("up", "1", basis=last),
                                                         "refresh": run("refresh", "2", "failed", basis=last)}),
        "state changed: its state was written after the up": (state("d9"), None, {"up": run("up", "1", basis=last)}),
    }
    for expected, (recorded, lock, latest) in cases.items():
        reason, _ = gate(stack, recorded, lock, latest, digests)
        assert reason is not None and reason.startswith(expected), (expected, reason)
    unrecorded = run("up", "1")  # an up of the release before: no basis
    assert gate(stack, state(), None, {"up": unrecorded}, digests)[0].startswith("no recorded update")


def test_what_the_last_update_ran_with_is_compared_part_by_part(digests):
    stack = customer()
    now = digests.basis(stack, "d1", False)
    before = now.model_copy(update={"code": {**now.code, "program": "old", "providers": "old"}})
    assert what_changed(before, now, stack) == ["the providers (providers/)", "the program (Pulumi.yaml, stacks/*.py)"]
    with_pack = now.model_copy(update={"code": {**now.code, "policies": "pack"}})
    assert what_changed(with_pack, now, stack) == []  # this run does not run the pack: not compared
    assert what_changed(now, with_pack, stack) == ["the policy pack (policies/)"]  # the last update did not run it
    assert what_changed(now.model_copy(update={"environment": "x", "settings": "y"}), now, stack) == [
        "its environment file (stacks/environments/prod.yaml)", "the provider settings in its stack file"]
    reason, _ = gate(stack, state(), None, {"up": run("up", "1", basis=before)}, digests)
    assert reason.startswith("changed since its last update: the providers (providers/), the program")
    # The settings digest is of the data: a re-encrypted secret counts, formatting does not.
    assert digests.basis(customer(**{"cakemail:password": {"secure": "v1:a"}}), "d1", False).settings != \
        digests.basis(customer(**{"cakemail:password": {"secure": "v1:b"}}), "d1", False).settings


def test_provider_settings_the_preview_would_refuse(monkeypatch):
    monkeypatch.delenv("CAKEMAIL_PASSWORD", raising=False)
    assert settings_verdict(customer(**{"cakemail:password": {"secure": "v1:x"}})) is None  # encrypted: as last run
    reason = settings_verdict(customer())
    assert reason.startswith("provider settings: missing cakemail:password"), reason
    assert settings_verdict(customer(**{"cakemail:password": {"secure": "v1:x"},
                                        "cakemail:apiUrl": "not a url"})).startswith("provider settings: cakemail:apiUrl")


# --- --changed-since on a local git repository --------------------------------------------------------

def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.example", *args], cwd=root, check=True,
                   capture_output=True)


def stack_file(root: Path, name: str, platform: str = "signupto", limit: int = 250) -> None:
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"email-partners:customer": {
        "platform": platform, "features": {"list_limit": limit}, "account": {"name": name}}}}))


@pytest.fixture
def repository(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "stacks" / "environments").mkdir(parents=True)
    (root / "providers").mkdir()
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "stacks" / "customer.py").write_text("# the program\n")
    (root / "providers" / "http.py").write_text("# the providers\n")
    (root / "stacks" / "environments" / "prod.yaml").write_text("providers: {}\n")
    (root / "stacks" / "environments" / "qa.yaml").write_text("providers: {}\n")
    for name in ("a.prod", "b.prod", "c.prod", "d.qa", "e.qa"):
        stack_file(root, name)
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def selected(root: Path, ref: str = "HEAD^") -> tuple[list[str], list[str]]:
    selection = select(root, changed_since=ref)
    return [s.name for s in selection.stacks], selection.notes


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_changed_since_selects_exactly_what_each_commit_touches(repository):
    root = repository
    stack_file(root, "a.prod", limit=300)
    stack_file(root, "d.qa", limit=300)
    commit(root, "two stack files")
    assert selected(root)[0] == ["a.prod", "d.qa"]

    git(root, "rm", "-q", "stacks/Pulumi.b.prod.yaml")
    commit(root, "a deleted stack file")
    names, notes = selected(root)
    assert names == []
    assert any(n.startswith("b.prod is no longer declared: its signupto account stays live and unmanaged; "
                            "to retire it,") for n in notes), notes

    (root / "stacks" / "environments" / "qa.yaml").write_text("providers: {}\ndescription: edited\n")
    commit(root, "an environment file")
    assert selected(root)[0] == ["d.qa", "e.qa"]

    (root / "providers" / "http.py").write_text("# the providers, changed\n")
    commit(root, "providers/")
    names, notes = selected(root)
    assert names == ["a.prod", "c.prod", "d.qa", "e.qa"]
    assert notes[0].startswith("--changed-since HEAD^: every customer (the code they all run changed: providers/http.py")

    (root / "stacks" / "customer.py").write_text("# the program, changed\n")
    assert selected(root, "HEAD")[0] == ["a.prod", "c.prod", "d.qa", "e.qa"]  # uncommitted counts too
    git(root, "checkout", "-q", "--", "stacks/customer.py")
    (root / "README.md").write_text("docs only\n")
    (root / "providers" / "__pycache__").mkdir()
    (root / "providers" / "__pycache__" / "http.cpython-311.pyc").write_bytes(b"\0")
    assert selected(root, "HEAD") == ([], ["--changed-since HEAD: no stack file, environment file or shared code "
                                           "changed"])
    with pytest.raises(Exception, match="--changed-since no-such-ref: git cannot compare with it"):
        changed_since(root, "no-such-ref")
