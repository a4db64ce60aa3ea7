"""Cakemail partner API: sub-accounts. Vendor quirks live here, HTTP behaviour in ..http."""

from __future__ import annotations

from typing import Any, Iterator, Optional

import requests

from ..http import ApiError, HttpClient, RetryPolicy
from ..shared_reads import SharedReads, writes
from .auth import CakemailTokenAuth
from .models import Account, AccountPage, CreateAccount, DkimKey, Pagination, PatchAccount

VENDOR = "cakemail"
# The account metadata key holding the creating resource's marker (metadata is not shown to users).
MARKER_METADATA_KEY = "email_partners_creation_marker"
# Who manages the account: the project, stack and state backend of the resource that made (or took) it.
OWNER_METADATA_KEYS = {"project": "email_partners_project", "stack": "email_partners_stack",
                       "backend": "email_partners_backend"}


def cakemail_error_message(response: requests.Response) -> str:
    """FastAPI-shaped errors: {"detail": [{"loc": [...], "msg": "...", "type": "..."}]} or {"detail": "..."}."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text.strip()[:300] or response.reason
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if not isinstance(item, dict):
                parts.append(str(item))
                continue
            loc = ".".join(str(x) for x in item.get("loc", []) if x not in ("body", "query", "path"))
            msg = item.get("msg") or item.get("message") or item.get("type") or "error"
            parts.append(f"{loc}: {msg}" if loc else str(msg))
        return "; ".join(parts) or response.reason
    return response.text.strip()[:300] or response.reason


class CakemailClient:
    def __init__(self, api_url: str, username: str, password: str, retry: RetryPolicy = RetryPolicy()):
        self.auth = CakemailTokenAuth(username, password)
        self.http = HttpClient(VENDOR, api_url, authenticator=self.auth, error_parser=cakemail_error_message, retry=retry,
                               credentials=("username", "password"))
        self.auth.http = self.http
        self.shared_reads = SharedReads()  # accounts, by id

    # --- accounts -------------------------------------------------------------------------
    def get_account(self, account_id: str) -> Optional[Account]:
        """The account, or None when it does not exist (or is deleted)."""
        try:
            body = self.http.request("GET", f"/accounts/{account_id}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        account = Account.model_validate(body["data"])
        return None if account.gone else account

    def get_account_shared(self, account_id: str, reader: str) -> Optional[Account]:
        """`get_account` for a refresh: one GET serves every resource kind reading this account in a pass."""
        return self.shared_reads.get(account_id, reader, lambda: self.get_account(account_id))

    def iter_accounts(self, *, filter: Optional[str] = None, per_page: int = 100) -> Iterator[Account]:
        """Every account, page by page. `pagination` (and each of its fields) is optional in the published
        schema: the last page is the one shorter than the page size the server says it used (else the one
        asked for), or the one that reaches `count`, or a page that brings nothing new."""
        page, seen = 1, set()
        while True:
            params: dict[str, Any] = {"page": page, "per_page": per_page}
            if filter:
                params["filter"] = filter
            result = AccountPage.model_validate(self.http.request("GET", "/accounts", params=params))
            fresh = [a for a in result.data if a.id not in seen]
            seen.update(a.id for a in fresh)
            yield from (a for a in fresh if not a.gone)
            pagination = result.pagination or Pagination()
            size = pagination.per_page or per_page  # the server may cap per_page
            if not fresh or len(result.data) < size or (pagination.count is not None and len(seen) >= pagination.count):
                return
            page += 1

    def prime_accounts(self, max_age: Optional[float] = None) -> int:
        """Every sub-account, listed page by page, kept as the per-pass answers; how many.

        A listing's AccountSummary carries every field a refresh reads (name, status, partner,
        usage_limits, created_on, lineage, the owner's user id); only `metadata` is missing, which
        no read uses (the creation marker matters to create and delete, which always GET)."""
        count = 0
        for account in self.iter_accounts():
            self.shared_reads.prime(account.id, account, max_age)
            count += 1
        return count

    def accounts_named(self, name: str) -> list[Account]:
        # The filter syntax has no escaping: a name with its separators is matched here instead.
        server_filter = None if (";" in name or "==" in name) else f"name=={name}"
        return [a for a in self.iter_accounts(filter=server_filter) if a.name == name]

    def full_accounts_named(self, name: str) -> list[Account]:
        """Accounts of that name with their metadata (listings leave it out)."""
        found = (self.get_account(a.id) for a in self.accounts_named(name))
        return [a for a in found if a is not None]

    @staticmethod
    def marker_of(account: Account) -> Optional[str]:
        return (account.metadata or {}).get(MARKER_METADATA_KEY)

    @staticmethod
    def owner_of(account: Account) -> dict[str, str]:
        """Who the metadata says manages the account ({"project", "stack", "backend"}; empty when unmarked)."""
        metadata = account.metadata or {}
        return {k: str(metadata[key]) for k, key in OWNER_METADATA_KEYS.items() if metadata.get(key)}

    def mark_account(self, account: Account, marker: Optional[str], owner: Optional[dict[str, str]] = None) -> Account:
        """Store the creating resource's marker (None: remove it) and who manages the account in its
        metadata, keeping what else is there; nothing is sent when it already says so."""
        current = account if account.metadata is not None else (self.get_account(account.id) or account)
        metadata = {k: v for k, v in (current.metadata or {}).items()
                    if k != MARKER_METADATA_KEY and (owner is None or k not in OWNER_METADATA_KEYS.values())}
        if marker is not None:
            metadata[MARKER_METADATA_KEY] = marker
        metadata.update({OWNER_METADATA_KEYS[k]: v for k, v in (owner or {}).items() if v})
        if metadata == (current.metadata or {}):
            return current
        return self.patch_account(account.id, PatchAccount(metadata=metadata))

    def create_account(self, body: CreateAccount, known_ids: Optional[set[str]] = None) -> Account:
        """Create exactly once: after an ambiguous failure, look for the account before re-sending.

        An account that a resource marked (mark_account) is never taken for this one. `known_ids`: the
        ids of the accounts of that name the caller has just listed (saves listing them again)."""
        if known_ids is None:
            known_ids = {a.id for a in self.accounts_named(body.name)}

        def find_created() -> Optional[dict]:
            fresh = [a for a in self.full_accounts_named(body.name)
                     if a.id not in known_ids and self.marker_of(a) is None]
            if not fresh:
                return None
            newest = max(fresh, key=lambda a: (a.created_on or 0, a.id))
            return {"data": newest.model_dump()}

        result = self.http.request("POST", "/accounts", json=body.model_dump(exclude_none=True), reconcile=find_created)
        data = result.get("data") if isinstance(result, dict) else None
        if not data:  # the published schema allows an answer holding only the new id: read the account
            created_id = str((result or {}).get("id") or "")
            account = self.get_account(created_id) if created_id else None
            if account is None:
                raise ApiError(VENDOR, "POST", "/accounts", 201, f"the answer names no account that can be read: "
                                                                 f"{str(result)[:200]}")
        else:
            account = Account.model_validate(data)
        return account

    @writes(lambda account_id, *_: account_id)
    def patch_account(self, account_id: str, patch: PatchAccount) -> Account:
        # PATCH with absolute values converges however often it is applied.
        body = self.http.request("PATCH", f"/accounts/{account_id}", json=patch.model_dump(exclude_none=True), idempotent=True)
        return Account.model_validate(body["data"])

    @writes(lambda account_id, *_: account_id)
    def set_suspended(self, account_id: str, suspended: bool) -> Account:
        action = "suspend" if suspended else "unsuspend"
        # Suspending a suspended account changes nothing, so both calls are safe to repeat.
        body = self.http.request("POST", f"/accounts/{account_id}/{action}", idempotent=True)
        data = body.get("data") if isinstance(body, dict) else None
        return Account.model_validate(data) if data else self.get_account(account_id)

    @writes(lambda account_id, *_: account_id)
    def delete_account(self, account_id: str) -> bool:
        """True if deleted now, False if it was already gone."""
        try:
            self.http.request("DELETE", f"/accounts/{account_id}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # --- DKIM keys of a sub-account (the account_id query scopes any call to that account) ------
    def list_dkim_keys(self, account_id: str) -> list[DkimKey]:
        body = self.http.request("GET", "/brands/default/dkim", params={"account_id": account_id})
        return [DkimKey.model_validate(k) for k in body.get("data", [])]

    def get_dkim_key(self, account_id: str, key_id: str) -> Optional[DkimKey]:
        try:
            body = self.http.request("GET", f"/brands/default/dkim/{key_id}", params={"account_id": account_id})
        except ApiError as exc:
            if exc.status == 404 or (exc.status == 403 and self.get_account(account_id) is None):
                return None  # the key is gone, or its whole account is; any other 403 is a real error
            raise
        return DkimKey.model_validate(body["data"])

    def create_dkim_key(self, account_id: str, domain: str, selector: Optional[str] = None, *,
                        listed: Optional[list[DkimKey]] = None) -> DkimKey:
        """One key per domain and account: an existing key for the domain is returned, not duplicated.

        `listed`: the account's keys as the caller has just listed them, so they are not listed twice."""
        def in_keys(keys: list[DkimKey]) -> Optional[dict]:
            key = next((k for k in keys if k.domain == domain), None)
            return None if key is None else {"data": key.model_dump()}

        def find_existing() -> Optional[dict]:
            return in_keys(self.list_dkim_keys(account_id))

        existing = find_existing() if listed is None else in_keys(listed)
        if existing is not None:
            return DkimKey.model_validate(existing["data"])
        body = {"domain": domain, **({"selector": selector} if selector else {})}
        result = self.http.request("POST", "/brands/default/dkim", params={"account_id": account_id}, json=body,
                                   reconcile=find_existing)
        return DkimKey.model_validate(result["data"])

    def delete_dkim_key(self, account_id: str, key_id: str) -> bool:
        try:
            self.http.request("DELETE", f"/brands/default/dkim/{key_id}", params={"account_id": account_id})
        except ApiError as exc:
            if exc.status == 404 or (exc.status == 403 and self.get_account(account_id) is None):
                return False
            raise
        return True
