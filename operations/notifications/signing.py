"""A webhook's signature, as GitHub and Pulumi sign theirs, with a timestamp against replays.

`X-Email-Partners-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the sink's shared secret, of
`<timestamp>.<body>`, where `<timestamp>` is `X-Email-Partners-Timestamp` (Unix seconds, the time of
this attempt: every retry is signed afresh). A receiver recomputes it over the raw body, compares in
constant time, and refuses a timestamp more than five minutes from its clock (the README has the
snippet, which tests/unit/test_notifications.py runs). The secret itself is never sent.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Email-Partners-Signature"
TIMESTAMP_HEADER = "X-Email-Partners-Timestamp"
DELIVERY_HEADER = "X-Email-Partners-Delivery"
EVENT_HEADER = "X-Email-Partners-Event"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}
