"""The one place for HTTP behaviour: sessions, timeouts, retries, and vendor errors.

Retries follow one rule: a request is sent again only when doing so cannot change the
outcome. Safe and idempotent requests (and those a client marks idempotent) are retried on
429, 5xx and connection failures. A non-idempotent write (POST) is retried blindly only when
the server provably did not act on it (429, or a connection that was never established);
after any other failure the write may or may not have landed, so the caller's `reconcile`
callback looks for it first. After a 5xx answer the server is done, and the request is re-sent
only if nothing is found. After a timeout or a lost answer the server may still be working on
it: the request is never re-sent; the look-up is repeated over a bounded window, then the call
fails with OutcomeUnknownError (the next run's create recognises the object). This is how a
create is never duplicated.

Waits the vendor asks for are not failures: a 429 with Retry-After, or, from a vendor that
announces its rate limit (its client hands the core a Pacer, providers/rate_limits.py), a 429 whose
headers name the reset, is waited out and retried without spending an attempt; such waits have a
budget of their own (`RetryPolicy.max_rate_limit_waits`), and one longer than the vendor's refresh
period (or, for a vendor that announces none, `max_retry_after`) fails at once. The pacer also holds
requests before the limit: at `Remaining: 0`, nothing to that endpoint leaves before the reset.

A RequestBudget, when a caller hands one to its clients (`fleet drift` reads a whole fleet at
once), bounds the requests to one vendor: at most N in flight and R started per second, and a
429's Retry-After holds every request under that budget, not only the one refused, so that no
request leaves earlier than the vendor allowed. It also tallies how long its requests were held
for the vendor's limits.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import threading
import time
from urllib.parse import urlsplit
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

import requests

from . import rate_limits
from .naming import settings_words
from .rate_limits import Pacer, WaitTally, WaitTooLong

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures of the exchange itself; anything else (a malformed URL, say) is a bug to raise at once.
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class ApiError(Exception):
    """Any failed vendor call; the message names vendor, method, path, status and the vendor's words."""

    def __init__(self, vendor: str, method: str, path: str, status: Optional[int], message: str, hint: str = ""):
        self.vendor, self.method, self.path, self.status, self.vendor_message = vendor, method, path, status, message
        self.hint = hint  # the setting to check, when the failure points at one (not the vendor's words)
        where = f"HTTP {status}" if status else "no response"
        super().__init__(f"{vendor} {method} {path} failed ({where}): {message}" + (f"; {hint}" if hint else ""))


class AmbiguousWriteError(ApiError):
    """A write failed in a way that leaves unknown whether the server applied it."""


class OutcomeUnknownError(AmbiguousWriteError):
    """A create may have landed but could not be found: it was deliberately not sent again."""


class Authenticator(Protocol):
    def headers(self, method: str, path: str, scope: Any = None) -> dict[str, str]:
        """Headers for one attempt (signatures and nonces are made fresh each time).

        `scope` is whatever the client passed as `auth_scope` (e.g. a Sign-Up.to company id)."""

    def refresh_after_unauthorized(self) -> bool:
        """Drop cached credentials after a 401; True when a single retry is worthwhile."""

    # Optional: `refusal_hint(waited) -> Optional[str]`, why a 401 came although the credentials were accepted
    # (a token that lapsed while the request waited `waited` seconds), or None: then check the credentials.


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # the longest Retry-After waited, from a vendor that announces no period
    max_rate_limit_waits: int = 10  # waits the vendor asks for (429 with a time to retry), apart from failures
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # After a create timed out or lost its answer, how long to keep looking for it (None: twice
    # the read timeout, since a vendor that answered late usually finishes within that).
    settle_window: Optional[float] = None

    @property
    def settle_seconds(self) -> float:
        return self.settle_window if self.settle_window is not None else 2 * self.read_timeout


