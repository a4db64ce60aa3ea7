"""Fixtures shared by the client and end-to-end tests: one emulator per test process."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import requests

from emulator import EmulatorServer
from providers.cakemail import CakemailClient

from .vendors import vendor

_test_spans: list[tuple[str, float, float]] = []  # (test, started, ended), seconds since boot


@pytest.fixture(autouse=True)
def _test_span(request, no_process_left_behind):
    """Which test ran when: a process left behind is named with the test that started it."""
    from .processes import uptime

    started = uptime()
    yield
    _test_spans.append((request.node.nodeid, started, uptime()))


def _started_by(pid: int) -> str:
    from .processes import started_at

    at = started_at(pid)
    return next((test for test, start, end in _test_spans if start - 0.5 <= at <= end + 0.5), "no test (between tests)")


@pytest.fixture(scope="session", autouse=True)
def wide_tables():
    """The tool's tables, as the tests read them, wide enough that no cell wraps: the tests find values
    by substring. (How tables wrap at a log's width is tests/unit/test_tables.py's subject; pytest's
    workers otherwise pass on COLUMNS=80, which the tool widens to 120.)"""
    os.environ["COLUMNS"] = "250"


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind():
    """Every process the tests start (the engine, its plugins, emulators, servers) carries a marker in
    its environment; at the end of the session none may still run. Those found are named, ended, and
    the session fails. (Per pytest process: each xdist worker checks its own.)"""
    from .processes import MARKER, command_line, marked

    value = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    os.environ[MARKER] = value
    yield
    deadline = time.monotonic() + 20  # a run that just ended may still be tearing its plugins down
    while (left := marked(value)) and time.monotonic() < deadline:
        time.sleep(0.25)
    if left:
        described = [f"pid {pid}, started during {_started_by(pid)}: {command_line(pid)[:300]}" for pid in left]
        for pid in left:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        pytest.fail("processes started by the tests were still running at the end of the session (now killed):\n  "
                    + "\n  ".join(described), pytrace=False)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    with EmulatorServer(str(tmp_path_factory.mktemp("emulator") / "emulator.db")) as server:
        yield server


class Control:
    """The emulator's control API, as tests use it."""

    def __init__(self, url: str):
        self.url = url

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.url + "/_control" + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def fault(self, path: str, **spec) -> None:
        self.post("/faults", {"path": path, **spec})

    def rate_limit(self, vendor: str, user: str | None, limit: int | None, period_seconds: float = 60.0) -> None:
        """A vendor's documented rate limit, for one user (None: every user); `limit` None turns it off."""
        body = {"vendor": vendor, "limit": limit, "period_seconds": period_seconds, **({"user": user} if user else {})}
        requests.put(self.url + "/_control/rate_limits", json=body, timeout=10).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(self.url + "/_control/faults", timeout=10).raise_for_status()

    def clear_dns(self) -> None:
        """The zone is shared by every test of this process; records a test published must not leak."""
        records = requests.get(self.url + "/_control/dns/records", timeout=10).json()["records"]
        for name in {r["name"] for r in records}:
            requests.delete(self.url + "/_control/dns/records", json={"name": name}, timeout=10).raise_for_status()

    def last_request_id(self) -> int:
        log = self.requests()
        return log[-1]["id"] if log else 0

    def publish(self, record: dict) -> None:
        """Put a record in the emulator's DNS zone, as a customer's DNS provider would."""
        response = requests.put(self.url + "/_control/dns/records",
                                json={k: record[k] for k in ("name", "type", "value")}, timeout=10)
        response.raise_for_status()

    def requests(self, since_id: int = 0, vendor: str | None = None) -> list[dict]:
        params = {"since_id": since_id, **({"vendor": vendor} if vendor else {})}
        response = requests.get(self.url + "/_control/requests", params=params, timeout=10)
        response.raise_for_status()
        return response.json()["requests"]


@pytest.fixture
def control(emulator) -> Control:
    control = Control(emulator.url)
    yield control
    control.clear_faults()
    control.clear_dns()


@pytest.fixture
def cakemail_partner(control):
    """Fresh partner credentials per test, so tests never see each other's accounts."""
    return vendor("cakemail").partner(control)


@pytest.fixture
def cakemail_api(cakemail_partner) -> CakemailClient:
    """The tests' own view of the remote side, through the real API."""
    return vendor("cakemail").client(cakemail_partner)


@pytest.fixture
def signupto_partner(control) -> dict:
    """A fresh Sign-Up.to partner (id, 40-character key, its own credit-holding account)."""
    return vendor("signupto").partner(control)


@pytest.fixture
def signupto_api(signupto_partner):
    return vendor("signupto").client(signupto_partner)


@pytest.fixture
def ciirus_user(control) -> dict:
    """Fresh Ciirus API-user credentials (one sub-account per user)."""
    return vendor("ciirus").partner(control)


@pytest.fixture
def ciirus_api(ciirus_user):
    return vendor("ciirus").client(ciirus_user)
