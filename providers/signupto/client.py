"""Sign-Up.to PMPAPI as a partner: accounts, features and credits. The envelope and error
header are handled here; HTTP behaviour (retries, timeouts) lives in ..http."""

from __future__ import annotations

from typing import Any, Literal, Optional

import requests

from ..http import ApiError, Authenticator, HttpClient, RetryPolicy
from ..shared_reads import SharedReads
from .auth import PartnerHashAuth
from .models import Account, CreateAccount, CreditTransfer

VENDOR = "signupto"


def signupto_error_message(response: requests.Response) -> str:
    """The envelope's message, else the X-PMAPI-Error-Message header the docs promise."""
    try:
        message = response.json()["response"]["message"]
        if message:
            return str(message)
    except (ValueError, KeyError, TypeError):
        pass
    return response.headers.get("X-PMAPI-Error-Message") or response.text.strip()[:300] or response.reason


class SignupToClient:
    def __init__(self, api_url: str, authenticator: Authenticator, retry: RetryPolicy = RetryPolicy()):
        self.http = HttpClient(VENDOR, api_url, authenticator=authenticator, error_parser=signupto_error_message,
                               retry=retry, credentials=("partnerId", "partnerKey"))
        self.shared_reads = SharedReads()  # accounts, by id (a string); the API cannot write them

    @classmethod
    def as_partner(cls, api_url: str, partner_id: int | str, partner_key: str, **kwargs) -> "SignupToClient":
        return cls(api_url, PartnerHashAuth(partner_id, partner_key), **kwargs)

    def call(self, method: str, endpoint: str, *, company_id: Optional[int | str] = None,
             params: Optional[dict] = None, body: Any = None, idempotent: Optional[bool] = None,
             reconcile=None) -> Any:
        """One PMAPI call; returns the envelope's `data`. GET/DELETE take query args, POST/PUT a JSON body."""
        path = f"/v1/{endpoint}"
        envelope = self.http.request(method, path, params=params, json=body, auth_scope=company_id,
                                     idempotent=idempotent, reconcile=reconcile)
        if not isinstance(envelope, dict) or envelope.get("status") != "ok":
            message = envelope.get("response", {}).get("message") if isinstance(envelope, dict) else None
            raise ApiError(VENDOR, method.upper(), path, 200, message or f"unexpected answer: {str(envelope)[:200]}")
        return envelope["response"].get("data")

    # --- accounts -------------------------------------------------------------------------
    def list_accounts(self) -> list[Account]:
        return [Account.model_validate(a) for a in self.call("GET", "account") or []]

    def get_account(self, account_id: int | str) -> Optional[Account]:
        row = self._account_row(account_id)
        return Account.model_validate(row) if row is not None else None

    def get_account_usage(self, account_id: int | str) -> Optional[dict[str, Any]]:
        """What the account uses next to its limits (`list_count`, `user_count`, `subscriber_count`...),
        which the typed Account leaves out: the raw row; None when the account is gone."""
        row = self._account_row(account_id)
        return row if isinstance(row, dict) else None

    def _account_row(self, account_id: int | str) -> Any:
        try:
            data = self.call("GET", "account", params={"id": account_id})
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        rows = data if isinstance(data, list) else [data]
        return rows[0] if rows else None

    def get_account_shared(self, account_id: int | str, reader: str) -> Optional[Account]:
        """`get_account` for a refresh: a primed listing (the partner-level GET of every company, whose
        rows are the ones `?id=` answers) serves it without a request."""
        return self.shared_reads.get(str(account_id), reader, lambda: self.get_account(account_id))

    def prime_accounts(self, max_age: Optional[float] = None) -> int:
        """One partner-level GET of every managed company, kept as the per-pass answers; how many."""
        accounts = self.list_accounts()
        for account in accounts:
            self.shared_reads.prime(str(account.id), account, max_age)
        return len(accounts)

    def create_account(self, body: CreateAccount) -> Account:
        """Create exactly once: after an ambiguous failure, adopt the account that landed, if any."""
        known = {a.id for a in self.list_accounts()}

        def find_created() -> Optional[dict]:
            fresh = [a for a in self.list_accounts()
                     if a.id not in known and a.name == body.name and a.contactemail == body.contactemail]
            if not fresh:
                return None
            return {"status": "ok", "response": {"count": 1, "data": [max(fresh, key=lambda a: a.id).model_dump()]}}

        data = self.call("POST", "account", body=body.model_dump(exclude_none=True), reconcile=find_created)
        return Account.model_validate(data[0] if isinstance(data, list) else data)

    # --- features -------------------------------------------------------------------------
    def get_features(self, company_id: int | str) -> Optional[dict[str, Any]]:
        """The company's switches and limits, or None when the company does not exist."""
        try:
            data = self.call("GET", "accountFeatures", company_id=company_id)
        except ApiError as exc:
            # A removed company reads as "not managed" (403): gone only if the account is gone too.
            if exc.status == 404 or (exc.status == 403 and self.get_account(company_id) is None):
                return None
            raise
        return data[0] if isinstance(data, list) else data

    def update_features(self, company_id: int | str, changes: dict[str, Any]) -> dict[str, Any]:
        # A PUT of absolute values converges however often it is applied.
        data = self.call("PUT", "accountFeatures", company_id=company_id, body=changes)
        return data[0] if isinstance(data, list) else data

    # --- credits --------------------------------------------------------------------------
    def transfer_credits(self, source_account_id: int, destination_account_id: int,
                         kind: Literal["email", "sms", "inboxtest"], amount: int, note: Optional[str] = None) -> CreditTransfer:
        """Move credits between accounts (negative amount: back to the source).

        Not idempotent and not reconcilable from the API: after an ambiguous failure this raises
        AmbiguousWriteError rather than risk moving the credits twice."""
        if amount == 0:
            raise ValueError("amount must not be zero")
        body = {"sourceaccount_id": source_account_id, "destinationaccount_id": destination_account_id,
                "type": kind, "amount": amount, **({"note": note} if note else {})}
        data = self.call("POST", "creditTransfer", body=body)
        return CreditTransfer.model_validate(data[0] if isinstance(data, list) else data)
