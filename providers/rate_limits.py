"""Vendors' own rate limits, paced for the HTTP core: requests held before a vendor's limit instead of
sent into it, and, when it refuses anyway, held until the reset it announced.

A vendor that announces its limit on its answers (SendGrid: `X-RateLimit-Limit`, `-Remaining` and
`-Reset` on every v3 answer, per user and endpoint per refresh period, and a 429 without Retry-After)
is described by its client (`RateLimitHeaders`: the header names, the refresh period, which endpoint
a request counts against); the core never names a header. Before each request the core asks the
identity's `Pacer` for a turn, and tells it the answer. Per endpoint the pacer keeps what the vendor
last announced and the requests in flight, and lets a request leave only while the vendor has room:
- a known window: as many in flight as the vendor said remain; at `Remaining: 0`, none until `Reset`;
- an unknown window (the first request, or the first after a reset): one at a time, until an answer says;
- an endpoint whose answers carry no such headers: not paced.
The pacer's state lives in a small file per vendor identity under a lock, so every thread of every
process on this machine (a fleet's provider processes, shards side by side) keeps to one view of the
vendor's window. Shards on other machines each learn the window from the answers; should one of
them spend it first, the others meet a 429 and wait for the reset it names, which the HTTP core
counts as a wait the vendor asked for, not a failure.

A wait longer than the vendor's refresh period (plus the second its whole-second Reset rounds up)
is not waited: the core fails the request at once, saying how long the vendor asked for.
Also here: how long requests were held (`WaitTally`: overlapping waits count once) and, for runs
whose requests are made by other processes (the engine's providers), a journal of the holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Mapping, Optional, Protocol

RESET_ROUNDING = 1.0  # a Reset announced in whole seconds may end up to a second after the period
POLL_SECONDS = 0.02  # how often a request waiting for others in flight (or a probe) looks again
STALE_STATE_SECONDS = 86400.0  # state files untouched this long are removed (their windows are long over)
DIRECTORY_VARIABLE = "EMAIL_PARTNERS_RATE_LIMIT_DIR"
JOURNAL_VARIABLE = "EMAIL_PARTNERS_RATE_LIMIT_JOURNAL"


@dataclass(frozen=True)
class RateLimitHeaders:
    """How a vendor announces its limit on its answers (the vendor's client says; the core never does)."""

    limit: str
    remaining: str
    reset: str  # a Unix time (seconds) at which the period resets
    period: float  # the vendor's refresh period, in seconds: the longest wait it can rightly ask for
    endpoint: Callable[[str, str], str] = lambda method, path: f"{method} {path}"  # what the vendor counts per

    @property
    def max_wait(self) -> float:
        return self.period + RESET_ROUNDING

    def announced(self, headers: Mapping[str, str]) -> Optional[tuple[int, int, float]]:
        """(limit, remaining, reset) from an answer's headers, or None when it carries none (or nonsense)."""
        try:
            return int(headers[self.limit]), int(headers[self.remaining]), float(headers[self.reset])
        except (KeyError, TypeError, ValueError):
            return None


class WaitTooLong(Exception):
    """The vendor's window reopens later than the caller may wait."""

    def __init__(self, seconds: float):
        super().__init__(f"{seconds:.0f}s")
        self.seconds = seconds


# -- where the pacing state is kept ---------------------------------------------------------------
class State(Protocol):
    def edit(self) -> ContextManager[dict[str, Any]]:
        """The state, locked for this thread and every other process, saved when the block ends."""


class MemoryState:
    """This process only (tests, or where no file can be written)."""

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield self._state


class FileState:
    """A JSON file under an exclusive lock (flock): shared by the threads and processes of this machine."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()  # the threads of this process queue here, not on the file

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        with self._lock, open(self.path, "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
            file.seek(0)
            try:
                state = json.loads(file.read() or "{}")
            except ValueError:  # a writer killed mid-write: start from nothing known
                state = {}
            yield state
            file.seek(0)
            file.truncate()
            file.write(json.dumps(state, separators=(",", ":")))


@dataclass(frozen=True)
class Ticket:
    endpoint: str
    token: str


class Pacer:
    """One vendor identity's requests, held to the windows its answers announce (see the module's docstring)."""

    def __init__(self, headers: RateLimitHeaders, state: Optional[State] = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.headers = headers
        self._state: State = state if state is not None else MemoryState()
        self._clock, self._sleep = clock, sleep

    def turn(self, method: str, path: str, max_wait: float, expires_in: float,
             held: Callable[[], ContextManager[Any]] = contextlib.nullcontext) -> Ticket:
        """Wait until the vendor has room for this request (`held` wraps each wait for its reset), then
        count it in flight until its answer, for at most `expires_in` seconds, and only while its
        process runs (a process killed mid-request never answers).
        WaitTooLong when the window reopens more than `max_wait` seconds from now."""
        ticket = Ticket(self.headers.endpoint(method, path), uuid.uuid4().hex)
        while True:
            now = self._clock()
            with self._state.edit() as state:
                window = state.setdefault(ticket.endpoint, {})
                flight = _in_flight(window.get("flight", {}), now)
                wait = _wait(window, len(flight), now)
                if wait is None:
                    flight[ticket.token] = (now + expires_in, os.getpid())
                window["flight"] = flight
            if wait is None:
                return ticket
            if wait > max_wait:
                raise WaitTooLong(wait)
            if wait > POLL_SECONDS:  # the vendor's window is spent: this is its reset we wait for
                with held():
                    self._sleep(wait)
            else:
                self._sleep(wait)

    def answered(self, ticket: Ticket, status: Optional[int], headers: Optional[Mapping[str, str]]) -> None:
        """The request is no longer in flight; its answer (None: none came) says what the window is now."""
        with self._state.edit() as state:
            window = state.setdefault(ticket.endpoint, {})
            window.get("flight", {}).pop(ticket.token, None)
            if headers is None:
                return
            announced = self.headers.announced(headers)
            if announced is None:
                window.update(free=True, reset=None, remaining=None)
                return
            limit, remaining, reset = announced
            known = window.get("reset")
            if known is not None and reset < known:
                return  # a late answer from a window already over
            if known == reset and window.get("remaining") is not None:
                remaining = min(remaining, window["remaining"])  # answers may arrive out of order
            window.update(free=False, limit=limit, reset=reset, remaining=0 if status == 429 else remaining)

    def asked_wait(self, headers: Mapping[str, str]) -> Optional[float]:
        """A refusal without Retry-After: the seconds until the Reset it announces (None: it announces none);
        a second at least, should this machine's clock already be past it (a clock ahead of the vendor's)."""
        announced = self.headers.announced(headers)
        return None if announced is None else max(RESET_ROUNDING, announced[2] - self._clock())


def _in_flight(recorded: dict[str, Any], now: float) -> dict[str, tuple[float, int]]:
    """The requests still in flight: not past their time, their process running."""
    flight = {}
    for token, entry in recorded.items():
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[0] > now and _alive(int(entry[1])):
            flight[token] = (float(entry[0]), int(entry[1]))
    return flight


def _alive(pid: int) -> bool:
    """Whether the process that sent a request still runs (one killed mid-request never answers)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's: alive
    return True


