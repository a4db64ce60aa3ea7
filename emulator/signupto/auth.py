"""Sign-Up.to authentication: Partner Hash (SuTPartner), and company-level Hash (SuTHash) or Token.

Hash schemes: every request is signed afresh: SHA-1 over "<METHOD> /v1/<endpoint>\\r\\n", one
"Name: value\\r\\n" line per auth header present (in the documented order) and the shared key.
The Date must be within WINDOW_SECONDS of the server clock and a nonce may not be reused by the
same principal, so a captured request cannot be replayed. Checks run in the order a client would
debug them: header syntax, clock, principal, signature, nonce.

Token (company level): `Authorization: SuTToken <token>`, the 96-character token POST /v1/token
gave for a company user's username and password. It stands for that user until it expires, with
the same rights as SuTHash for that user; no Date, nonce or X-SuT-* header is needed (any sent
is ignored: the token alone names the company and the user).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from . import store as db
from ..core.store import Store

WINDOW_SECONDS = 300
NONCE_KEEP_SECONDS = 2 * WINDOW_SECONDS
PARTNER_HEADERS = ("Date", "X-SuT-PID", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")
COMPANY_HEADERS = ("Date", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")

_AUTH_RE = re.compile(r'^(SuTPartner|SuTHash) signature="([0-9A-Fa-f]{40})"$')
_DATE_RE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
_ID_RE = re.compile(r"^[1-9]\d{0,17}$")
_NONCE_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


class AuthError(Exception):
    """401 (or 403) with the PMAPI message."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Caller:
    level: str                      # 'partner' or 'company'
    partner_id: Optional[int]       # partner level only
    company_id: Optional[int]       # X-SuT-CID as sent (not yet checked against the partner)
    user_id: Optional[int]


def string_to_sign(method: str, path: str, headers: Mapping[str, str], order: tuple[str, ...],
                   key: str) -> str:
    lines = [f"{method.upper()} {path}"] + [f"{n}: {headers[n]}" for n in order if n in headers]
    return "".join(f"{line}\r\n" for line in lines) + key


def sign(method: str, path: str, headers: Mapping[str, str], order: tuple[str, ...], key: str) -> str:
    return hashlib.sha1(string_to_sign(method, path, headers, order, key).encode("utf-8")).hexdigest()


def _check_date(value: Optional[str], now: float) -> None:
    if value is None:
        raise AuthError("Missing Date header")
    if not _DATE_RE.match(value):
        raise AuthError("Invalid Date header: expected RFC 1123 GMT, e.g. Mon, 23 Nov 2026 02:00:00 GMT")
    try:
        sent = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise AuthError("Invalid Date header: expected RFC 1123 GMT") from None
    if abs(sent - now) > WINDOW_SECONDS:
        raise AuthError("Request date is outside the allowed window")


def _id_header(headers: Mapping[str, str], name: str, required: bool) -> Optional[int]:
    value = headers.get(name)
    if value is None:
        if required:
            raise AuthError(f"Missing {name} header")
        return None
    if not _ID_RE.match(value.strip()):
        raise AuthError(f"Invalid {name} header: expected a positive integer")
    return int(value)


def authenticate(store: Store, method: str, signed_path: str, headers: Mapping[str, str],
                 now: Optional[float] = None) -> Caller:
    """Verify a request's signature (or token); returns who is calling or raises AuthError."""
    now = time.time() if now is None else now
    authorization = headers.get("Authorization")
    if not authorization:
        raise AuthError("Missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme == "SuTToken":
        return _token_caller(store, token.strip(), now)
    match = _AUTH_RE.match(authorization.strip())
    if not match:
        raise AuthError('Invalid Authorization header: expected SuTPartner signature="<sha1 hex>",'
                        ' SuTHash signature="<sha1 hex>" or SuTToken <token>')
    scheme, given = match.groups()
    partner = scheme == "SuTPartner"
    pid = _id_header(headers, "X-SuT-PID", required=True) if partner else None
    cid = _id_header(headers, "X-SuT-CID", required=not partner)
    uid = _id_header(headers, "X-SuT-UID", required=not partner)
    if uid is not None and cid is None:
        raise AuthError("X-SuT-UID requires X-SuT-CID")
    nonce = headers.get("X-SuT-Nonce")
    if nonce is None:
        raise AuthError("Missing X-SuT-Nonce header")
    if not _NONCE_RE.match(nonce):
        raise AuthError("Invalid X-SuT-Nonce header: 1-128 printable characters without spaces")
    _check_date(headers.get("Date"), now)

    if partner:
        row = db.get_partner(store, pid)  # type: ignore[arg-type]
        if row is None:
            raise AuthError(f"Unknown partner {pid}")
        key, order, principal = row["partner_key"], PARTNER_HEADERS, f"partner:{pid}"
    else:
        row = db.get_user(store, cid, uid)  # type: ignore[arg-type]
        if row is None:
            raise AuthError(f"Unknown user {uid} for company {cid}")
        key, order, principal = row["hash_key"], COMPANY_HEADERS, f"user:{cid}:{uid}"

    expected = sign(method, signed_path, headers, order, key)
    if not hmac.compare_digest(expected, given):
        raise AuthError("Invalid signature")
    if not db.use_nonce(store, principal, nonce, now, NONCE_KEEP_SECONDS):
        raise AuthError("Nonce has already been used")
    return Caller("partner" if partner else "company", pid, cid, uid)


def _token_caller(store: Store, token: str, now: float) -> Caller:
    """The company user a live token stands for."""
    if not token:
        raise AuthError("Missing token: expected SuTToken <token>")
    row = db.token_user(store, token)
    if row is None:
        raise AuthError("Invalid token")
    if row["expires_at"] <= now:
        raise AuthError("Token has expired")
    return Caller("company", None, int(row["company_id"]), int(row["user_id"]))
