"""Ciirus Partner API, emails/subaccount: one sub-account per API user, HTTP Basic auth.

Quirks handled here: a POST while a sub-account exists answers 200 with
`error_message: "you already have an existing sub account."` (not a success); errors carry
`error_message`; PUT needs every field, so partial changes are a locked read-modify-write.
"""

from __future__ import annotations

import base64
import threading
from typing import Any, Optional

import requests

from ..http import ApiError, HttpClient, RetryPolicy
from . import API_VERSIONS, DEFAULT_API_VERSION
from ..shared_reads import SharedReads, writes
from .models import SubAccount, SubAccountFields

VENDOR = "ciirus"
EXISTS_MESSAGE = "you already have an existing sub account."
NONE_MESSAGE = "no sub account found."
THE_SUB_ACCOUNT = "subaccount"  # the API user's one sub-account, as a key of its shared reads

# Read-modify-write sequences of one API user are serialised across every client in the process
# (all resources of a deployment share the provider process), so two resources never interleave.
_user_locks: dict[tuple[str, str], threading.Lock] = {}
_user_locks_guard = threading.Lock()


class SubAccountExists(Exception):
    def __init__(self, existing: SubAccount):
        self.existing = existing
        super().__init__(f"a Ciirus sub-account already exists for this API user: {existing.subaccount_id}")


class BasicAuth:
    def __init__(self, username: str, password: str):
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._header = {"Authorization": f"Basic {token}"}

    def headers(self, method: str, path: str, scope=None) -> dict[str, str]:
        return dict(self._header)

    def refresh_after_unauthorized(self) -> bool:
        return False


def ciirus_error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    if isinstance(body, dict):
        return str(body.get("error_message") or body.get("message") or body)[:300]
    return str(body)[:300]


class CiirusClient:
    def __init__(self, api_url: str, username: str, password: str, api_version: str = DEFAULT_API_VERSION,
                 retry: RetryPolicy = RetryPolicy()):
        if api_version not in API_VERSIONS:
            raise ValueError(f"unknown Ciirus API version {api_version!r}; supported: {', '.join(API_VERSIONS)}")
        self.path = f"/{api_version}/emails/subaccount"
        self.http = HttpClient(VENDOR, api_url, authenticator=BasicAuth(username, password),
                               error_parser=ciirus_error_message, retry=retry, credentials=("username", "password"))
        with _user_locks_guard:
            self._lock = _user_locks.setdefault((api_url.rstrip("/"), username), threading.Lock())
        self.shared_reads = SharedReads()

    def get(self) -> Optional[SubAccount]:
        """The user's sub-account, or None when the vendor says there is none (any other 404 is an error:
        a wrong apiUrl or version must not read as "deleted" and empty the stack's state)."""
        try:
            body = self.http.request("GET", self.path)
        except ApiError as exc:
            if exc.status == 404 and exc.vendor_message.strip().lower() == NONE_MESSAGE:
                return None
            raise
        return self._sub_account("GET", body)

    def get_shared(self, reader: str) -> Optional[SubAccount]:
        """`get` for a refresh: one GET serves every resource kind reading the sub-account in a pass."""
        return self.shared_reads.get(THE_SUB_ACCOUNT, reader, self.get)

    def _sub_account(self, method: str, body: Any) -> SubAccount:
        """Ciirus reports some errors in a 200: read error_message before trusting the body."""
        if not isinstance(body, dict):
            raise ApiError(VENDOR, method, self.path, 200, f"unexpected answer: {str(body)[:200]}")
        message = body.get("error_message")
        if message and "subaccount_id" not in body:
            raise ApiError(VENDOR, method, self.path, 200, str(message))
        return SubAccount.model_validate(body)

    @writes(lambda *_, **__: THE_SUB_ACCOUNT)
    def create(self, fields: SubAccountFields) -> SubAccount:
        """Create the user's sub-account; SubAccountExists when there is one already (never overwritten)."""
        with self._lock:
            existing = self.get()
            if existing is not None:
                raise SubAccountExists(existing)

            def find_created() -> Optional[dict]:
                landed = self.get()  # none existed before, so one now is ours
                return landed.model_dump() if landed is not None else None

            body = self.http.request("POST", self.path, json=fields.model_dump(), reconcile=find_created)
            account = self._sub_account("POST", body)
            if account.error_message == EXISTS_MESSAGE:
                raise SubAccountExists(account)
            if account.error_message:
                raise ApiError(VENDOR, "POST", self.path, 200, account.error_message)
            return account

    @writes(lambda *_, **__: THE_SUB_ACCOUNT)
    def update(self, expected_id: str, **changes: Any) -> SubAccount:
        """Change some fields of sub-account `expected_id`, sending the current values of the others
        (which other resources own). Read and write happen under the user's lock."""
        with self._lock:
            current = self.get()
            if current is None or current.subaccount_id != expected_id:
                found = "none" if current is None else current.subaccount_id
                raise ApiError(VENDOR, "PUT", self.path, 404,
                               f"sub-account {expected_id} does not exist (the API user has {found}); "
                               f"run `pulumi refresh` to recreate it")
            fields = SubAccountFields.model_validate({**current.fields().model_dump(), **changes})
            if fields == current.fields():
                return current
            account = self._sub_account("PUT", self.http.request("PUT", self.path, json=fields.model_dump()))
            if account.error_message:
                raise ApiError(VENDOR, "PUT", self.path, 200, account.error_message)
            return account

    @writes(lambda *_, **__: THE_SUB_ACCOUNT)
    def delete(self) -> bool:
        """True if deleted now, False if there was none."""
        try:
            self.http.request("DELETE", self.path)
        except ApiError as exc:
            if exc.status == 404 and exc.vendor_message.strip().lower() == NONE_MESSAGE:
                return False
            raise
        return True