def _wait(window: dict[str, Any], in_flight: int, now: float) -> Optional[float]:
    """None: send now; else the seconds to wait before looking again."""
    if window.get("free"):
        return None
    reset, remaining = window.get("reset"), window.get("remaining")
    if reset is None or remaining is None or now >= reset:  # nothing known of this window: one probe at a time
        return None if in_flight == 0 else POLL_SECONDS
    if remaining <= 0:
        return reset - now
    return None if in_flight < remaining else POLL_SECONDS


# -- one pacer per vendor identity and process, its state shared by the machine ------------------------
_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()
_pruned: set[Path] = set()


def shared_pacer(vendor: str, base_url: str, identity: str, headers: RateLimitHeaders) -> Pacer:
    """The pacer of this vendor identity (`identity`: a fingerprint the client makes, never a credential)."""
    key = hashlib.sha256(f"{vendor}\0{base_url}\0{identity}".encode()).hexdigest()[:32]
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = Pacer(headers, _state_file(vendor, key))
        return _pacers[key]


def state_directory() -> Path:
    return Path(os.environ.get(DIRECTORY_VARIABLE) or
                Path(tempfile.gettempdir()) / f"email-partners-rate-limits-{os.getuid()}")


def _state_file(vendor: str, key: str) -> State:
    directory = state_directory()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory not in _pruned:
            _pruned.add(directory)
            for old in directory.glob("*.json"):
                if time.time() - old.stat().st_mtime > STALE_STATE_SECONDS:
                    old.unlink(missing_ok=True)
        path = directory / f"{vendor}-{key}.json"
        path.touch(mode=0o600, exist_ok=True)
    except OSError:
        return MemoryState()  # nowhere to share it: this process still paces its own threads
    return FileState(path)


# -- how long requests were held -------------------------------------------------------------------
class WaitTally:
    """Seconds during which at least one request was held for a vendor's rate limit (overlaps count once)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting, self._since, self._total = 0, 0.0, 0.0

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            if self._waiting == 0:
                self._since = self._clock()
            self._waiting += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1
                if self._waiting == 0:
                    self._total += self._clock() - self._since

    @property
    def seconds(self) -> float:
        with self._lock:
            return self._total + (self._clock() - self._since if self._waiting else 0.0)


def journal(started: float, ended: float) -> None:
    """Note a hold (Unix times) in the run's journal, when the run that started this process keeps one."""
    path = os.environ.get(JOURNAL_VARIABLE)
    if path and ended > started:
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"{started:.3f} {ended:.3f}\n")  # one short append: whole lines, whatever the writers


def journal_seconds(path: Path) -> float:
    """The seconds a journal's holds cover (overlapping holds, of any process, count once)."""
    try:
        spans = sorted(tuple(map(float, line.split())) for line in path.read_text().splitlines() if line.strip())
    except (OSError, ValueError):
        return 0.0
    total, end = 0.0, float("-inf")
    for start, stop in spans:
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total
