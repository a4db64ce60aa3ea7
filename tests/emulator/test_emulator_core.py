"""Emulator machinery: control API, fault injection, request log, persistence and the CLI."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulator import EmulatorServer

from .helpers import PARTNER, PASSWORD, Cakemail, add_partner, get_token

ROOT = Path(__file__).resolve().parents[2]


def _control(emulator, method, path, **kw):
    return requests.request(method, f"{emulator.url}/_control{path}", timeout=5, **kw)


def _fault(emulator, **spec) -> int:
    r = _control(emulator, "POST", "/faults", json=spec)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _log(emulator, **params) -> list[dict]:
    r = _control(emulator, "GET", "/requests", params=params)
    assert r.status_code == 200
    return r.json()["requests"]


def test_health_and_control_not_logged(emulator):
    import os

    # The health answer says what this server is, so a script finding the port taken can tell it is ours.
    assert _control(emulator, "GET", "/health").json() == {
        "ok": True, "service": "email-partners-emulator", "pid": os.getpid(), "db": os.path.realpath(emulator.db_path)}
    assert _log(emulator) == []
    r = requests.get(f"{emulator.url}/cakemail/accounts", timeout=5)
    assert r.status_code == 401
    assert [(e["method"], e["path"], e["status"]) for e in _log(emulator)] == [
        ("GET", "/cakemail/accounts", 401)]


def test_partner_upsert(emulator):
    first = add_partner(emulator)
    assert isinstance(first, int)
    assert add_partner(emulator, PARTNER, "changed-pw") == first
    r = requests.post(f"{emulator.url}/cakemail/token", timeout=5,
                      data={"username": PARTNER, "password": PASSWORD})
    assert r.status_code == 401
    assert get_token(emulator, PARTNER, "changed-pw")["accounts"] == [first]
    for bad in ({"username": PARTNER}, {"username": "not-an-email", "password": "x"},
                {"username": PARTNER, "password": "x", "token_ttl_seconds": 0}):
        r = _control(emulator, "POST", "/cakemail/partners", json=bad)
        assert r.status_code == 400 and r.json()["error"]


def test_fault_validation(emulator):
    for spec in ({"path": "^/cakemail"}, {"path": "([", "status": 500},
                 {"status": 500}, {"path": "x", "status": 99},
                 {"path": "x", "status": 500, "method": "FETCH"},
                 {"path": "x", "drop": "yes"}, {"path": "x", "latency_ms": -5}):
        r = _control(emulator, "POST", "/faults", json=spec)
        assert r.status_code == 400, spec
        assert r.json()["error"]


def test_status_fault_with_retry_after(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts$", status=429, retry_after=2)
    r = cm.get("/accounts")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"
    detail = r.json()["detail"]
    assert isinstance(detail, list) and {"loc", "msg", "type"} <= set(detail[0])
    assert cm.get("/accounts").status_code == 200  # count defaults to 1
    assert _control(emulator, "GET", "/faults").json() == {"faults": []}
    log = _log(emulator, vendor="cakemail")
    assert [(e["status"], e["fault"]) for e in log[-2:]] == [(429, True), (200, False)]


def test_fault_count_method_and_listing(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts", method="post", status=503, count=2)
    assert cm.get("/accounts").status_code == 200  # GET does not match a POST fault
    pending = _control(emulator, "GET", "/faults").json()["faults"]
    assert len(pending) == 1 and pending[0]["remaining"] == 2 and pending[0]["method"] == "POST"
    assert cm.post("/accounts", json={"name": "a"}).status_code == 503
    r = cm.post("/accounts", json={"name": "a"})
    assert r.status_code == 503 and "Retry-After" not in r.headers
    assert cm.post("/accounts", json={"name": "a"}).status_code == 201

    _fault(emulator, path="accounts", status=500, count=5)
    assert cm.get("/accounts").status_code == 500
    assert _control(emulator, "DELETE", "/faults").status_code == 200
    assert cm.get("/accounts").status_code == 200


def test_share_fault_hits_that_fraction_and_lets_the_rest_through(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts$", method="GET", status=429, retry_after=0.5, share=0.25, count=100)
    _fault(emulator, path="^/cakemail/accounts$", method="GET", latency_ms=1, count=100)  # the others reach it
    before = _log(emulator, vendor="cakemail")
    statuses = [cm.get("/accounts").status_code for _ in range(8)]
    assert statuses == [200, 200, 200, 429, 200, 200, 200, 429]
    log = _log(emulator, vendor="cakemail")[len(before):]
    assert [e["fault"] for e in log] == [True] * 8  # the latency fault served the other six
    pending = {f["status"]: f for f in _control(emulator, "GET", "/faults").json()["faults"]}
    assert pending[429]["remaining"] == 98 and pending[429]["share"] == 0.25
    for bad in (0, 1.5, "half"):
        assert _control(emulator, "POST", "/faults", json={"path": "x", "status": 429, "share": bad}).status_code == 400
    _control(emulator, "DELETE", "/faults")


def test_control_api_is_never_faulted(emulator, cm):
    _fault(emulator, path=".", status=500, count=100)
    assert _control(emulator, "GET", "/health").status_code == 200
    assert _control(emulator, "POST", "/reset").json() == {"reset": True}


def test_latency_fault(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts", latency_ms=300)
    started = time.monotonic()
    assert cm.get("/accounts").status_code == 200
    assert time.monotonic() - started >= 0.3
    _fault(emulator, path="^/cakemail/accounts", latency_ms=100, status=502)
    started = time.monotonic()
    assert cm.get("/accounts").status_code == 502
    assert time.monotonic() - started >= 0.1
    assert [(e["status"], e["fault"]) for e in _log(emulator)[-2:]] == [(200, True),
                                                                        (502, True)]


def test_drop_fault(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts$", method="POST", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{cm.base}/accounts", json={"name": "x"},
                      headers=cm.session.headers, timeout=5)
    assert cm.get("/accounts").json()["data"] == []  # the dropped create never happened
    assert cm.post("/accounts", json={"name": "x"}).status_code == 201  # server still alive
    log = _log(emulator)
    assert [(e["method"], e["status"], e["fault"]) for e in log[-3:]] == [
        ("POST", 0, True), ("GET", 200, False), ("POST", 201, False)]


def test_drop_after_processing_applies_the_request_but_loses_the_answer(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts$", method="POST", drop=True, after_processing=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{cm.base}/accounts", json={"name": "applied"},
                      headers=cm.session.headers, timeout=5)
    assert [a["name"] for a in cm.get("/accounts").json()["data"]] == ["applied"]
    log = _log(emulator)
    assert [(e["method"], e["status"], e["fault"]) for e in log[-2:]] == [("POST", 201, True), ("GET", 200, False)]


def test_status_after_processing_replaces_the_real_answer(emulator, cm):
    _fault(emulator, path="^/cakemail/accounts$", method="POST", status=504, after_processing=True)
    assert cm.post("/accounts", json={"name": "timed-out"}).status_code == 504
    assert [a["name"] for a in cm.get("/accounts").json()["data"]] == ["timed-out"]


def test_after_processing_needs_drop_or_status(emulator):
    response = requests.post(f"{emulator.url}/_control/faults",
                             json={"path": "x", "latency_ms": 5, "after_processing": True}, timeout=5)
    assert response.status_code == 400 and "after_processing" in response.json()["error"]


def test_request_log_masks_secrets(emulator, db_path, partner):
    token = partner[1]
    cm = Cakemail(emulator, token["access_token"])
    cm.post("/accounts", json={"name": "Shop", "account_owner": {
        "email": "o@shop.example", "first_name": "A", "last_name": "B",
        "password": "owner-password-123"}})
    cm.get("/accounts", params={"page": 1, "filter": "name==Shop"})
    requests.post(f"{emulator.url}/cakemail/token", timeout=5,
                  data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})

    log = _log(emulator, vendor="cakemail")
    assert [e["id"] for e in log] == sorted(e["id"] for e in log)
    assert [(e["method"], e["path"]) for e in log] == [
        ("POST", "/cakemail/token"), ("POST", "/cakemail/accounts"),
        ("GET", "/cakemail/accounts"), ("POST", "/cakemail/token")]
    assert log[0]["body"] == {"grant_type": "password", "username": PARTNER, "password": "***"}
    assert log[1]["body"]["account_owner"]["password"] == "***"
    assert log[1]["body"]["name"] == "Shop" and log[1]["status"] == 201
    assert log[2]["query"] == {"page": "1", "filter": "name==Shop"} and log[2]["body"] is None
    assert log[3]["body"]["refresh_token"] == "***"
    assert all(set(e) >= {"id", "time", "vendor", "method", "path", "query", "body", "status",
                          "fault"} for e in log)
    assert _log(emulator, since_id=log[1]["id"]) == log[2:]
    assert _log(emulator, vendor="ciirus") == []

    emulator.stop()  # checkpoint the WAL so every byte is in the files we scan
    raw = b"".join(Path(p).read_bytes() for p in glob.glob(db_path + "*"))
    for secret in (PASSWORD, "owner-password-123", token["access_token"],
                   token["refresh_token"], "Bearer", "Authorization"):
        assert secret.encode() not in raw, secret
    emulator.start()
    assert _control(emulator, "DELETE", "/requests").status_code == 200
    assert _log(emulator) == []


def test_reset_wipes_everything(emulator, cm):
    cm.create("a")
    _fault(emulator, path="^/nothing", status=500)
    assert _control(emulator, "POST", "/reset").json() == {"reset": True}
    assert _log(emulator) == []
    assert _control(emulator, "GET", "/faults").json()["faults"] == []
    assert cm.get("/accounts").status_code == 401  # tokens gone
    r = requests.post(f"{emulator.url}/cakemail/token", timeout=5,
                      data={"username": PARTNER, "password": PASSWORD})
    assert r.status_code == 401  # partner gone
    add_partner(emulator)
    fresh = Cakemail(emulator, get_token(emulator)["access_token"])
    assert fresh.get("/accounts").json()["data"] == []


def test_restart_keeps_everything(db_path):
    with EmulatorServer(db_path) as first:
        add_partner(first)
        token = get_token(first)
        cm = Cakemail(first, token["access_token"])
        acc = cm.create("persisted", usage_limits={"per_month": 77})
        cm.post(f"/accounts/{acc['id']}/suspend")
        _fault(first, path="^/cakemail/accounts$", status=418)
        before = _log(first)
    with EmulatorServer(db_path) as second:
        cm = Cakemail(second, token["access_token"])  # same token still valid
        assert cm.get("/accounts").status_code == 418  # the pending fault survived
        data = cm.get(f"/accounts/{acc['id']}").json()["data"]
        assert data["status"] == "suspended" and data["usage_limits"]["per_month"] == 77
        assert _log(second)[: len(before)] == before
        r = requests.post(f"{second.url}/cakemail/token", timeout=5,
                          data={"grant_type": "refresh_token",
                                "refresh_token": token["refresh_token"]})
        assert r.status_code == 200


def test_cli_seed_demo_and_port_file(tmp_path):
    port_file = tmp_path / "port"
    cmd = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", "0",
           "--db", str(tmp_path / "cli.sqlite"), "--port-file", str(port_file), "--seed-demo"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline().strip()
        port = int(port_file.read_text())
        url = f"http://127.0.0.1:{port}"
        assert line == f"partner emulator listening on {url} (db: {tmp_path / 'cli.sqlite'})"
        r = requests.post(f"{url}/cakemail/token", timeout=5, data={
            "username": "demo-partner@example.com", "password": "demo-password"})
        assert r.status_code == 200 and r.json()["accounts"]
        token = r.json()["access_token"]
        named = requests.get(f"{url}/cakemail/accounts", params={"filter": "name==Florist"}, timeout=5,
                             headers={"Authorization": f"Bearer {token}"}).json()["data"]
        assert [a["name"] for a in named] == ["Florist"]  # made before the port is published, and once only
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
