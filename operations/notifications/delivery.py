"""Sending a message to a sink: retried with backoff, and bounded in time whatever the sink does.

An attempt that fails in a way a later one may not (no connection, no answer in time, 5xx, 408, 429)
is retried after a backoff (doubled each time, with jitter; a 429's or 503's `Retry-After` when it is
longer), as long as the sink's attempts and deadline allow; each attempt's timeout is cut to what
is left of the deadline. Anything else (a 4xx: a wrong URL or a refused token; a redirect, which
is never followed: a signed body goes where it was sent or nowhere) fails at once. Errors are
described in this module's own words, never with the URL: a chat's webhook URL is its credential.
Sinks are sent to at once, each in a thread of its own, so the bound of a run is the longest one's.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import requests

from .config import Delivery

RETRIED_STATUSES = (408, 429, 500, 502, 503, 504)
USER_AGENT = "email-partners-notifications/1"


@dataclass
class Attempted:
    """One sink's delivery: delivered or not, after how many attempts, how long, and why not."""

    sink: str
    delivered: bool
    attempts: int
    seconds: float
    error: Optional[str] = None


@dataclass
class Outgoing:
    sink: str
    url: str
    body: bytes
    headers: Callable[[], dict[str, str]]  # called for each attempt: a signature is made afresh


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def _failure(exc: requests.RequestException, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed (refused, reset or unreachable)"
    return f"the request failed ({type(exc).__name__})"


def deliver(message: Outgoing, policy: Delivery, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep, session: Optional[requests.Session] = None) -> Attempted:
    """POST the message until it is accepted (2xx), it fails for good, or attempts or deadline run out."""
    if session is None:
        with requests.Session() as own:
            return deliver(message, policy, clock, sleep, own)
    started = clock()
    deadline = started + policy.deadline_seconds
    attempts, error = 0, "not attempted"
    while attempts < policy.attempts:
        left = deadline - clock()
        if left <= 0:
            error += f"; deadline of {policy.deadline_seconds:g} s reached"
            break
        attempts += 1
        timeout = min(policy.timeout_seconds, left)
        wait = policy.backoff_seconds * (2 ** (attempts - 1)) * (0.5 + random.random() / 2)
        try:
            response = session.post(message.url, data=message.body, timeout=timeout, allow_redirects=False,
                                    headers={"Content-Type": "application/json", "User-Agent": USER_AGENT,
                                             **message.headers()})
        except requests.RequestException as exc:
            error = _failure(exc, timeout)
        else:
            status = response.status_code
            response.close()
            if 200 <= status < 300:
                return Attempted(message.sink, True, attempts, round(clock() - started, 2))
            error = f"HTTP {status}"
            if status not in RETRIED_STATUSES:
                error += " (not retried: the sink refuses the request as sent)"
                break
            wait = max(wait, _retry_after(response))
        if attempts < policy.attempts:
            sleep(max(0.0, min(wait, deadline - clock())))  # the loop's head stops at the deadline
    return Attempted(message.sink, False, attempts, round(clock() - started, 2),
                     f"{error} after {attempts} attempt(s)")


def deliver_all(messages: Sequence[Outgoing], policy: Delivery, **options) -> list[Attempted]:
    """Every message at once (one thread per sink); results in the order given."""
    if not messages:
        return []
    with ThreadPoolExecutor(max_workers=len(messages), thread_name_prefix="notify") as pool:
        return list(pool.map(lambda m: deliver(m, policy, **options), messages))
