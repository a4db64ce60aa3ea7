"""Sign-Up.to hash authentication: every request is signed afresh (Date + nonce), never replayed.

String to sign: "<METHOD> <path requested>\\r\\n" (e.g. "/v1/account"; behind an apiUrl with a path, that
path comes first), then "Name: value\\r\\n" for each auth header present
in the documented order, then the key; signature = lowercase hex SHA-1. The path has no query.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
import uuid
from typing import Callable, Optional

PARTNER_HEADER_ORDER = ("Date", "X-SuT-PID", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")
COMPANY_HEADER_ORDER = ("Date", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")


def string_to_sign(method: str, path: str, headers: dict[str, str], order: tuple[str, ...], key: str) -> str:
    lines = [f"{method.upper()} {path}"] + [f"{name}: {headers[name]}" for name in order if name in headers]
    return "".join(line + "\r\n" for line in lines) + key


def signature(method: str, path: str, headers: dict[str, str], order: tuple[str, ...], key: str) -> str:
    return hashlib.sha1(string_to_sign(method, path, headers, order, key).encode("utf-8")).hexdigest()


def _signed_path(path: str) -> str:
    return path.split("?", 1)[0]


class PartnerHashAuth:
    """Partner-level auth; `scope` is the company id to act on (X-SuT-CID), or None."""

    def __init__(self, partner_id: int | str, partner_key: str, *, clock: Callable[[], float] = time.time,
                 nonce: Callable[[], str] = lambda: uuid.uuid4().hex):
        if len(partner_key) != 40:
            raise ValueError("a Sign-Up.to partner key has 40 characters")
        self._partner_id, self._key, self._clock, self._nonce = str(partner_id), partner_key, clock, nonce

    def headers(self, method: str, path: str, scope: Optional[int | str] = None) -> dict[str, str]:
        headers = {"Date": email.utils.formatdate(self._clock(), usegmt=True), "X-SuT-PID": self._partner_id}
        if scope is not None:
            headers["X-SuT-CID"] = str(scope)
        headers["X-SuT-Nonce"] = self._nonce()
        sig = signature(method, _signed_path(path), headers, PARTNER_HEADER_ORDER, self._key)
        return {**headers, "Authorization": f'SuTPartner signature="{sig}"'}

    def refresh_after_unauthorized(self) -> bool:
        return False  # nothing cached to renew: a 401 is final


class CompanyHashAuth:
    """Company-level auth (a company user's 32-character key): reads of that company only."""

    def __init__(self, company_id: int | str, user_id: int | str, hash_key: str, *,
                 clock: Callable[[], float] = time.time, nonce: Callable[[], str] = lambda: uuid.uuid4().hex):
        self._cid, self._uid, self._key, self._clock, self._nonce = str(company_id), str(user_id), hash_key, clock, nonce

    def headers(self, method: str, path: str, scope=None) -> dict[str, str]:
        headers = {"Date": email.utils.formatdate(self._clock(), usegmt=True), "X-SuT-CID": self._cid,
                   "X-SuT-UID": self._uid, "X-SuT-Nonce": self._nonce()}
        sig = signature(method, _signed_path(path), headers, COMPANY_HEADER_ORDER, self._key)
        return {**headers, "Authorization": f'SuTHash signature="{sig}"'}

    def refresh_after_unauthorized(self) -> bool:
        return False
