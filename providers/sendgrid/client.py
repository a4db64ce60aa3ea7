"""Twilio SendGrid v3: a parent account's subusers, their credits and IPs, and authenticated domains.

Vendor quirks live here, HTTP behaviour in ..http:
- Bearer API key; a domain call for a subuser carries `on-behalf-of: <username>` (the HTTP core's
  `auth_scope`), and then belongs to, and is seen only in, that subuser's scope.
- Errors are {"errors": [{"field", "message"}]}; they become the core's ApiError with those words.
- There is no GET of one subuser: a subuser is found by filtering the list (a search, so the client
  compares usernames exactly). Usernames are unique across SendGrid, so a create whose answer was
  lost is recognised by its username; a username taken before the create is SubuserExists, never
  adopted silently. Domains may be authenticated twice under one name, so a domain create is
  recognised only by an id that was not there before it.
- A call on behalf of a subuser that no longer exists is refused like a bad credential (401): the
  client checks the subuser, and reports it gone (reads: None, deletes: False) or SubuserNotFound.
- The subuser password is sent once, in the create's body; it never reaches a log line or an error.
- Rate limits (the v3 reference's "Rate Limits" page): every answer announces `X-RateLimit-Limit`,
  `-Remaining` and `-Reset` (a Unix time), per user and endpoint per refresh period (600 a minute
  is the announced default); an exhausted limit is a 429 without Retry-After. RATE_LIMIT says so to
  the HTTP core, whose pacer (providers/rate_limits.py) holds this API key's requests to it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterator, Optional

import requests

from ..http import ApiError, HttpClient, RetryPolicy
from ..rate_limits import RateLimitHeaders, shared_pacer
from ..shared_reads import SharedReads, writes
from . import DEFAULT_API_URL
from .models import (AuthenticatedDomain, CreateDomain, CreatedSubuser, CreateSubuser, CreditsRequest, DomainValidation,
                     PatchDomain, Subuser, SubuserCredits)

VENDOR = "sendgrid"
PAGE_SIZE = 100  # well under the API's page cap, so a short page always means the last one
USERNAME_TAKEN = "username exists"
_NAMED = re.compile(r"^(/v3/subusers|/v3/whitelabel/domains)/[^/]+")


def rate_limit_endpoint(method: str, path: str) -> str:
    """What SendGrid counts a request against: its method and route, the subuser's name or the
    domain's id left out (`GET /v3/subusers/{}/credits` for every subuser)."""
    return f"{method} {_NAMED.sub(lambda m: m.group(1) + '/{}', path)}"


RATE_LIMIT = RateLimitHeaders(limit="X-RateLimit-Limit", remaining="X-RateLimit-Remaining",
                              reset="X-RateLimit-Reset", period=60.0, endpoint=rate_limit_endpoint)

__all__ = ["DEFAULT_API_URL", "SendGridClient", "SubuserExists", "SubuserNotFound", "sendgrid_error_message"]


class SubuserExists(Exception):
    """The username is taken: by `existing`, a subuser of this parent, or (None) elsewhere on SendGrid."""

    def __init__(self, username: str, existing: Optional[Subuser]):
        self.username, self.existing = username, existing
        where = f"as subuser id {existing.id} of this account" if existing else "on SendGrid, outside this account"
        super().__init__(f"the SendGrid username {username!r} is already taken {where}")


GONE = object()  # what _scoped_unless_gone answers for an object that no longer exists


class SubuserNotFound(ApiError):
    """The subuser a call names (in its path or its on-behalf-of header) does not exist."""


class BearerAuth:
    """`Authorization: Bearer <API key>`, and `on-behalf-of` when a call is scoped to a subuser."""

    def __init__(self, api_key: str):
        self._authorization = f"Bearer {api_key}"

    def headers(self, method: str, path: str, scope: Optional[str] = None) -> dict[str, str]:
        headers = {"Authorization": self._authorization}
        if scope:
            headers["on-behalf-of"] = scope
        return headers

    def refresh_after_unauthorized(self) -> bool:
        return False  # an API key does not expire on its own: a 401 is final

    def __repr__(self) -> str:
        return "BearerAuth(api_key=[secret])"


