"""A fleet runs the project's program inline (in the tool's process, through the Automation API),
and `pulumi up` by hand runs it through the engine's language host: for a customer on each platform
both give the same state and the same outputs, whichever path comes first."""

from __future__ import annotations

import json
import subprocess
import time

import requests

from providers.cakemail import CakemailClient

from ..conftest import Control
from ..processes import kill_session
from .test_fleet import (FAST_RETRY, Fleet, by_customer, cakemail_customer, ciirus_customer, ciirus_user,
                         new_partners, signupto_customer)

# What the engine stamps on every write; all else in a resource's state must be the same.
TIMESTAMPS = ("created", "modified")
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def sealed(value):
    """Secrets as `[secret]`: the engine encrypts them anew (a fresh nonce) on every write."""
    if isinstance(value, dict):
        return "[secret]" if SECRET_SIG in value else {k: sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sealed(v) for v in value]
    return value


def resources(project: Fleet, stack: str) -> dict[str, dict]:
    """The state's resources by URN (their order in the file is the order the steps finished in);
    of each registration's stack trace, the program's own frames (the frames below them are the
    interpreter's way in: the language host's script, or a thread of the tool)."""
    state = json.loads(project.pulumi("stack", "export", "--stack", stack).stdout)
    found = {}
    for resource in state["deployment"]["resources"]:
        resource = {k: v for k, v in resource.items() if k not in TIMESTAMPS}
        if "stackTrace" in resource:
            resource["stackTrace"] = [f for f in resource["stackTrace"]
                                      if f.get("sourcePosition", "").startswith("project:///stacks/")]
        found[resource["urn"]] = sealed(resource)
    return found


def differences(a, b, path="") -> list[str]:
    """Where two states differ, as paths (a readable failure instead of two long JSON documents)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[-90:]!r} != {str(b)[-90:]!r}"]


def outputs(project: Fleet, stack: str) -> dict:
    return json.loads(project.pulumi("stack", "output", "--stack", stack, "--json").stdout)


def exec_kind(project: Fleet, stack: str) -> str:
    """How the engine ran the program in the stack's last update (`auto.inline` for an inline program)."""
    history = json.loads(project.pulumi("stack", "history", "--stack", stack, "--json").stdout)
    return history[0]["environment"]["exec.kind"]


def test_inline_and_cli_runs_give_the_same_state_and_outputs_per_platform(tmp_path, pulumi_bin, emulator):
    control = Control(emulator.url)
    vendor_env, _, _ = new_partners(control, "inline")
    (tmp_path / "state").mkdir()
    project = Fleet(tmp_path / "project", pulumi_bin, (tmp_path / "state").as_uri(), vendor_env)
    project.add("twin-cakemail.qa", cakemail_customer("Inline Twin", domain="news.inline-twin.example"))
    project.add("twin-signupto.qa", signupto_customer("Inline Twin"))
    user = ciirus_user(control, "inline-twin")
    project.add("twin-ciirus.qa", ciirus_customer("mail.inline-twin.example"),
                plain={"ciirus:username": user["username"]}, secrets={"ciirus:password": user["password"]})
    stacks = ["twin-cakemail.qa", "twin-signupto.qa", "twin-ciirus.qa"]

    # Created by the fleet, inline.
    created = project.fleet("up", "--yes", "--parallel", "2", expect=0)
    assert {c["result"] for c in created["customers"]} == {"changes"}
    inline_state = {s: resources(project, s) for s in stacks}
    inline_outputs = {s: outputs(project, s) for s in stacks}
    assert {exec_kind(project, s) for s in stacks} == {"auto.inline"}

    # `pulumi up` by hand finds nothing to do and records exactly the same state and outputs.
    for stack in stacks:
        project.pulumi("up", "--yes", "--stack", stack, "--expect-no-changes")
        assert exec_kind(project, stack) == "cli"
        found = differences(resources(project, stack), inline_state[stack])
        assert found == [], "\n".join([stack, *found])
        assert outputs(project, stack) == inline_outputs[stack], stack
    assert set(inline_outputs["twin-cakemail.qa"]) >= {"account_id", "features", "dns_records", "domains_verified"}

    # And back: the fleet, inline again, after the hand-run up.
    again = project.fleet("up", "--yes", expect=0)
    assert {c["customer"]: c["result"] for c in again["customers"]} == {s.split(".")[0]: "no changes" for s in stacks}
    for stack in stacks:
        assert exec_kind(project, stack) == "auto.inline"
        assert differences(resources(project, stack), inline_state[stack]) == [], stack

    # The engine's language host path is still there, and agrees (EMAIL_PARTNERS_INLINE=0).
    project.env["EMAIL_PARTNERS_INLINE"] = "0"
    checked = project.fleet("preview", "--engine-all", expect=0)
    assert {c["result"] for c in by_customer(checked).values()} == {"no changes"}


def test_a_fleet_up_killed_during_a_create_is_recovered_with_one_account(tmp_path, pulumi_bin, emulator):
    """The whole job killed (the tool, its inline programs, the engine and the provider: SIGKILL of
    the process group, as a CI runner or Kubernetes does) while the vendor holds the create: the
    README's recovery leaves exactly one account, recorded in state, with no second POST."""
    control = Control(emulator.url)
    vendor_env, cakemail, _ = new_partners(control, "inline-kill")
    (tmp_path / "state").mkdir()
    project = Fleet(tmp_path / "project", pulumi_bin, (tmp_path / "state").as_uri(), vendor_env)
    project.add("killed.qa", cakemail_customer("Inline Killed"))
    project.pulumi("stack", "init", "killed.qa", "--no-select")
    before = control.last_request_id()
    control.fault("^/cakemail/accounts$", method="POST", latency_ms=1500, count=1)
    proc = subprocess.Popen(project.command("up", "--yes"), env=project.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while requests.get(control.url + "/_control/faults", timeout=10).json()["faults"]:
        assert time.monotonic() < deadline and proc.poll() is None, "the create never reached the emulator"
        time.sleep(0.05)
    time.sleep(0.3)
    kill_session(proc.pid)  # the tool, the engine and every plugin (each in a process group of its own)
    proc.wait()
    time.sleep(2)  # the vendor finishes the create after the client is gone
    posts = [r for r in control.requests(since_id=before) if r["method"] == "POST" and r["path"] == "/cakemail/accounts"]
    assert len(posts) == 1

    # Recovery as the README says: cancel the lock the killed run left, run again, drop the cut create's record.
    subprocess.run(["pulumi", "cancel", "--yes", "--stack", "killed.qa", "--non-interactive"], cwd=project.root,
                   env=project.env, capture_output=True, timeout=60)  # refuses when nothing is locked: fine
    recovered = project.fleet("up", "--yes", expect=0)
    assert by_customer(recovered)["killed"]["result"] in ("changes", "no changes")
    project.pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", "killed.qa")
    client = CakemailClient(control.url + "/cakemail", cakemail["username"], cakemail["password"], retry=FAST_RETRY)
    accounts = client.accounts_named("Inline Killed")
    assert len(accounts) == 1
    assert [r for r in control.requests(since_id=before)
            if r["method"] == "POST" and r["path"] == "/cakemail/accounts"] == posts  # no second create
    recorded = [r for r in resources(project, "killed.qa").values() if r["type"].endswith(":SubAccount")]
    assert [r["outputs"]["account_id"] for r in recorded] == [accounts[0].id]
    assert by_customer(project.fleet("preview", expect=0))["killed"]["result"] == "no changes"
