"""SendGrid's rate limit, as its v3 API reference ("Rate Limits") documents it.

Every answer carries `X-RateLimit-Limit` (requests allowed per refresh period on that endpoint),
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (a Unix time, seconds). An exhausted limit answers
429 with the same headers and `{"errors": [{"field": null, "message": "too many requests"}]}`, and
no `Retry-After`. The numbers vary by endpoint and plan; 600 requests a minute per user is the
default SendGrid announced in 2019, and the emulator's default for every endpoint.

Counted per user and endpoint: the user is the API key's owner (a parent's call on behalf of a
subuser is the parent's request: the stricter reading, since the page says only "per user"), the
endpoint the route and method (`GET /v3/subusers/<subuser_name>/credits`, whatever the name).
"""

from __future__ import annotations

from flask import g, request

from .errors import SendGridError
from ..core.rate_limits import take
from ..core.store import get_store
from ..core.vendor import RateLimit, Window

TOO_MANY_REQUESTS = "too many requests"


def headers(window: Window) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(window.limit), "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": str(window.reset)}


RATE_LIMIT = RateLimit(limit=600, period_seconds=60.0, headers=headers)


def count_request() -> None:
    """before_request of the blueprint, after authentication: count the request, or refuse it (429)."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    window = take(get_store(), g.vendor, g.sendgrid_key_user["username"], f"{request.method} {rule}")
    if window is not None and not window.allowed:
        raise SendGridError(429, TOO_MANY_REQUESTS)