def sendgrid_error_message(response: requests.Response) -> str:
    """{"errors": [{"field": "type", "message": "..."}]} -> "type: ..." (each error, joined by '; ')."""
    try:
        found = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text.strip()[:300] or response.reason
    if not isinstance(found, list) or not found:
        return response.text.strip()[:300] or response.reason
    parts = []
    for item in found:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        field, message = item.get("field"), str(item.get("message") or "error")
        parts.append(f"{field}: {message}" if field and not message.startswith(str(field)) else message)
    return "; ".join(parts)


def _subuser_key(username: str, *_: Any, **__: Any) -> tuple[str, str]:
    return ("subuser", username)


class SendGridClient:
    def __init__(self, api_url: str, api_key: str, retry: RetryPolicy = RetryPolicy()):
        # The key's user is who SendGrid counts requests for: one pacer per key (its fingerprint, never the key).
        pacer = shared_pacer(VENDOR, api_url, hashlib.sha256(api_key.encode()).hexdigest(), RATE_LIMIT)
        self.http = HttpClient(VENDOR, api_url, authenticator=BearerAuth(api_key),
                               error_parser=sendgrid_error_message, retry=retry, pacer=pacer)
        self.shared_reads = SharedReads()  # subusers, by username

    # --- subusers --------------------------------------------------------------------------------
    def iter_subusers(self, username: Optional[str] = None, *, page_size: int = PAGE_SIZE) -> Iterator[Subuser]:
        """Every subuser of the parent (or those the `username` search matches), page by page."""
        params: dict[str, Any] = {"username": username} if username else {}
        yield from (Subuser.model_validate(s) for s in self._pages("/v3/subusers", params, page_size))

    def list_subusers(self) -> list[Subuser]:
        return list(self.iter_subusers())

    def find_subuser(self, username: str) -> Optional[Subuser]:
        """The parent's subuser of exactly that username, or None."""
        return next((s for s in self.iter_subusers(username) if s.username == username), None)

    def find_subuser_shared(self, username: str, reader: str) -> Optional[Subuser]:
        """`find_subuser` for a refresh: one listing serves every resource kind reading this subuser in a pass."""
        return self.shared_reads.get(_subuser_key(username), reader, lambda: self.find_subuser(username))

    def prime_subusers(self, max_age: Optional[float] = None) -> int:
        """Every subuser, listed page by page, kept as the per-pass answers of `find_subuser_shared`; how many."""
        count = 0
        for subuser in self.iter_subusers():
            self.shared_reads.prime(_subuser_key(subuser.username), subuser, max_age)
            count += 1
        return count

    @writes(lambda body, *_, **__: _subuser_key(body.username))
    def create_subuser(self, body: CreateSubuser) -> Subuser:
        """Create exactly once. SubuserExists when the username is taken already (never adopted here:
        whether an existing subuser is this resource's is the caller's decision)."""
        existing = self.find_subuser(body.username)
        if existing is not None:
            raise SubuserExists(body.username, existing)

        def find_created() -> Optional[dict]:
            landed = self.find_subuser(body.username)  # none existed before, so one now is ours
            return None if landed is None else {"username": landed.username, "user_id": landed.id,
                                                 "email": landed.email, "region": landed.region}

        secret = body.password.get_secret_value()
        try:
            answer = self.http.request("POST", "/v3/subusers", json=body.request_body(), reconcile=find_created)
        except ApiError as exc:
            if exc.status == 400 and USERNAME_TAKEN in exc.vendor_message:  # taken outside this account
                raise SubuserExists(body.username, self.find_subuser(body.username)) from None
            raise without_secret(exc, secret) from None
        return CreatedSubuser.model_validate(answer).subuser()

    @writes(_subuser_key)
    def set_disabled(self, username: str, disabled: bool) -> None:
        """PATCH `disabled` (an absolute value: safe to repeat). SubuserNotFound if there is no such subuser."""
        self._on_subuser(username, "PATCH", f"/v3/subusers/{username}", json={"disabled": disabled}, idempotent=True)

    @writes(_subuser_key)
    def set_ips(self, username: str, ips: list[str]) -> list[str]:
        """Replace the subuser's IPs (the API cannot read them back: the answer is all there is)."""
        answer = self._on_subuser(username, "PUT", f"/v3/subusers/{username}/ips", json=list(ips))
        return list((answer or {}).get("ips", ips))

    @writes(_subuser_key)
    def delete_subuser(self, username: str) -> bool:
        """True if deleted now, False if it was already gone (its domains go with it)."""
        try:
            self._on_subuser(username, "DELETE", f"/v3/subusers/{username}")
        except SubuserNotFound:
            return False
        return True

    # --- credits -----------------------------------------------------------------------------------
    def get_credits(self, username: str) -> Optional[SubuserCredits]:
        """The subuser's credits, or None when the subuser does not exist."""
        try:
            answer = self._on_subuser(username, "GET", f"/v3/subusers/{username}/credits")
        except SubuserNotFound:
            return None
        return SubuserCredits.model_validate(answer)

    def set_credits(self, username: str, credits: CreditsRequest) -> SubuserCredits:
        """Set the allocation (a PUT of absolute values: safe to repeat); SubuserNotFound if there is none."""
        answer = self._on_subuser(username, "PUT", f"/v3/subusers/{username}/credits", json=credits.request_body())
        return SubuserCredits.model_validate(answer)

    # --- authenticated domains (on_behalf_of: the subuser that owns them; None: the parent's own) ---
    def iter_domains(self, on_behalf_of: Optional[str] = None, *, domain: Optional[str] = None,
                     exclude_subusers: bool = False, page_size: int = PAGE_SIZE) -> Iterator[AuthenticatedDomain]:
        """The scope's domains. A parent's listing also shows its subusers' (unless `exclude_subusers`);
        `domain` is a search, not an exact match."""
        params: dict[str, Any] = {"domain": domain} if domain else {}
        if exclude_subusers:
            params["exclude_subusers"] = "true"
        pages = self._pages("/v3/whitelabel/domains", params, page_size, on_behalf_of)
        yield from (AuthenticatedDomain.model_validate(d) for d in pages)

    def find_domains(self, name: str, on_behalf_of: Optional[str] = None,
                     subdomain: Optional[str] = None) -> list[AuthenticatedDomain]:
        """The scope's own domains of exactly that name (and subdomain, if given), oldest first."""
        return [d for d in self.iter_domains(on_behalf_of, domain=name, exclude_subusers=on_behalf_of is None)
                if d.domain == name.lower() and (subdomain is None or d.subdomain == subdomain.lower())
                and (on_behalf_of is None or d.username == on_behalf_of)]

    def get_domain(self, domain_id: int, on_behalf_of: Optional[str] = None) -> Optional[AuthenticatedDomain]:
        """The domain, or None when it (or the subuser it belonged to) is gone."""
        answer = self._scoped_unless_gone("GET", f"/v3/whitelabel/domains/{domain_id}", on_behalf_of)
        return None if answer is GONE else AuthenticatedDomain.model_validate(answer)

    def create_domain(self, body: CreateDomain, on_behalf_of: Optional[str] = None, *,
                      known_ids: Optional[set[int]] = None) -> AuthenticatedDomain:
        """Authenticate a domain exactly once. The API accepts the same name twice, so after an
        ambiguous failure only a domain of that name whose id was not there before is taken for ours.
        `known_ids`: the ids of the scope's domains of that name, as the caller has just listed them."""
        subdomain = body.subdomain
        if known_ids is None:
            known_ids = {d.id for d in self.find_domains(body.domain, on_behalf_of, subdomain)}

        def find_created() -> Optional[dict]:
            fresh = [d for d in self.find_domains(body.domain, on_behalf_of, subdomain) if d.id not in known_ids]
            return None if not fresh else max(fresh, key=lambda d: d.id).model_dump()

        answer = self._scoped("POST", "/v3/whitelabel/domains", on_behalf_of, json=body.request_body(),
                              reconcile=find_created)
        return AuthenticatedDomain.model_validate(answer)

    def update_domain(self, domain_id: int, patch: PatchDomain,
                      on_behalf_of: Optional[str] = None) -> AuthenticatedDomain:
        # Absolute values: a PATCH repeated after a lost answer converges.
        answer = self._scoped("PATCH", f"/v3/whitelabel/domains/{domain_id}", on_behalf_of,
                              json=patch.request_body(), idempotent=True)
        if isinstance(answer, list):  # the spec declares a list (of the one domain); an object is taken too
            answer = answer[0] if answer else None
        if isinstance(answer, dict):
            return AuthenticatedDomain.model_validate(answer)
        found = self.get_domain(domain_id, on_behalf_of)  # an empty answer: read what the PATCH left
        if found is None:
            raise ApiError(VENDOR, "PATCH", f"/v3/whitelabel/domains/{domain_id}", None,
                           "the answer was empty and the domain is no longer there")
        return found

    def validate_domain(self, domain_id: int, on_behalf_of: Optional[str] = None) -> Optional[DomainValidation]:
        """Ask SendGrid to check the domain's DNS records now; the answer says which failed and why
        (None when the domain, or the subuser it belonged to, is gone)."""
        # Checking again changes nothing but the check's time: safe to repeat.
        answer = self._scoped_unless_gone("POST", f"/v3/whitelabel/domains/{domain_id}/validate", on_behalf_of,
                                          idempotent=True)
        return None if answer is GONE else DomainValidation.model_validate(answer)

    def delete_domain(self, domain_id: int, on_behalf_of: Optional[str] = None) -> bool:
        """True if deleted now, False if it (or its subuser) was already gone."""
        return self._scoped_unless_gone("DELETE", f"/v3/whitelabel/domains/{domain_id}", on_behalf_of) is not GONE

    # --- helpers ------------------------------------------------------------------------------------
    def _pages(self, path: str, params: dict[str, Any], page_size: int,
               on_behalf_of: Optional[str] = None) -> Iterator[dict]:
        offset = 0
        while True:
            page = self._scoped("GET", path, on_behalf_of, params={**params, "limit": page_size, "offset": offset})
            if not isinstance(page, list):
                raise ApiError(VENDOR, "GET", path, 200, f"expected a list, got: {str(page)[:200]}")
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def _scoped_unless_gone(self, method: str, path: str, on_behalf_of: Optional[str], **kwargs: Any) -> Any:
        """`_scoped`, answering GONE when the domain (404) or the subuser it belonged to no longer exists."""
        try:
            return self._scoped(method, path, on_behalf_of, **kwargs)
        except SubuserNotFound:
            return GONE
        except ApiError as exc:
            if exc.status == 404:
                return GONE
            raise

    def _scoped(self, method: str, path: str, on_behalf_of: Optional[str], **kwargs: Any) -> Any:
        """A call as the parent or, with `on_behalf_of`, as that subuser. A refusal of the subuser's
        scope is checked: when the subuser does not exist the call fails as SubuserNotFound."""
        try:
            return self.http.request(method, path, auth_scope=on_behalf_of, **kwargs)
        except ApiError as exc:
            if on_behalf_of and exc.status in (401, 403) and self.find_subuser(on_behalf_of) is None:
                raise SubuserNotFound(VENDOR, method, path, exc.status,
                                      f"subuser {on_behalf_of!r} (named by on-behalf-of) does not exist") from None
            raise

    def _on_subuser(self, username: str, method: str, path: str, **kwargs: Any) -> Any:
        """A /v3/subusers/{name} call. The API words an unknown name differently per route (400
        "invalid username", 400 "No user found", 404), so a 400 or 404 is checked against the list."""
        try:
            return self.http.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status in (400, 404) and self.find_subuser(username) is None:
                raise SubuserNotFound(VENDOR, method, path, exc.status,
                                      f"subuser {username!r} does not exist ({exc.vendor_message})") from None
            raise


def without_secret(exc: ApiError, secret: str) -> ApiError:
    """The same error with `secret` cut out of the vendor's words (should a vendor ever echo it)."""
    if not secret or secret not in exc.vendor_message:
        return exc
    return type(exc)(exc.vendor, exc.method, exc.path, exc.status, exc.vendor_message.replace(secret, "[secret]"))
