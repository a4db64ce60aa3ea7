"""Cakemail partner API emulation, mounted at /cakemail: the routes.

Implements the token endpoint (auth.py), the sub-account endpoints, /accounts/self and the DKIM
keys (dkim.py) of the Cakemail OpenAPI subset with the real API's shapes: FastAPI-style error
bodies, string account ids, unix-timestamp dates, and visibility limited to the tree of the
account the call acts as (auth.py: the partner's own, a scoped token's, or ?account_id=).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, jsonify, request

from . import dkim
from . import store as db
from .auth import in_tree, require_auth, token
from .errors import CakemailError, fail, handle_error, invalid, json_body, validate
from .models import (CreateAccount, CreateAccountQuery, ListAccountsQuery, PatchAccount,
                     PatchSelfAccount, account_full, account_summary)
from ..core.store import get_store

_ACCOUNT_ID_RE = re.compile(r"^[a-zA-Z0-9]{1,20}$")


# -- account lookup helpers --------------------------------------------------------------------
def _path_id(raw: str, as_int: bool) -> int:
    """Validate the path id as the spec declares it (int, or alnum string) -> int or 404."""
    loc = ["path", "account_id"]
    if as_int:
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise invalid(loc, "int_parsing",
                          "Input should be a valid integer, unable to parse string as an integer")
        if int(raw) < 1:
            raise invalid(loc, "greater_than_equal", "Input should be greater than or equal to 1")
    elif not _ACCOUNT_ID_RE.match(raw):
        raise invalid(loc, "string_pattern_mismatch",
                      "String should match pattern '^[a-zA-Z0-9]+$'")
    if not raw.lstrip("+").isdigit():
        raise fail(404, "Account not found", loc)
    return int(raw)


def _load(raw_id: str, as_int: bool, allow_self: bool = True) -> dict[str, Any]:
    account = db.get_account(get_store(), _path_id(raw_id, as_int))
    if account is None or not in_tree(account):
        raise fail(404, "Account not found", ["path", "account_id"])
    if not allow_self and account["id"] == g.root["id"]:
        raise fail(403, "This operation is not allowed on the account you act as "
                        "(your own partner account, or the token's or account_id's account)")
    return account


def _scope(partner_account_id: int | None) -> dict[str, Any]:
    """The partner account whose sub-accounts are listed/created (default: the one acted as).

    Only partner accounts have sub-accounts; the partner's own account always is one."""
    if partner_account_id is None or partner_account_id == g.root["id"]:
        account: dict[str, Any] | None = g.root
    else:
        account = db.get_account(get_store(), partner_account_id)
        if account is None or not in_tree(account):
            account = None
    if account is None or not (account["partner"] or account["id"] == g.partner["account_id"]):
        shown = partner_account_id if partner_account_id is not None else g.root["id"]
        raise fail(403, f"Account {shown} is not one of your partner accounts")
    return account


def _parse_sort(sort: str | None) -> tuple[str, bool] | None:
    if not sort:
        return None
    term = sort.lstrip("+-")
    if term not in db.SORT_COLUMNS or len(sort) - len(term) > 1:
        raise invalid(["query", "sort"], "value_error", f"Invalid sort term: {sort!r}")
    return term, sort.startswith("-")


def _parse_filter(text: str | None) -> list[tuple[str, str]]:
    filters = []
    for part in filter(None, (text or "").split(";")):
        term, op, value = part.partition("==")
        if not op or term.strip() not in db.FILTER_COLUMNS:
            raise invalid(["query", "filter"], "value_error", f"Invalid filter: {part!r}")
        filters.append((term.strip(), value.strip()))
    return filters


# -- account routes ----------------------------------------------------------------------------
def list_accounts():
    q = validate(ListAccountsQuery, request.args.to_dict(), "query")
    parent = _scope(q.partner_account_id)
    rows, total = db.list_accounts(get_store(), parent, q.recursive, _parse_filter(q.filter),
                                   _parse_sort(q.sort), q.page, q.per_page)
    pagination: dict[str, Any] = {"page": q.page, "per_page": q.per_page}
    if q.with_count:
        pagination["count"] = total
    return jsonify({"pagination": pagination, "data": [account_summary(r) for r in rows]})


def create_account():
    q = validate(CreateAccountQuery, request.args.to_dict(), "query")
    data: CreateAccount = validate(CreateAccount, json_body(), "body")
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
            raise fail(400, "The account owner can only be another user of this account",
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
    data: PatchAccount = validate(PatchAccount, json_body(), "body")
    return jsonify({"data": account_full(_apply_patch(account, data)), "warnings": []})


# -- /accounts/self: the account the call acts as ----------------------------------------------
def get_self_account():
    return jsonify({"data": account_full(g.root)})


def patch_self_account():
    """PatchSelfAccount only: limits, trial, partner and metadata are the parent's to set, so
    they are ignored here, as FastAPI ignores any key its model does not declare."""
    data: PatchSelfAccount = validate(PatchSelfAccount, json_body(), "body")
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
