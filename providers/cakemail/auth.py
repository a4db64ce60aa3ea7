"""Cakemail OAuth2 password grant: fetched on first use, refreshed before it expires."""

from __future__ import annotations

import threading
import time
from typing import Optional

from pydantic import ValidationError

from ..http import ApiError, HttpClient
from .models import TokenResponse


class CakemailTokenAuth:
    """Bearer-token authenticator. Holds the token in memory only (never pickled, never logged)."""

    def __init__(self, username: str, password: str, clock=time.monotonic):
        self._username = username
        self._password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Optional[TokenResponse] = None
        self._expires_at = 0.0
        self._lifetime: Optional[float] = None  # of the last token granted: the credentials were accepted
        self.http: Optional[HttpClient] = None  # set by the client; the token endpoint shares its session

    def headers(self, method: str, path: str, scope=None) -> dict[str, str]:
        with self._lock:
            if self._token is None:
                self._grant({"grant_type": "password", "username": self._username, "password": self._password})
            elif self._clock() >= self._expires_at:
                self._refresh()
            return {"Authorization": f"Bearer {self._token.access_token}"}

    def refresh_after_unauthorized(self) -> bool:
        with self._lock:
            had_token = self._token is not None
            self._token = None
        return had_token

    def _refresh(self) -> None:
        try:
            self._grant({"grant_type": "refresh_token", "refresh_token": self._token.refresh_token})
        except ApiError as exc:
            if exc.status not in (400, 401, 403):
                raise
            self._grant({"grant_type": "password", "username": self._username, "password": self._password})

    def _grant(self, form: dict[str, str]) -> None:
        assert self.http is not None
        body = self.http.request("POST", "/token", data=form, authenticated=False, idempotent=True)
        try:
            token = TokenResponse.model_validate(body)
        except ValidationError:  # its message would quote the body, tokens included
            raise ApiError("cakemail", "POST", "/token", 200, "the token answer is not in the expected shape") from None
        # Renew a little early so a request never leaves with a token about to lapse.
        margin = min(60.0, token.expires_in * 0.1)
        self._token, self._expires_at = token, self._clock() + token.expires_in - margin
        self._lifetime = float(token.expires_in)

    def refusal_hint(self, waited: float) -> Optional[str]:
        """A 401 although this process was granted a token: the credentials are right. A token that outlives
        the wait cannot lapse during it, so say what happened rather than "check the password"."""
        if self._lifetime is None:
            return None
        if waited >= self._lifetime * 0.9:
            return (f"the credentials are right (cakemail granted a token), but the token lapsed while the request "
                    f"waited {waited:.1f}s for the answer, longer than cakemail's tokens last here "
                    f"({self._lifetime:g}s): the vendor, or the network to it, is too slow for its own token life")
        return ("the credentials are right (cakemail granted a token), but cakemail refused the token itself "
                "(revoked, or the vendor's clock is ahead): run again; if it lasts, ask cakemail")
