"""The HTTP core under a vendor's own rate limit (providers/rate_limits.py), with an injected clock and
sleep and a scripted vendor behind a transport adapter: SendGrid's documented behaviour, X-RateLimit-*
on every answer and a 429 without Retry-After. A 429 waits until the Reset it names; at Remaining 0
no request leaves before the Reset, whatever thread or process (two pacers on one state file) sends
it; the longest wait follows the vendor's period; vendor-asked waits are budgeted apart from failures.
The same over real HTTP against the emulator: tests/clients/test_sendgrid_client.py."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
from requests.adapters import BaseAdapter

from providers.http import ApiError, HttpClient, RequestBudget, RetryPolicy
from providers.rate_limits import (FileState, Pacer, RateLimitHeaders, WaitTally, journal, journal_seconds,
                                   JOURNAL_VARIABLE)
from providers.sendgrid.client import RATE_LIMIT, rate_limit_endpoint

START = 1_800_000_000.0  # a Unix time


class FakeClock:
    """Wall time that moves only when a thread sleeps: to the time that thread last read plus what it
    sleeps, unless another has moved it further (threads that wait for one moment wake at it together)."""

    def __init__(self, now: float = START):
        self.now = now
        self._lock = threading.Lock()
        self._seen = threading.local()
        self.sleeps: list[float] = []

    def time(self) -> float:
        with self._lock:
            self._seen.now = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now = max(self.now, getattr(self._seen, "now", self.now) + seconds)
            self._seen.now = self.now
        time.sleep(0.0005)  # let the other threads run


@dataclass
class FakeVendor(BaseAdapter):
    """SendGrid's documented limit per endpoint: `limit` per `period`, fixed windows ending on whole seconds."""

    clock: FakeClock
    limit: int
    period: float
    log: list[tuple[float, str, int, int, int]] = field(default_factory=list)  # (sent, path, status, remaining, reset)
    windows: dict[str, list] = field(default_factory=dict)  # path -> [ends, used]
    script: list[int] = field(default_factory=list)  # statuses to answer first, whatever the window (e.g. 503)

    def __post_init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def exhaust(self, path: str, reset_in: float) -> float:
        """Someone else spent this endpoint's window: it reopens `reset_in` seconds from now."""
        ends = math.ceil(self.clock.time() + reset_in)
        self.windows[path] = [ends, self.limit]
        return ends

    def send(self, request, **kwargs):
        path = request.path_url.split("?")[0]
        with self._lock:
            now = self.clock.time()
            ends, used = self.windows.get(path, [0, 0])
            if now >= ends:
                ends, used = math.ceil(now + self.period), 0
            status = 200 if used < self.limit else 429
            used += status == 200
            self.windows[path] = [ends, used]
            if self.script:
                status = self.script.pop(0)
            self.log.append((now, path, status, self.limit - used, ends))
        response = requests.Response()
        response.status_code, response.request, response.url = status, request, request.url
        response.headers["X-RateLimit-Limit"] = str(self.limit)
        response.headers["X-RateLimit-Remaining"] = str(self.limit - used)
        response.headers["X-RateLimit-Reset"] = str(ends)
        body = [] if status == 200 else {"errors": [{"field": None, "message": "too many requests"}]}
        response._content = json.dumps(body).encode()
        return response

    def close(self):
        pass


def client(vendor: FakeVendor, pacer: Pacer, retry: RetryPolicy = RetryPolicy(), budget=None) -> HttpClient:
    http = HttpClient("sendgrid", "https://api.sendgrid.test", retry=retry, sleep=vendor.clock.sleep, pacer=pacer,
                      budget=budget)
    http.session.mount("https://", vendor)
    return http


def pacer(clock: FakeClock, period: float = 60.0, state=None) -> Pacer:
    headers = RateLimitHeaders(RATE_LIMIT.limit, RATE_LIMIT.remaining, RATE_LIMIT.reset, period, rate_limit_endpoint)
    return Pacer(headers, state, clock=clock.time, sleep=clock.sleep)


def test_a_429_without_retry_after_waits_until_the_reset_it_names():
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=5, period=60)
    reset = vendor.exhaust("/v3/subusers", reset_in=40)
    http = client(vendor, pacer(clock), RetryPolicy(max_attempts=1))  # one failure allowed: none is spent
    assert http.request("GET", "/v3/subusers") == []
    assert [(status, sent >= reset) for sent, _, status, *_ in vendor.log] == [(429, False), (200, True)]
    assert sum(clock.sleeps) >= reset - START and clock.now - reset < 1  # waited until the Reset, not longer


def test_at_remaining_zero_no_request_leaves_before_the_reset_across_threads_and_processes(tmp_path):
    """Eight threads in two 'processes' (two pacers on one state file, as two provider processes have),
    30 reads of one endpoint limited to 4 per 10 s: never a 429, never more than 4 in a window."""
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=4, period=10)
    state_file = tmp_path / "sendgrid-identity.json"
    processes = [pacer(clock, state=FileState(state_file)) for _ in range(2)]
    clients = [client(vendor, processes[i % 2]) for i in range(8)]
    errors: list[Exception] = []

    def reader(http: HttpClient, count: int) -> None:
        try:
            for _ in range(count):
                http.request("GET", "/v3/subusers/anyone/credits")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(c, 4 if i < 6 else 3)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(vendor.log) == 30
    assert [entry[2] for entry in vendor.log].count(429) == 0
    per_window: dict[int, int] = {}
    for *_, reset in vendor.log:
        per_window[reset] = per_window.get(reset, 0) + 1
    assert max(per_window.values()) <= 4 and len(per_window) >= 8  # 30 reads need at least 8 windows


