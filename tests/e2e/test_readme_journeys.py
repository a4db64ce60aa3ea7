"""The README's journeys, run as written, in the README's order on one emulator: the commands of its marked
blocks (tests/readme.py), in bash, on a copy of the project as git tracks it (a user's own stack files never
count). What the test changes, and only that: port 8710 becomes a free port (in the copy's stack and
environment files and in the commands), PULUMI_HOME is the copy's own, the team block's
`$(scripts/postgres.sh start)` is a fresh database on the session's PostgreSQL server, and the fleet line
also writes `--json`. One scenario checks, in order: the no-backend message, the emulator the README
starts, demo.sh's port checks, the example credentials with a first customer in staging,
check-credentials of every stack, only what changed going through the engine, the DNS records,
retiring a Cakemail and a Sign-Up.to customer (and the history of the retired one), cloning the demo's
customer into staging, discovering production's accounts (one adopted, the demo's refused, naming its
owner), a change rehearsed on a staging copy and promoted to production, the team set-up (the file backend moved
onto PostgreSQL, its stacks listed at once there, a stack of another passphrase failing alone); and at
the end, every vendor object of the demo partners owned by exactly one stack, through the vendors'
APIs and the backend."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from ..processes import kill_session
from ..readme import block
from ..tracked import copy_tracked
from ..vendors import without_platform_settings
from .pulumi_cli import REPO

COPIED = ("Pulumi.yaml", "pyproject.toml", "scripts", "stacks", "policies")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Shell:
    """Bash scripts in the project copy, each in a session of its own (ended after it, with anything it
    left in the background, unless `keep`)."""

    def __init__(self, root: Path, port: int, pulumi_bin: Path):
        self.root, self.port = root, port
        self.env = without_platform_settings(os.environ, "PULUMI_", "VIRTUAL_ENV")
        self.env.update(PULUMI_HOME=str(root / "pulumi-home"), PULUMI_SKIP_UPDATE_CHECK="true")
        self.sessions: list[int] = []
        assert str(pulumi_bin) == f"{Path.home()}/.pulumi/versions/3.259.0/bin", \
            "the README's PATH line names the engine's install directory"

    def text(self, commands: str) -> str:
        return commands.replace("8710", str(self.port))

    def run(self, *blocks: str, keep: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
        script = "set -e\n" + "\n".join(self.text(b) for b in blocks)
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            # Files, not pipes: a command the script leaves in the background must not hold the test.
            proc = subprocess.Popen(["bash", "-c", script], cwd=self.root, env={**self.env, **(env or {})},
                                    stdout=out, stderr=err, text=True, start_new_session=True)
            try:
                proc.wait(timeout=600)
            finally:
                if keep:
                    self.sessions.append(proc.pid)
                else:
                    kill_session(proc.pid)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(script, proc.returncode, out.read(), err.read())

    def close(self) -> None:
        for sid in self.sessions:
            kill_session(sid)


@pytest.fixture
def shell(tmp_path, pulumi_bin):
    root = tmp_path / "project"
    root.mkdir()
    copy_tracked(root, *COPIED)  # as git tracks them: a user's own stack files and settings never count
    # The set-up's virtualenv, shared: bootstrap.sh must have nothing to do in the copy, or it would install
    # the copy (a temporary directory) into the developer's virtualenv in place of this checkout.
    stamp = REPO / ".venv" / f".installed-{hashlib.sha256((REPO / 'pyproject.toml').read_bytes()).hexdigest()[:16]}"
    assert stamp.exists(), "the virtualenv was made for another pyproject.toml: run scripts/bootstrap.sh first"
    (root / ".venv").symlink_to(REPO / ".venv")
    port = free_port()
    for path in (root / "stacks").rglob("*.yaml"):
        path.write_text(path.read_text().replace("127.0.0.1:8710", f"127.0.0.1:{port}"))
    shell = Shell(root, port, pulumi_bin)
    yield shell
    shell.close()


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout + result.stderr


def output(shell: Shell, env_block: str, stack: str) -> dict:
    return json.loads(ok_stdout(shell.run(env_block, f"pulumi stack output --json --stack {stack}")))


def ok_stdout(result: subprocess.CompletedProcess) -> str:
    ok(result)
    return result.stdout


def set_account(root: Path, stack: str, **settings) -> None:
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    # A line under `account:`, as the README tells a user to add it; the rest of the file stays as written.
    lines = "".join(f"      {key}: {json.dumps(value)}\n" for key, value in settings.items())
    assert "\n    account:\n" in text, text
    path.write_text(text.replace("\n    account:\n", "\n    account:\n" + lines, 1))
    declared = yaml.safe_load(path.read_text())["config"]["email-partners:customer"]["account"]
    assert all(declared[k] == v for k, v in settings.items()), declared


def test_readme_journeys_work_as_written(shell, request):
    env_block, root = block("engine-env"), shell.root
    path_line = env_block.splitlines()[0]

    # No backend: every subcommand says which variables to set, not the engine's Pulumi Cloud login.
    no_backend = shell.run(path_line, "email-partners fleet preview")
    assert no_backend.returncode == 2, no_backend.stdout + no_backend.stderr
    for word in ("PULUMI_BACKEND_URL", "file://", "postgres://", "PULUMI_CONFIG_PASSPHRASE"):
        assert word in no_backend.stderr, no_backend.stderr
    assert "PULUMI_ACCESS_TOKEN" not in no_backend.stderr

    # The emulator the README starts for the sections after the demo: this checkout's demo data.
    ok(shell.run(env_block, block("emulator"), keep=True))
    deadline, health = time.monotonic() + 30, {}
    while time.monotonic() < deadline:
        try:
            health = requests.get(f"http://127.0.0.1:{shell.port}/_control/health", timeout=2).json()
            break
        except requests.RequestException:
            time.sleep(0.2)
    assert health["db"] == os.path.realpath(root / ".demo" / "emulator.db"), health

    # demo.sh on that port reuses it; on a port another program holds it refuses, running nothing.
    demo = ok(shell.run("scripts/demo.sh", env={"DEMO_EMULATOR_PORT": str(shell.port)}))
    assert "using this checkout's emulator" in demo and "account_id" in demo, demo
    other_port = free_port()
    other = subprocess.Popen(["python3", "-m", "http.server", str(other_port), "--bind", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while socket.socket().connect_ex(("127.0.0.1", other_port)) != 0:
            time.sleep(0.1)
        taken = shell.run("scripts/demo.sh", env={"DEMO_EMULATOR_PORT": str(other_port)})
    finally:
        other.kill()
        other.wait()
    assert taken.returncode == 1 and "taken by another program" in taken.stderr, taken.stdout + taken.stderr
    assert "DEMO_EMULATOR_PORT" in taken.stderr

    # The example credentials: a first customer in staging goes through preview and up (no 401);
    # check-credentials with no stack checks every customer stack, each line naming its identity.
    first = ok(shell.run(env_block, block("example-credentials"), block("first-customer")))
    for stack, who in (("corner-cafe.staging", "cakemail:username staging-partner@example.com"),
                       ("demo-cakemail", "cakemail:username demo-partner@example.com")):
        assert f"{stack}: ok: {who} accepted" in first, first
    for stack in ("demo-ciirus", "demo-sendgrid", "demo-signupto"):  # in no backend yet: nothing to decrypt their secrets with
        assert f"{stack}: skipped: not in the backend yet" in first, first

    # Only what changed goes through the engine: the first fleet up of the customer made by hand runs it through
    # the engine (nothing recorded yet), which records what it ran with; the preview after it runs nothing.
    fleet_up = ok(shell.run(env_block, block("example-credentials"), block("only-what-changed").splitlines()[0]))
    assert "up: 1 customers: 1 no changes" in fleet_up and "to the engine (no recorded update)" in fleet_up, fleet_up
    before = requests.get(f"http://127.0.0.1:{shell.port}/_control/requests", timeout=10).json()["requests"][-1]["id"]
    preview = ok(shell.run(env_block, block("example-credentials"), block("only-what-changed").splitlines()[1]))
    assert "preview: 1 customers: 1 unchanged (not run)" in preview, preview
    assert requests.get(f"http://127.0.0.1:{shell.port}/_control/requests", params={"since_id": before},
                        timeout=10).json()["requests"] == []

    # The DNS records of the demo's customer and the first one, in full, from their recorded state.
    records = ok(shell.run(env_block, block("dns")))
    assert "_domainkey.news.acme-bakery.example" in records and '"stack": "corner-cafe.staging"' in records

    # Retiring: refused while protected, naming the guard; then the README's steps, verbatim.
    retire = block("retire")
    refused = shell.run(env_block, retire.splitlines()[-1])
    assert refused.returncode == 2 and "protect: false" in refused.stderr, refused.stdout + refused.stderr
    account_id = output(shell, env_block, "corner-cafe.staging")["account_id"]
    set_account(root, "corner-cafe.staging", protect=False)
    retired = ok(shell.run(env_block, retire))
    assert "account.protect is false" in retired, retired  # the up that records it says so
    assert f"the cakemail account {account_id} is deleted" in retired, retired
    assert not (root / "stacks" / "Pulumi.corner-cafe.staging.yaml").exists()
    from providers.cakemail import CakemailClient

    staging = CakemailClient(f"http://127.0.0.1:{shell.port}/cakemail", "staging-partner@example.com", "staging-password")
    assert account_id not in [a.id for a in staging.accounts_named("Corner Cafe")]
    # The retired customer's history: under the stack it had, though its file is gone.
    history = json.loads(ok_stdout(shell.run(env_block, "email-partners history corner-cafe --format json")))
    [retirement] = [e for e in history["entries"] if e["operation"] == "retire"]
    assert retirement["stack"] == "corner-cafe.staging" and retirement["result"] == "retired", retirement
    assert account_id in [o["key"] for o in retirement["objects"]] and retirement["actor"], retirement

    # A Sign-Up.to customer (its file already says on_destroy: keep): the account stays, and it says so.
    ok(shell.run("scripts/demo.sh demo-signupto", env={"DEMO_EMULATOR_PORT": str(shell.port)}))
    set_account(root, "demo-signupto", protect=False)
    kept = ok(shell.run(env_block, retire.replace("corner-cafe.staging", "demo-signupto")))
    assert "leaves the account on Sign-Up.to" in kept, kept  # the up's warning
    signupto_id = kept.split("the Sign-Up.to account ", 1)[1].split()[0]
    assert f"the Sign-Up.to account {signupto_id} stays on Sign-Up.to (on_destroy: keep)" in kept, kept
    assert not (root / "stacks" / "Pulumi.demo-signupto.yaml").exists()
    from providers.signupto import SignupToClient

    partner = SignupToClient.as_partner(f"http://127.0.0.1:{shell.port}/signupto", 1001,
                                        "demo0partner0key000000000000000000000040")
    assert signupto_id in [str(a.id) for a in partner.list_accounts()], "the account must stay on Sign-Up.to"
    # The stack file back as git has it (the team's repository still declares the demo customer): the team
    # set-up below creates it in PostgreSQL, and its create finds this account, which no stack manages.
    copy_tracked(root, "stacks/Pulumi.demo-signupto.yaml")
    restored = root / "stacks" / "Pulumi.demo-signupto.yaml"
    restored.write_text(restored.read_text().replace("127.0.0.1:8710", f"127.0.0.1:{shell.port}"))

    # Cloning the demo's customer into staging: its own new account there, the demo's untouched.
    cloned = ok(shell.run(env_block, block("example-credentials"), block("clone")))
    assert "Created stack acme-bakery.staging from demo-cakemail" in cloned, cloned
    assert "'owner+staging@acme-bakery.example'" in cloned and "'staging.news.acme-bakery.example'" in cloned
    assert [a.name for a in staging.iter_accounts()] == ["Acme Bakery"]

    # Discovering production: Florist (made before any stack) is written and adopted; Acme Bakery is the
    # demo's, so no second stack is written for it, and the output names its owner.
    found = ok(shell.run(env_block, block("example-credentials"), block("discover")))
    assert "florist.production" in found and "written" in found, found
    assert "acme-bakery.production" in found and "skipped: managed by stack demo-cakemail" in found, found
    assert not (root / "stacks" / "Pulumi.acme-bakery.production.yaml").exists()
    assert "adopted" in found and "preview: 1 customers: 1 unchanged (not run)" in found, found

    # Promotion: a production customer, its staging copy changed and deployed, the change carried back.
    production = root / "stacks" / "Pulumi.harbour-cafe.production.yaml"
    promoted = ok(shell.run(env_block, block("example-credentials"), block("promote")))
    for text in ("harbour-cafe.staging", "to promote", "features.per_month  10000 -> 80000",
                 "+      per_month: 80000  # a whole number >= 0", "Promoted from `harbour-cafe.staging`",
                 "features.per_month 10000 -> 80000"):
        assert text in promoted, (text, promoted[-6000:])
    declared = yaml.safe_load(production.read_text())["config"]["email-partners:customer"]
    assert declared["features"] == {"per_month": 80000, "maximum_contacts": 5000}  # the cap stayed in staging
    assert "staging" not in production.read_text().split("config:", 1)[1]
    assert (root / "stacks" / "copies" / "harbour-cafe.staging.yaml").exists()
    assert (root / "stacks" / "promotions" / "harbour-cafe.production.yaml").exists()
    from providers.cakemail import CakemailClient

    live = CakemailClient(f"http://127.0.0.1:{shell.port}/cakemail", "demo-partner@example.com", "demo-password")
    harbour = live.accounts_named("Harbour Cafe")
    assert [live.get_account(a.id).usage_limits.get("per_month") for a in harbour] == [80000], harbour

    # The team set-up: the file backend moved onto PostgreSQL (a fresh database of the session's server),
    # then the demo stacks with one whose secrets use another passphrase among those it selects.
    try:
        server = request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        server = None
    if server:
        postgres = fresh_database(server, "readme")
        team_env = {"PULUMI_BACKEND_URL": postgres, "PULUMI_CONFIG_PASSPHRASE": "another-passphrase"}
        ok(shell.run(path_line, "pulumi stack init demo-legacy --non-interactive",
                     "pulumi config set --secret --stack demo-legacy cakemail:password x --non-interactive",
                     env=team_env))
        legacy = root / "stacks" / "Pulumi.demo-legacy.yaml"
        legacy.write_text(legacy.read_text() + (root / "stacks" / "Pulumi.demo-cakemail.yaml").read_text()
                          .split("email-partners:customer:", 1)[1].join(["  email-partners:customer:", ""]))
        team = block("team").replace("$(scripts/postgres.sh start)", postgres)
        team = team.replace("--select 'demo-*' --yes", "--select 'demo-*' --yes --json report.json")
        result = shell.run(env_block, block("example-credentials"), team)
        assert result.returncode == 1, result.stdout + result.stderr  # one customer failed, alone
        moved = ("acme-bakery.staging", "demo-cakemail", "florist.production")
        for stack in moved:
            assert f"{stack}: copied" in result.stdout, result.stdout
        listed = result.stdout.split("run history entries copied", 1)[1]  # what `pulumi stack ls` printed
        assert all(stack in listed for stack in (*moved, "demo-legacy")), result.stdout
        report = {c["stack"]: c for c in json.loads((root / "report.json").read_text())["customers"]}
        assert sorted(report) == ["demo-cakemail", "demo-ciirus", "demo-legacy", "demo-sendgrid", "demo-signupto"], \
            sorted(report)
        assert {s: c["result"] for s, c in report.items() if s != "demo-legacy"} == {
            "demo-cakemail": "no changes", "demo-ciirus": "changes", "demo-sendgrid": "changes",
            "demo-signupto": "changes"}, report
        error = report["demo-legacy"]["error"]
        assert report["demo-legacy"]["result"] == "failed" and "demo-legacy" in error, error
        assert "PULUMI_CONFIG_PASSPHRASE" in error, error
        legacy.unlink()
        one_owner_each(shell, env_block, postgres)


def fresh_database(server: str, tag: str) -> str:
    """A database of its own on the session's server (the journey's stacks meet no other test's)."""
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    name = f"{tag}_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def one_owner_each(shell: Shell, env_block: str, backend: str) -> None:
    """Every account, subuser and company the demo partners have (their vendors' APIs) is owned by exactly
    one stack of the team's backend (its ownership index, read in one pass)."""
    from providers.cakemail import CakemailClient
    from providers.ciirus import CiirusClient
    from providers.sendgrid import SendGridClient
    from providers.signupto import SignupToClient

    index = json.loads(ok_stdout(shell.run(env_block, f"PULUMI_BACKEND_URL='{backend}' email-partners owners "
                                                      f"--format json")))
    assert index["shared"] == [] and index["unread"] == {}, index
    owners = {(e["object"]["platform"], e["object"]["noun"], e["object"]["key"]): [o["stack"] for o in e["owners"]]
              for e in index["entries"]}
    url = f"http://127.0.0.1:{shell.port}"
    live = [("cakemail", "account", a.id) for login, password in (("demo-partner@example.com", "demo-password"),
                                                                   ("staging-partner@example.com", "staging-password"))
            for a in CakemailClient(f"{url}/cakemail", login, password).iter_accounts()]
    live += [("signupto", "company", str(a.id)) for a in SignupToClient.as_partner(
        f"{url}/signupto", 1001, "demo0partner0key000000000000000000000040").list_accounts()]
    sub_account = CiirusClient(f"{url}/ciirus", "demo-api-user", "demo-password", "v2024.07.31").get()
    live += [("ciirus", "sub-account", sub_account.subaccount_id)] if sub_account else []
    live += [("sendgrid", "subuser", s.username) for s in SendGridClient(
        f"{url}/sendgrid", "SG.demo-parent-api-key0.demo-secret-never-a-real-sendgrid-key-0000").list_subusers()]
    assert {p for p, _, _ in live} == {"cakemail", "signupto", "ciirus", "sendgrid"}, live
    for obj in live:
        assert len(owners.get(obj, [])) == 1, (obj, owners.get(obj))
