"""RequestBudget, the HTTP core's bound on a bulk job's requests: concurrency, rate, Retry-After."""

from __future__ import annotations

import threading
import time

import pytest

from providers.http import ApiError, HttpClient, RequestBudget, RetryPolicy


def test_concurrency_is_never_exceeded():
    budget = RequestBudget(concurrency=2, per_second=1000)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def request():
        with budget.slot("v", "GET", "/x", max_wait=60):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.02)
            with lock:
                in_flight[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2 and budget.started == 8


def test_starts_are_spaced_by_the_rate():
    budget = RequestBudget(concurrency=10, per_second=20)
    starts = []
    for _ in range(5):
        with budget.slot("v", "GET", "/x", max_wait=60):
            starts.append(time.monotonic())
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.05 - 0.005 for gap in gaps), gaps


def test_a_retry_after_holds_every_request_of_the_budget():
    budget = RequestBudget(concurrency=4, per_second=1000)
    budget.hold(0.3)
    held_at = time.monotonic()
    with budget.slot("v", "GET", "/other", max_wait=60):
        assert time.monotonic() - held_at >= 0.3 - 0.005


def test_a_hold_longer_than_the_caller_waits_fails_at_once():
    budget = RequestBudget(concurrency=1, per_second=10)
    budget.hold(120)
    with pytest.raises(ApiError) as raised:
        with budget.slot("cakemail", "GET", "/accounts", max_wait=60):
            pass
    assert raised.value.status == 429 and "asked to wait" in str(raised.value)


def test_the_http_core_holds_its_budget_on_a_429_with_retry_after(cakemail_partner, control):
    """One client's 429 with Retry-After delays another client's next request under the same budget."""
    budget = RequestBudget(concurrency=4, per_second=100)
    # The first gives up at once (no wait of its own), so only the budget can hold the second.
    first = HttpClient("cakemail", cakemail_partner["api_url"], retry=RetryPolicy(max_attempts=1, max_rate_limit_waits=0),
                       budget=budget)
    second = HttpClient("cakemail", cakemail_partner["api_url"], retry=RetryPolicy(max_attempts=1), budget=budget)
    control.fault("^/cakemail/accounts/self$", method="GET", status=429, retry_after=0.5, count=1)
    with pytest.raises(ApiError):
        first.request("GET", "/accounts/self", authenticated=False)
    refused_at = time.monotonic()
    with pytest.raises(ApiError):  # unauthenticated: 401, but only after the hold
        second.request("GET", "/accounts/self", authenticated=False)
    assert time.monotonic() - refused_at >= 0.5 - 0.01
    assert budget.started == 2