class RequestBudget:
    """A vendor's share of a bulk job: at most `concurrency` requests in flight, at most
    `per_second` started per second, and none before a Retry-After the vendor gave any of them.

    Shared by every client the caller hands it to (one per identity of that vendor); `rate_waits`
    tallies how long its requests were held for the vendor's own limits (Retry-After or reset)."""

    def __init__(self, concurrency: int, per_second: float, clock: Callable[[], float] = time.monotonic):
        if concurrency < 1 or not per_second > 0:
            raise ValueError("a request budget needs concurrency >= 1 and per_second > 0")
        self.concurrency, self.per_second = concurrency, per_second
        self._clock = clock
        self._ready = threading.Condition()
        self._in_flight = 0
        self._next_start = 0.0   # the earliest start the rate allows
        self._held_until = 0.0   # the end of the longest Retry-After seen
        self.started = 0
        self.rate_waits = WaitTally(clock)

    @contextlib.contextmanager
    def slot(self, vendor: str, method: str, path: str, max_wait: float):
        """Wait for a request's turn; give up (ApiError) when the vendor asked to wait longer than
        `max_wait` seconds from now."""
        with self._ready:
            while True:
                now = self._clock()
                if self._held_until - now > max_wait:
                    raise ApiError(vendor, method, path, 429, f"rate-limited: {vendor} asked to wait "
                                                              f"{self._held_until - now:.0f}s, more than {max_wait:g}s")
                start = max(self._next_start, self._held_until)
                if self._in_flight < self.concurrency and now >= start:
                    break
                held = self._held_until > now and self._held_until >= self._next_start
                with self.rate_waits.waiting() if held else contextlib.nullcontext():
                    self._ready.wait(None if self._in_flight >= self.concurrency else start - now)
            self._in_flight += 1
            self._next_start = max(now, self._next_start) + 1.0 / self.per_second
            self.started += 1
        try:
            yield
        finally:
            with self._ready:
                self._in_flight -= 1
                self._ready.notify_all()

    def hold(self, seconds: float) -> None:
        """The vendor answered 429 with Retry-After: no request under this budget starts before then."""
        with self._ready:
            self._held_until = max(self._held_until, self._clock() + seconds)
            self._ready.notify_all()


ErrorParser = Callable[[requests.Response], str]
Reconcile = Callable[[], Optional[Any]]


