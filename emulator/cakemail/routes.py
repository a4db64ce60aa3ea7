"""Cakemail partner API emulation, mounted at /cakemail: the routes.

Implements the token endpoint, the sub-account endpoints, /accounts/self and the DKIM
keys (dkim.py) of the Cakemail OpenAPI subset with the real API's shapes: FastAPI-style error
bodies, string account ids, unix-timestamp dates, and visibility limited to the tree of the
account the call acts as.

A token belongs to a partner and acts as one account: the partner's own, or the sub-account
named by `account_id` on POST /token (a scoped token). A call sees that account and its
descendants only. `?account_id=` on any call narrows further, to one account of that tree (the
seed: "use any endpoint ... along with the account_id query parameter to access the resources of
your sub-accounts"). A token can be narrowed, never widened: a refresh keeps its scope, and
`account_id` on a refresh must be inside it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Optional

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, Field

from . import dkim
from . import store as db
from .errors import CakemailError, handle_error
from .errors import fail as _fail, json_body as _json_body, validate as _validate
from .models import (CreateAccount, CreateAccountQuery, ListAccountsQuery, PatchAccount,
                     PatchSelfAccount, TokenForm, account_full, account_summary)
from ..core.store import get_store

_ACCOUNT_ID_RE = re.compile(r"^[a-zA-Z0-9]{1,20}$")


# -- auth: tokens and the account a call acts as -------------------------------------------------
class AccountQuery(BaseModel):
    account_id: Optional[Annotated[int, Field(ge=1)]] = None


def _in_tree(account: dict[str, Any], root: dict[str, Any] | None = None) -> bool:
    """Is account `root` (default: the account this call acts as) or one of its descendants?"""
    lineage = (root or g.root)["lineage"]
    return account["lineage"] == lineage or account["lineage"].startswith(lineage + "-")


def _scoped(account_id: int | None, top: dict[str, Any], what: str) -> dict[str, Any]:
    """Account `account_id` when it is `top` or below it, else 403; `top` when account_id is None."""
    if account_id is None or account_id == top["id"]:
        return top
    account = db.get_account(get_store(), account_id)
    if account is None or not _in_tree(account, top):
        raise _fail(403, f"Account {account_id} is not accessible with {what}")
    return account


def require_auth() -> None:
    """Every route but /token needs a live bearer access token.

    Sets g.partner (the partner's credentials row) and g.root (the account this call acts as:
    ?account_id=, else the token's account).
    """
    if request.endpoint == "cakemail.token":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _fail(401, "Not authenticated")
    store = get_store()
    found = db.partner_for_token(store, token.strip(), "access")
    if found is None:
        raise _fail(401, "Could not validate credentials: the token is invalid or expired")
    own = db.get_account(store, int(found["scope_account_id"] or found["account_id"]))
    if own is None:
        raise _fail(401, "Could not validate credentials: the token's account no longer exists")
    g.partner = found
    query = _validate(AccountQuery, request.args.to_dict(), "query")
    g.root = _scoped(query.account_id, own, "this token")


def token():
    data = _validate(TokenForm, request.form.to_dict(), "body")
    store = get_store()
    if data.grant_type == "password":
        if not data.username or data.password is None:
            raise _fail(400, "username and password are required for grant_type=password",
                        ["body", "username" if not data.username else "password"])
        partner = db.authenticate(store, data.username, data.password)
        if partner is None:
            raise _fail(401, "Incorrect username or password")
        top = db.get_account(store, int(partner["account_id"]))
    else:
        if not data.refresh_token:
            raise _fail(400, "refresh_token is required for grant_type=refresh_token",
                        ["body", "refresh_token"])
        partner = db.partner_for_token(store, data.refresh_token, "refresh")
        if partner is None:
            raise _fail(401, "Invalid or expired refresh token")
        top = db.get_account(store, int(partner["scope_account_id"] or partner["account_id"]))
        if top is None:
            raise _fail(401, "Invalid refresh token: its account no longer exists")
    assert top is not None  # a partner's own account is never deleted
    account = _scoped(data.account_id, top, "these credentials")
    scope = None if account["id"] == partner["account_id"] else int(account["id"])
    ttl = int(partner["token_ttl_seconds"])
    if data.expiration_seconds is not None:
        ttl = min(ttl, data.expiration_seconds)
    access, refresh = db.issue_tokens(store, partner, ttl, scope)
    return jsonify({"access_token": access, "token_type": "bearer", "expires_in": ttl,
                    "refresh_token": refresh, "accounts": [int(account["id"])]})


# -- account lookup helpers --------------------------------------------------------------------
def _path_id(raw: str, as_int: bool) -> int:
    """Validate the path id as the spec declares it (int, or alnum string) -> int or 404."""
    if as_int:
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise CakemailError(422, {"detail": [{
                "loc": ["path", "account_id"], "type": "int_parsing",
                "msg": "Input should be a valid integer, unable to parse string as an integer"}]})
        if int(raw) < 1:
            raise CakemailError(422, {"detail": [{
                "loc": ["path", "account_id"], "type": "greater_than_equal",
                "msg": "Input should be greater than or equal to 1"}]})
    elif not _ACCOUNT_ID_RE.match(raw):
        raise CakemailError(422, {"detail": [{
            "loc": ["path", "account_id"], "type": "string_pattern_mismatch",
            "msg": "String should match pattern '^[a-zA-Z0-9]+$'"}]})
    if not raw.lstrip("+").isdigit():
        raise _fail(404, "Account not found", ["path", "account_id"])
    return int(raw)


def _load(raw_id: str, as_int: bool, allow_self: bool = True) -> dict[str, Any]:
    account = db.get_account(get_store(), _path_id(raw_id, as_int))
    if account is None or not _in_tree(account):
        raise _fail(404, "Account not found", ["path", "account_id"])
    if not allow_self and account["id"] == g.root["id"]:
        raise _fail(403, "This operation is not allowed on the account you act as "
                        "(your own partner account, or the token's or account_id's account)")
    return account


def _scope(partner_account_id: int | None) -> dict[str, Any]:
    """The partner account whose sub-accounts are listed/created (default: the one acted as).

    Only partner accounts have sub-accounts; the partner's own account always is one."""
    if partner_account_id is None or partner_account_id == g.root["id"]:
        account: dict[str, Any] | None = g.root
    else:
        account = db.get_account(get_store(), partner_account_id)
        if account is None or not _in_tree(account):
            account = None
    if account is None or not (account["partner"] or account["id"] == g.partner["account_id"]):
        shown = partner_account_id if partner_account_id is not None else g.root["id"]
        raise _fail(403, f"Account {shown} is not one of your partner accounts")
    return account


def _parse_sort(sort: str | None) -> tuple[str, bool] | None:
    if not sort:
        return None
    term = sort.lstrip("+-")
    if term not in db.SORT_COLUMNS or len(sort) - len(term) > 1:
        raise CakemailError(422, {"detail": [{"loc": ["query", "sort"], "type": "value_error",
                                              "msg": f"Invalid sort term: {sort!r}"}]})
    return term, sort.startswith("-")


def _parse_filter(text: str | None) -> list[tuple[str, str]]:
    filters = []
    for part in filter(None, (text or "").split(";")):
        term, op, value = part.partition("==")
        if not op or term.strip() not in db.FILTER_COLUMNS:
            raise CakemailError(422, {"detail": [{"loc": ["query", "filter"], "type": "value_error",
                                                  "msg": f"Invalid filter: {part!r}"}]})
        filters.append((term.strip(), value.strip()))
    return filters


# -- account routes ----------------------------------------------------------------------------
def list_accounts():
    q = _validate(ListAccountsQuery, request.args.to_dict(), "query")
    parent = _scope(q.partner_account_id)
    rows, total = db.list_accounts(get_store(), parent, q.recursive, _parse_filter(q.filter),
                                   _parse_sort(q.sort), q.page, q.per_page)
    pagination: dict[str, Any] = {"page": q.page, "per_page": q.per_page}
    if q.with_count:
        pagination["count"] = total
    return jsonify({"pagination": pagination, "data": [account_summary(r) for r in rows]})


def create_account():
    q = _validate(CreateAccountQuery, request.args.to_dict(), "query")
    data: CreateAccount = _validate(CreateAccount, _json_body(), "body")
    parent = _scope(q.partner_account_id)
    body = {
        "address": data.address.model_dump() if data.address else None,
        "fax": data.fax, "phone": data.phone, "website": data.website, "logo": None,
        "usage_limits": data.usage_limits.model_dump(exclude_none=True),
        "domains": data.domains.model_dump(exclude_none=True),
        "trial": data.trial, "metadata": {},
    }
    owner = None
    if data.account_owner is not None:  # the owner's password is deliberately not kept
        owner = data.account_owner.model_dump(exclude={"password"})
    account = db.create_account(get_store(), parent, data.name,
                                "trial" if data.trial else "active", data.partner, body, owner)
    return jsonify({"id": str(account["id"]), "object": "account",
                    "email": owner["email"] if owner else None, "data": account_full(account),
                    "metadata": None, "created": True, "warnings": []}), 201


def get_account(account_id: str):
    return jsonify({"data": account_full(_load(account_id, as_int=False))})


def _apply_patch(account: dict[str, Any], data: PatchSelfAccount) -> dict[str, Any]:
    """Write the fields a PATCH sent (PatchAccount's extra fields only when it is one)."""
    given = data.model_fields_set
    body = account["body"]
    if data.account_owner is not None:
        owner = account.get("owner")
        if owner is None or owner["id"] != data.account_owner.user_id:
            raise _fail(400, "The account owner can only be another user of this account",
                        ["body", "account_owner", "user_id"])
    if data.name is not None:
        account["name"] = data.name
    if data.address is not None:
        body["address"] = data.address.model_dump()
    for key in ("fax", "phone", "website"):
        if key in given:
            body[key] = getattr(data, key)
    if "domains" in given:
        body["domains"] = {**body.get("domains", {}),
                           **data.domains.model_dump(exclude_none=True)}
    if isinstance(data, PatchAccount):
        if "usage_limits" in given:
            body["usage_limits"] = {**body.get("usage_limits", {}),
                                    **data.usage_limits.model_dump(exclude_none=True)}
        if data.metadata is not None:
            body["metadata"] = data.metadata
        if data.partner is not None:
            account["partner"] = data.partner
        if data.trial is not None:
            body["trial"] = data.trial
            if account["status"] in ("trial", "active"):
                account["status"] = "trial" if data.trial else "active"
    return db.update_account(get_store(), account)


def patch_account(account_id: str):
    account = _load(account_id, as_int=True)
    data: PatchAccount = _validate(PatchAccount, _json_body(), "body")
    return jsonify({"data": account_full(_apply_patch(account, data)), "warnings": []})


# -- /accounts/self: the account the call acts as ----------------------------------------------
def get_self_account():
    return jsonify({"data": account_full(g.root)})


def patch_self_account():
    """PatchSelfAccount only: limits, trial, partner and metadata are the parent's to set, so
    they are ignored here, as FastAPI ignores any key its model does not declare."""
    data: PatchSelfAccount = _validate(PatchSelfAccount, _json_body(), "body")
    return jsonify({"data": account_full(_apply_patch(g.root, data)), "warnings": []})


def delete_account(account_id: str):
    account = _load(account_id, as_int=False, allow_self=False)
    db.delete_account(get_store(), account)
    return jsonify({"id": str(account["id"]), "object": "account", "deleted": True})


def suspend_account(account_id: str):
    account = _load(account_id, as_int=True, allow_self=False)
    if not account["status"].startswith("suspended"):
        account["status"] = "suspended"
        account = db.update_account(get_store(), account)
    return jsonify({"id": str(account["id"]), "object": "account", "suspended": True,
                    "data": account_summary(account)})


def unsuspend_account(account_id: str):
    account = _load(account_id, as_int=True, allow_self=False)
    if account["status"].startswith("suspended"):
        account["status"] = "trial" if account["body"].get("trial") else "active"
        account = db.update_account(get_store(), account)
    return jsonify({"id": str(account["id"]), "object": "account", "unsuspended": True,
                    "data": account_summary(account)})


_ROUTES = (  # (rule, view, method); /accounts/self before /accounts/<account_id>
    ("/token", token, "POST"),
    ("/accounts", list_accounts, "GET"), ("/accounts", create_account, "POST"),
    ("/accounts/self", get_self_account, "GET"), ("/accounts/self", patch_self_account, "PATCH"),
    ("/accounts/<account_id>", get_account, "GET"),
    ("/accounts/<account_id>", patch_account, "PATCH"),
    ("/accounts/<account_id>", delete_account, "DELETE"),
    ("/accounts/<account_id>/suspend", suspend_account, "POST"),
    ("/accounts/<account_id>/unsuspend", unsuspend_account, "POST"),
) + dkim.ROUTES


def create_blueprint() -> Blueprint:
    bp = Blueprint("cakemail", __name__, url_prefix="/cakemail")
    bp.before_request(require_auth)
    bp.register_error_handler(CakemailError, handle_error)
    for rule, view, method in _ROUTES:
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
    return bp
