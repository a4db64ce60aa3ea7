"""Vendors' own rate limits: so many requests per user and endpoint per refresh period.

A vendor that documents a limit describes it once (`RateLimit` on its `Vendor`, vendor.py): the default limit
and period, and the headers it announces them with. Its own request hook calls `take()` once it
knows who is asking (the user) and what (the endpoint); a refused request is answered by the vendor
in its own words, and every counted answer, refused or not, carries the headers (the app's
after_request adds them). A vendor that documents no limit has none here: tests keep injecting
`Retry-After` faults for it (faults.py).

Windows are fixed: the first request of a user on an endpoint opens one, which ends at a whole
second (the `Reset` a vendor announces as a Unix time is then exactly when it ends). The limit is on
by default; `/_control/rate_limits` sets it per vendor or per user (or turns it off), and wipes the
windows it changes. Settings and windows are kept in SQLite like everything else.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from flask import g

from .store import Store
from .vendor import Vendor, Window

EVERY_USER = ""  # the user column of a vendor-wide setting


@dataclass(frozen=True)
class Setting:
    limit: Optional[int]  # None: no limit
    period_seconds: float


class RateLimitSpecError(ValueError):
    """A /_control/rate_limits body that cannot be used."""


def setting(store: Store, vendor: Vendor, user: str) -> Setting:
    """The user's own setting, else the vendor-wide one, else the vendor's documented default."""
    assert vendor.rate_limit is not None
    row = store.query_one("SELECT limit_, period FROM rate_limit_settings WHERE vendor = ? AND user IN (?, ?) "
                          "ORDER BY user = ? DESC LIMIT 1", (vendor.name, user, EVERY_USER, user))
    if row is None:
        return Setting(vendor.rate_limit.limit, vendor.rate_limit.period_seconds)
    return Setting(row["limit_"], row["period"])


def take(store: Store, vendor: Vendor, user: str, endpoint: str,
         clock: Callable[[], float] = time.time) -> Optional[Window]:
    """Count one request of `user` on `endpoint` (None when no limit applies); a refused one is not counted.
    Also remembered for the answer's headers (see `answer_headers`)."""
    if vendor.rate_limit is None:
        return None
    rule = setting(store, vendor, user)
    if rule.limit is None:
        return None
    now = clock()
    with store.transaction() as conn:
        row = conn.execute("SELECT ends, used FROM rate_limit_windows WHERE vendor = ? AND user = ? AND endpoint = ?",
                           (vendor.name, user, endpoint)).fetchone()
        ends, used = (row["ends"], row["used"]) if row is not None and now < row["ends"] else (
            math.ceil(now + rule.period_seconds), 0)
        allowed = used < rule.limit
        used += allowed
        conn.execute("INSERT INTO rate_limit_windows (vendor, user, endpoint, ends, used) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (vendor, user, endpoint) DO UPDATE SET ends = excluded.ends, used = excluded.used",
                     (vendor.name, user, endpoint, ends, used))
    window = Window(rule.limit, max(0, rule.limit - used), int(ends), allowed)
    g.rate_limit_window = window
    return window


def answer_headers(vendor: Optional[Vendor]) -> dict[str, str]:
    """after_request: the headers of the window this request was counted in, if it was."""
    window: Optional[Window] = g.get("rate_limit_window")
    if vendor is None or vendor.rate_limit is None or window is None:
        return {}
    return vendor.rate_limit.headers(window)


# -- control ------------------------------------------------------------------------------------
def parse_spec(payload: Any, vendors: dict[str, Vendor]) -> tuple[Vendor, str, Optional[int], float]:
    """{"vendor", "user"?, "limit": int >= 1 or null, "period_seconds"?} -> (vendor, user, limit, period)."""
    if not isinstance(payload, dict):
        raise RateLimitSpecError("body must be a JSON object")
    vendor = vendors.get(payload.get("vendor"))  # type: ignore[arg-type]
    if vendor is None:
        raise RateLimitSpecError(f"'vendor' must be one of {', '.join(vendors)}")
    if vendor.rate_limit is None:
        raise RateLimitSpecError(f"{vendor.name} documents no rate limit: inject 429 faults with 'retry_after' "
                                 f"instead (POST /_control/faults)")
    user = payload.get("user", EVERY_USER)
    if not isinstance(user, str):
        raise RateLimitSpecError("'user' must be a user name (or absent: every user)")
    if "limit" not in payload:
        raise RateLimitSpecError("'limit' is required: requests per period, or null for no limit")
    limit = payload["limit"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise RateLimitSpecError("'limit' must be an integer >= 1, or null for no limit")
    period = payload.get("period_seconds", vendor.rate_limit.period_seconds)
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not 0 < period <= 86400:
        raise RateLimitSpecError("'period_seconds' must be a number above 0 and at most 86400")
    return vendor, user, limit, float(period)


def configure(store: Store, vendor: Vendor, user: str, limit: Optional[int], period: float) -> None:
    """Set the limit (wiping the windows it governs, so that it applies from the next request)."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO rate_limit_settings (vendor, user, limit_, period) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (vendor, user) DO UPDATE SET limit_ = excluded.limit_, period = excluded.period",
                     (vendor.name, user, limit, period))
        if user == EVERY_USER:
            conn.execute("DELETE FROM rate_limit_windows WHERE vendor = ?", (vendor.name,))
        else:
            conn.execute("DELETE FROM rate_limit_windows WHERE vendor = ? AND user = ?", (vendor.name, user))


def defaults(store: Store) -> None:
    """Every vendor back to its documented limit, every window closed."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM rate_limit_settings")
        conn.execute("DELETE FROM rate_limit_windows")


def listing(store: Store, vendors: dict[str, Vendor]) -> list[dict[str, Any]]:
    """Each limiting vendor's setting for every user, then the per-user settings."""
    rows = [{"vendor": v.name, "user": None, **_public(setting(store, v, EVERY_USER))}
            for v in vendors.values() if v.rate_limit is not None]
    for row in store.query("SELECT * FROM rate_limit_settings WHERE user != ? ORDER BY vendor, user", (EVERY_USER,)):
        rows.append({"vendor": row["vendor"], "user": row["user"],
                     **_public(Setting(row["limit_"], row["period"]))})
    return rows


def _public(rule: Setting) -> dict[str, Any]:
    return {"limit": rule.limit, "period_seconds": rule.period_seconds}
