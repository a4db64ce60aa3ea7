"""Cakemail tokens (POST /token) and the account a call acts as.

A token belongs to a partner and acts as one account: the partner's own, or the sub-account
named by `account_id` on POST /token (a scoped token). A call sees that account and its
descendants only. `?account_id=` on any call narrows further, to one account of that tree (the
seed: "use any endpoint ... along with the account_id query parameter to access the resources of
your sub-accounts"). A token can be narrowed, never widened: a refresh keeps its scope, and
`account_id` on a refresh must be inside it.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from flask import g, jsonify, request
from pydantic import BaseModel, Field

from . import store as db
from .errors import fail, validate
from .models import TokenForm
from ..core.store import get_store


class AccountQuery(BaseModel):
    account_id: Optional[Annotated[int, Field(ge=1)]] = None


def in_tree(account: dict[str, Any], root: dict[str, Any] | None = None) -> bool:
    """Is account `root` (default: the account this call acts as) or one of its descendants?"""
    lineage = (root or g.root)["lineage"]
    return account["lineage"] == lineage or account["lineage"].startswith(lineage + "-")


def _scoped(account_id: int | None, top: dict[str, Any], what: str) -> dict[str, Any]:
    """Account `account_id` when it is `top` or below it, else 403; `top` when account_id is None."""
    if account_id is None or account_id == top["id"]:
        return top
    account = db.get_account(get_store(), account_id)
    if account is None or not in_tree(account, top):
        raise fail(403, f"Account {account_id} is not accessible with {what}")
    return account


def require_auth() -> None:
    """Every route but /token needs a live bearer access token.

    Sets g.partner (the partner's credentials row), g.token_account (the account the token acts
    as) and g.root (the account this call acts as: ?account_id= or the token's account).
    """
    if request.endpoint == "cakemail.token":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise fail(401, "Not authenticated")
    store = get_store()
    found = db.partner_for_token(store, token.strip(), "access")
    if found is None:
        raise fail(401, "Could not validate credentials: the token is invalid or expired")
    own = db.get_account(store, int(found["scope_account_id"] or found["account_id"]))
    if own is None:
        raise fail(401, "Could not validate credentials: the token's account no longer exists")
    g.partner, g.token_account = found, own
    query = validate(AccountQuery, request.args.to_dict(), "query")
    g.root = _scoped(query.account_id, own, "this token")


def token():
    data = validate(TokenForm, request.form.to_dict(), "body")
    store = get_store()
    if data.grant_type == "password":
        if not data.username or data.password is None:
            raise fail(400, "username and password are required for grant_type=password",
                       ["body", "username" if not data.username else "password"])
        partner = db.authenticate(store, data.username, data.password)
        if partner is None:
            raise fail(401, "Incorrect username or password")
        top = db.get_account(store, int(partner["account_id"]))
    else:
        if not data.refresh_token:
            raise fail(400, "refresh_token is required for grant_type=refresh_token",
                       ["body", "refresh_token"])
        partner = db.partner_for_token(store, data.refresh_token, "refresh")
        if partner is None:
            raise fail(401, "Invalid or expired refresh token")
        top = db.get_account(store, int(partner["scope_account_id"] or partner["account_id"]))
        if top is None:
            raise fail(401, "Invalid refresh token: its account no longer exists")
    assert top is not None  # a partner's own account is never deleted
    account = _scoped(data.account_id, top, "these credentials")
    scope = None if account["id"] == partner["account_id"] else int(account["id"])
    ttl = int(partner["token_ttl_seconds"])
    if data.expiration_seconds is not None:
        ttl = min(ttl, data.expiration_seconds)
    access, refresh = db.issue_tokens(store, partner, ttl, scope)
    return jsonify({"access_token": access, "token_type": "bearer", "expires_in": ttl,
                    "refresh_token": refresh, "accounts": [int(account["id"])]})
