"""`pulumi up` killed (SIGKILL of its process group) while the vendor holds the create: after the
README's recovery (`pulumi cancel` if locked, `pulumi up`, `pulumi refresh --clear-pending-creates`), exactly one object, no second
POST in the emulator's log, and a clean preview."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
import requests

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
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(HOLD_MS / 1000 + 0.5)  # the vendor finishes the create after the client is gone
    assert posts(control, before, post_path) == 1, "the create never reached the emulator: the test proves nothing"


def fault_pending(control) -> bool:
    return bool(requests.get(control.url + "/_control/faults", timeout=10).json()["faults"])


def posts(control, since: int, post_path: str) -> int:
    return sum(1 for r in control.requests(since_id=since) if r["method"] == "POST" and re.search(post_path, r["path"]))


def recover(project):
    """The documented recovery: `pulumi cancel` when the stack is locked, `pulumi up`, then
    `pulumi refresh --clear-pending-creates` (else the engine repeats its warning on every `up`)."""
    result = project.up(check=False)
    if result.returncode != 0 and "locked" in result.output:
        project.run("cancel", "--yes")
        result = project.up(check=False)
    assert result.returncode == 0, result.output
    # The object is in state now; the engine's own record of the cut create is stale: drop it.
    project.refresh("--clear-pending-creates")
    return result


@pytest.mark.parametrize("platform", CUSTOMERS)
def test_kill_during_sub_account_create_leaves_one_account(platform, request, control):
    project = request.getfixturevalue(f"{platform}_project")
    customer, post_path = CUSTOMERS[platform]
    project.set_customer(customer)
    before = control.last_request_id()
    kill_while_held(project, control, post_path)

    result = recover(project)
    assert "pending" in result.output.lower(), result.output  # the engine's own warning about the cut create
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