def _default_error_message(response: requests.Response) -> str:
    text = response.text.strip()
    return text[:300] if text else response.reason or "no message"


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """A vendor's HTTP endpoint: one pooled session, bounded timeouts, safe retries."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        authenticator: Optional[Authenticator] = None,
        error_parser: ErrorParser = _default_error_message,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        credentials: tuple[str, ...] = (),
        budget: Optional[RequestBudget] = None,
        pacer: Optional[Pacer] = None,
    ):
        self.vendor = vendor
        # The settings to check when the vendor refuses the credentials (the vendor's own words name none):
        # `credentials` are their keys under the vendor (`username`), named as providers/naming.py says.
        self.credentials_hint = settings_words(vendor, *credentials) if credentials else ""
        self._succeeded = False  # whether this endpoint ever answered a request successfully
        self.budget = budget  # None: no bound beyond the caller's own (see RequestBudget)
        self.pacer = pacer  # the vendor's own limit, as its answers announce it (None: it announces none)
        # The longest wait a vendor may ask for: its refresh period where it announces one.
        self.max_wait = pacer.headers.max_wait if pacer is not None else retry.max_retry_after
        self.base_url = base_url.rstrip("/")
        self._path_prefix = urlsplit(self.base_url).path.rstrip("/")
        self.authenticator = authenticator
        self.error_parser = error_parser
        self.retry = retry
        self._sleep = sleep
        self.session = requests.Session()
        self._reached = False  # whether the server ever answered this client
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "email-partner-iac/0.1"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[dict[str, Any]] = None,
        json: Any = None,
        data: Optional[dict[str, Any]] = None,
        idempotent: Optional[bool] = None,
        authenticated: bool = True,
        auth_scope: Any = None,
        reconcile: Optional[Reconcile] = None,
    ) -> Any:
        """Send a request and return its decoded JSON body (None when empty).

        `reconcile`, for non-idempotent writes, is called after an ambiguous failure: it returns
        what the write produced if it landed (that value is returned), or None to re-send.
        """
        method = method.upper()
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        unauthorized_retried = False
        attempt = waits = 0  # requests sent; of them, refused with a time to retry (not failures)
        while True:
            attempt += 1
            sent = time.monotonic()
            # Signers sign the path actually requested: the apiUrl's own path prefix included.
            headers = (self.authenticator.headers(method, self._path_prefix + path, auth_scope)
                       if (authenticated and self.authenticator) else {})
            try:
                response = self._send(method, path, params=params, json=json, data=data, headers=headers)
            except TRANSPORT_ERRORS as exc:
                never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
                if _refused(exc) and not self._reached:
                    # Nothing ever answered at this address: a wrong apiUrl or a server that is down.
                    # Retrying for seconds would only hide which setting to look at.
                    raise ApiError(self.vendor, method, path, None, (
                        f"connection failed: nothing answers at {self.base_url} ({_describe_refusal(exc)}); check "
                        f"{self.vendor}:apiUrl (or {self.vendor.upper()}_API_URL)")) from None
                reason = _describe(exc)
                if isinstance(exc, requests.ReadTimeout):
                    reason += f" after {self.retry.read_timeout:g}s (`{self.vendor}:timeoutSeconds` sets it)"
                failure = _Failure(None, reason, None, maybe_applied=not never_sent)
            else:
                self._reached = True
                status = response.status_code
                log.debug("%s %s %s -> %d (attempt %d)", self.vendor, method, path, status, attempt)
                if status == 401 and authenticated and self.authenticator and not unauthorized_retried:
                    unauthorized_retried = True
                    if self.authenticator.refresh_after_unauthorized():
                        attempt -= 1  # a credential refresh is not a fault; don't spend the retry budget on it
                        continue
                if status < 400:
                    self._succeeded = True
                    return _decode(response)
                if status not in RETRYABLE_STATUSES:
                    hint = self._hint(status, time.monotonic() - sent if authenticated else None)
                    raise ApiError(self.vendor, method, path, status, self.error_parser(response), hint=hint)
                # 429 means the server refused the request without acting on it.
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is None and status == 429 and self.pacer is not None:
                    retry_after = self.pacer.asked_wait(response.headers)  # until the reset it announces
                failure = _Failure(status, self.error_parser(response), retry_after, maybe_applied=status != 429)
                waits += failure.asked_to_wait

            failures = attempt - waits
            give_up = failures >= self.retry.max_attempts or waits > self.retry.max_rate_limit_waits or (
                failure.retry_after is not None and failure.retry_after > self.max_wait)
            delay = self._backoff(max(failures, 1), failure.retry_after if not give_up else None)
            log.debug("%s %s %s: %s (attempt %d)", self.vendor, method, path, failure.reason, attempt)
            if failure.maybe_applied and not safe_to_repeat:
                if reconcile is None:
                    raise AmbiguousWriteError(self.vendor, method, path, failure.status,
                                              f"{failure.reason}; the request may or may not have been applied")
                self._sleep(delay)  # let a slow write finish before looking for it
                found, lookup_error = _look(reconcile)
                if found is not None:
                    return found
                if failure.status is None or lookup_error is not None:
                    # A timed-out or unanswered request is not a refused one: the vendor may still be
                    # making the object. Never re-send then; look again for a while, then stop.
                    return self._settle(method, path, failure, reconcile, lookup_error)
                if give_up:
                    raise ApiError(self.vendor, method, path, failure.status,
                                   f"{failure.reason}; not applied (checked) after {attempt} attempts")
                continue
            if give_up:
                raise ApiError(self.vendor, method, path, failure.status, failure.final_message(attempt))
            with self._held() if failure.asked_to_wait else contextlib.nullcontext():
                self._sleep(delay)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One attempt: the vendor's window (the pacer), the budget's turn, then the request itself."""
        ticket = None
        if self.pacer is not None:
            try:
                ticket = self.pacer.turn(method, path, self.max_wait, self._expires_in, held=self._held)
            except WaitTooLong as exc:
                raise ApiError(self.vendor, method, path, 429, f"rate-limited: {self.vendor}'s window reopens in "
                                                                f"{exc.seconds:.0f}s, more than {self.max_wait:g}s") from None
        response: Optional[requests.Response] = None
        try:
            with self._turn(method, path):
                response = self.session.request(method, self.base_url + path,
                                                timeout=(self.retry.connect_timeout, self.retry.read_timeout), **kwargs)
                self._hold_budget(response)  # before the slot is free: nothing may slip in between
            return response
        finally:
            if ticket is not None:
                self.pacer.answered(ticket, None if response is None else response.status_code,
                                    None if response is None else response.headers)

    @property
    def _expires_in(self) -> float:
        """How long a request counts as in flight at most: its wait for the budget's turn, its timeouts,
        and a second."""
        return self.max_wait + self.retry.connect_timeout + self.retry.read_timeout + 1.0

    @contextlib.contextmanager
    def _held(self):
        """A wait the vendor's limit imposes: tallied by the budget, and noted in the run's journal if it keeps one."""
        started = time.time()
        with self.budget.rate_waits.waiting() if self.budget is not None else contextlib.nullcontext():
            yield
        rate_limits.journal(started, time.time())

    def _hint(self, status: int, waited: Optional[float] = None) -> str:
        """The setting a refusal points at: credentials for 401/403 (unless the authenticator knows they were
        accepted: a token that lapsed while the request waited); the URL for a 404/405 from an endpoint that
        never answered a request (a wrong path, or another vendor's URL, in apiUrl)."""
        explain = getattr(self.authenticator, "refusal_hint", None)
        reason = explain(waited) if status == 401 and waited is not None and explain is not None else None
        if reason:
            return reason
        if status in (401, 403) and self.credentials_hint:
            return f"check {self.credentials_hint}"
        if status in (404, 405) and not self._succeeded:
            return (f"{self.base_url} may not be the {self.vendor} API: check {self.vendor}:apiUrl "
                    f"(or {self.vendor.upper()}_API_URL)")
        return ""

    def _hold_budget(self, response: requests.Response) -> None:
        """A 429 with Retry-After holds every request of the budget, not only this one's retry."""
        if self.budget is not None and response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.budget.hold(retry_after)

    def _turn(self, method: str, path: str):
        """The budget's slot for one attempt, or nothing when the client has no budget."""
        if self.budget is None:
            return contextlib.nullcontext()
        return self.budget.slot(self.vendor, method, path, self.max_wait)

    def _settle(self, method: str, path: str, failure: "_Failure", reconcile: Reconcile,
                lookup_error: Optional[ApiError]) -> Any:
        """Look for the write's result over a bounded window; if it never shows, fail as unknown."""
        waited, interval = 0.0, self.retry.base_delay
        while waited < self.retry.settle_seconds:
            pause = min(interval, self.retry.settle_seconds - waited)
            self._sleep(pause)
            waited += pause
            interval = min(interval * 2, self.retry.max_delay)
            found, error = _look(reconcile)
            if found is not None:
                return found
            lookup_error = error
        looked = (f"the look-ups for it failed (last: {lookup_error})" if lookup_error is not None
                  else f"it was not found within {self.retry.settle_seconds:g}s")
        raise OutcomeUnknownError(
            self.vendor, method, path, failure.status,
            f"{failure.reason}; the outcome is unknown: {self.vendor} may have made it, and {looked}. It was not "
            f"sent again, so that no duplicate is made. Run `pulumi up` again: it recognises the object if it "
            f"was made, and creates it otherwise")

    def _backoff(self, attempt: int, retry_after: Optional[float]) -> float:
        """Full jitter, but never earlier than the server asked."""
        jittered = random.uniform(0, min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1)))
        if retry_after is not None:
            return retry_after + random.uniform(0, self.retry.base_delay)
        return jittered


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: what happened, and whether the server may have acted on it."""

    status: Optional[int]
    reason: str
    retry_after: Optional[float]
    maybe_applied: bool

    @property
    def asked_to_wait(self) -> bool:
        """A refusal for the vendor's rate limit that says when to come back: a wait, not a failure."""
        return self.status == 429 and self.retry_after is not None

    def final_message(self, attempts: int) -> str:
        if self.retry_after is not None and self.status:
            return f"{self.reason} (asked to retry after {self.retry_after:.0f}s; giving up after {attempts} attempts)"
        return f"{self.reason} after {attempts} attempts" if self.status is None else self.reason


def _look(reconcile: Reconcile) -> tuple[Optional[Any], Optional[ApiError]]:
    """One look-up for a write's result: (what it found, None) or (None, the look-up's error)."""
    try:
        return reconcile(), None
    except ApiError as exc:
        return None, exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
        return "timed out waiting for the response"
    return f"connection failed: {type(exc).__name__}"


def _describe_refusal(exc: Exception) -> str:
    text = repr(exc)
    if "Name or service not known" in text or "getaddrinfo" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    return "connection refused"


def _refused(exc: Exception) -> bool:
    """A refused connection never reached the server, so any request is safe to resend."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
