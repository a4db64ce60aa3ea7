"""`pulumi up` killed (SIGKILL of the engine and every plugin it started) while the vendor holds the
create: after `email-partners recover STACK` (the stale lock removed, the `up` that takes the object
over, the pending operation cleared), exactly one object, no second POST in the emulator's log, and
a clean preview. A lock of a live process is named and left alone."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time

import pytest
import requests

from ..processes import kill_session
from .environments_harness import tool

HOLD_MS = 1500  # the emulator holds the create this long; the kill lands inside it

CUSTOMERS = {
    "cakemail": ({"platform": "cakemail", "account": {
        "name": "Killed Bakery", "owner": {"email": "ops@killed.example", "first_name": "K", "last_name": "B"}}},
        r"^/cakemail/accounts$"),
    "signupto": ({"platform": "signupto", "account": {
        "name": "Killed Bakery", "owner": {"email": "ops@killed.example"}, "country": "GB", "on_destroy": "keep"}},
        r"^/signupto/v1/account$"),
    "ciirus": ({"platform": "ciirus", "account": {}, "features": {"daily_send_limit": 100, "approved": False},
                "sending_domains": [{"domain": "killed.example"}]},
               r"^/ciirus/.*/emails/subaccount$"),
}


def kill_while_held(project, control, post_path: str) -> None:
    """Start `pulumi up`, wait until the create POST is held by the emulator, kill the process group."""
    before = control.last_request_id()
    control.fault(post_path, method="POST", latency_ms=HOLD_MS, count=1)
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"], cwd=project.root,
                            env=project.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    # The fault is consumed when the POST arrives (it leaves the fault list): that is the moment to kill.
    while fault_pending(control) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    # The engine runs each plugin in a process group of its own: end its whole session, not only its group.
    kill_session(proc.pid)
    proc.wait()
    time.sleep(HOLD_MS / 1000 + 0.5)  # the vendor finishes the create after the client is gone
    assert posts(control, before, post_path) == 1, "the create never reached the emulator: the test proves nothing"


def fault_pending(control) -> bool:
    return bool(requests.get(control.url + "/_control/faults", timeout=10).json()["faults"])


def posts(control, since: int, post_path: str) -> int:
    return sum(1 for r in control.requests(since_id=since) if r["method"] == "POST" and re.search(post_path, r["path"]))


def recover(project):
    """`email-partners recover`: one command instead of cancel, up, refresh --clear-pending-creates."""
    result = tool(project, "recover", project.stack)
    assert result.returncode == 0, result.output
    return result


def lock_files(project) -> list:
    return sorted((project.root / "state" / ".pulumi" / "locks").rglob("*.json"))


@pytest.mark.parametrize("platform", CUSTOMERS)
def test_kill_during_sub_account_create_leaves_one_account(platform, request, control):
    project = request.getfixturevalue(f"{platform}_project")
    customer, post_path = CUSTOMERS[platform]
    project.set_customer(customer)
    before = control.last_request_id()
    kill_while_held(project, control, post_path)

    if platform == "cakemail":
        # A second lock, of a live process of this host (this test's own): recover names it and stops.
        [stale] = lock_files(project)
        live = stale.with_name("0-live.json")
        live.write_text(json.dumps({"pid": os.getpid(), "username": "someone", "hostname": socket.gethostname(),
                                    "timestamp": "2026-01-01T00:00:00Z"}))
        refused = tool(project, "recover", project.stack)
        assert refused.returncode == 1, refused.output
        assert f"someone@{socket.gethostname()} (pid {os.getpid()})" in refused.stderr, refused.output
        assert lock_files(project) == sorted([stale, live]), "a live lock, or any lock beside it, was removed"
        assert posts(control, before, post_path) == 1
        live.unlink()
    result = recover(project)
    assert "stale lock" in result.stdout and "no longer exists" in result.stdout, result.output
    assert "in flight" in result.stdout and "cleared" in result.stdout, result.output
    assert "taking it over" in result.output, result.output
    assert lock_files(project) == []
    account_id = project.outputs()["account_id"]
    api = request.getfixturevalue({"cakemail": "cakemail_api", "signupto": "signupto_api", "ciirus": "ciirus_api"}[platform])
    if platform == "cakemail":
        assert [a.id for a in api.accounts_named("Killed Bakery")] == [account_id]
    elif platform == "signupto":
        assert [str(a.id) for a in api.list_accounts() if a.name == "Killed Bakery"] == [account_id]
    else:
        assert api.get().subaccount_id == account_id
    assert posts(control, before, post_path) == 1, "the recovery sent the create again"
    assert not project.export()["deployment"].get("pending_operations"), "the engine would warn again"
    project.preview("--expect-no-changes")


def test_kill_during_cakemail_sending_domain_create_leaves_one_dkim_key(cakemail_project, cakemail_api, control):
    customer = {**CUSTOMERS["cakemail"][0], "sending_domains": [{"domain": "news.killed.example"}]}
    cakemail_project.set_customer(customer)
    kill_while_held(cakemail_project, control, r"^/cakemail/brands/default/dkim$")
    recover(cakemail_project)
    account_id = cakemail_project.outputs()["account_id"]
    assert [a.id for a in cakemail_api.accounts_named("Killed Bakery")] == [account_id]
    keys = cakemail_api.list_dkim_keys(account_id)
    assert [k.domain for k in keys] == ["news.killed.example"]
    assert not cakemail_project.export()["deployment"].get("pending_operations")
    cakemail_project.preview("--expect-no-changes")