def test_a_request_of_a_killed_process_stops_counting_in_flight(tmp_path):
    """A provider process killed mid-request never answers: its reservation must not hold the others."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state = FileState(tmp_path / "state.json")
    with state.edit() as recorded:  # the dead process's probe of an unknown window, still "in flight"
        recorded["GET /v3/subusers"] = {"flight": {"dead": [START + 5, gone.pid]}}
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=5, period=60)
    assert client(vendor, pacer(clock, state=state)).request("GET", "/v3/subusers") == []
    assert clock.sleeps == []  # not one poll: the dead one's request was not waited for


def test_a_known_empty_window_holds_requests_until_its_reset():
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=2, period=30)
    http = client(vendor, pacer(clock))
    http.request("GET", "/v3/subusers")
    http.request("GET", "/v3/subusers")  # Remaining: 0, announced with its Reset (START + 30)
    http.request("GET", "/v3/subusers")
    assert [(status, remaining) for _, _, status, remaining, _ in vendor.log] == [(200, 1), (200, 0), (200, 1)]
    assert vendor.log[2][0] >= START + 30 and sum(clock.sleeps) == pytest.approx(30)


def test_the_longest_wait_follows_the_vendors_period():
    # A vendor whose period is two minutes may ask for 100 s: waited.
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=5, period=120)
    reset = vendor.exhaust("/v3/subusers", reset_in=100)
    assert client(vendor, pacer(clock, period=120)).request("GET", "/v3/subusers") == []
    assert clock.now >= reset
    # With SendGrid's minute, 100 s is not a wait it can rightly ask for: failed at once, unslept.
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=5, period=60)
    vendor.exhaust("/v3/subusers", reset_in=100)
    http = client(vendor, pacer(clock, period=60))
    with pytest.raises(ApiError) as raised:
        http.request("GET", "/v3/subusers")
    assert raised.value.status == 429 and "asked to retry after 100s" in str(raised.value)
    assert clock.sleeps == [] and len(vendor.log) == 1
    # The pacer knows the window now: the next request fails before it is sent.
    with pytest.raises(ApiError, match="window reopens in 100s, more than 61s"):
        http.request("GET", "/v3/subusers")
    assert len(vendor.log) == 1


def test_vendor_asked_waits_are_budgeted_apart_from_failures():
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=10, period=5, script=[429, 503, 429])
    http = client(vendor, pacer(clock), RetryPolicy(max_attempts=2, max_rate_limit_waits=2))
    assert http.request("GET", "/v3/subusers") == []  # two waits and one failure: within both budgets
    assert [entry[2] for entry in vendor.log] == [429, 503, 429, 200]
    # More refusals than the wait budget allows: a failure that says why.
    clock = FakeClock()
    vendor = FakeVendor(clock, limit=5, period=5, script=[429, 429, 429])
    with pytest.raises(ApiError, match="too many requests"):
        client(vendor, pacer(clock), RetryPolicy(max_attempts=6, max_rate_limit_waits=2)).request("GET", "/v3/subusers")
    assert len(vendor.log) == 3


def test_the_budget_tallies_how_long_its_requests_were_held_overlaps_once():
    clock = FakeClock()
    tally = WaitTally(clock.time)
    with tally.waiting():
        clock.sleep(3)
        with tally.waiting():
            clock.sleep(2)
    clock.sleep(10)
    with tally.waiting():
        clock.sleep(1)
    assert tally.seconds == pytest.approx(6)
    vendor = FakeVendor(clock, limit=5, period=60)
    vendor.exhaust("/v3/subusers", reset_in=20)
    budget = RequestBudget(4, 100, clock=clock.time)
    client(vendor, pacer(clock), budget=budget).request("GET", "/v3/subusers")
    assert 19 <= budget.rate_waits.seconds <= 21


def test_the_journal_notes_holds_for_the_run_that_keeps_one(tmp_path, monkeypatch):
    path = tmp_path / "waits"
    monkeypatch.setenv(JOURNAL_VARIABLE, str(path))
    journal(100.0, 110.0)
    journal(105.0, 112.0)  # another process's hold, overlapping
    journal(120.0, 121.5)
    assert journal_seconds(path) == pytest.approx(13.5)
    assert journal_seconds(tmp_path / "none") == 0.0


def test_sendgrid_counts_a_route_whatever_the_name_in_it():
    assert rate_limit_endpoint("GET", "/v3/subusers/acme/credits") == rate_limit_endpoint("GET", "/v3/subusers/b/credits")
    assert rate_limit_endpoint("GET", "/v3/subusers") != rate_limit_endpoint("GET", "/v3/subusers/acme/credits")
    assert rate_limit_endpoint("PUT", "/v3/subusers/a/credits") != rate_limit_endpoint("GET", "/v3/subusers/a/credits")
    assert rate_limit_endpoint("POST", "/v3/whitelabel/domains/7/validate") == "POST /v3/whitelabel/domains/{}/validate"
