"""Cakemail partner API emulation, mounted at /cakemail.

Implements the token endpoint and the sub-account endpoints of the Cakemail OpenAPI subset with
the real API's shapes: FastAPI-style error bodies, string account ids, unix-timestamp dates, and
visibility limited to the calling partner's own account tree.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from . import cakemail_store as db
from .models_cakemail import (CreateAccount, CreateAccountQuery, ListAccountsQuery, PatchAccount,
                              TokenForm, account_full, account_summary, validation_detail)
from .store import get_store

_ACCOUNT_ID_RE = re.compile(r"^[a-zA-Z0-9]{1,20}$")


class CakemailError(Exception):
    """Raised anywhere in a view; turned into the vendor-shaped JSON response."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def error_body(status: int, message: str, loc: list | None = None) -> tuple[Any, dict[str, str]]:
    """The spec's error shape for a status: code/msg/type for 401/403, loc/msg/type otherwise."""
    if status == 401:
        return ({"detail": [{"code": 401, "msg": message, "type": "unauthorized"}]},
                {"WWW-Authenticate": "Bearer"})
    if status == 403:
        return {"detail": [{"code": 403, "msg": message, "type": "forbidden"}]}, {}
    kind = {400: "bad_request", 422: "value_error"}.get(status)
    if kind is None:
        try:
            kind = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            kind = "error"
    return {"detail": [{"loc": loc or [], "msg": message, "type": kind}]}, {}


def _fail(status: int, message: str, loc: list | None = None) -> CakemailError:
    body, headers = error_body(status, message, loc)
    return CakemailError(status, body, headers)


def _validate(model: type[BaseModel], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CakemailError(422, {"detail": validation_detail(exc, where)}) from None


def _json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise CakemailError(422, {"detail": [
            {"loc": ["body"], "msg": "Field required", "type": "missing"}]})
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise CakemailError(422, {"detail": [
            {"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]})
    return body


# -- auth --------------------------------------------------------------------------------------
def _require_auth() -> None:
    """Every route but /token needs a live bearer access token; sets g.partner and g.root."""
    if request.endpoint == "cakemail.token":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _fail(401, "Not authenticated")
    store = get_store()
    partner = db.partner_for_token(store, token.strip(), "access")
    if partner is None:
        raise _fail(401, "Could not validate credentials: the token is invalid or expired")
    g.partner = partner
    g.root = db.get_account(store, int(partner["account_id"]))


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
    else:
        if not data.refresh_token:
            raise _fail(400, "refresh_token is required for grant_type=refresh_token",
                        ["body", "refresh_token"])
        partner = db.partner_for_token(store, data.refresh_token, "refresh")
        if partner is None:
            raise _fail(401, "Invalid or expired refresh token")
    ttl = int(partner["token_ttl_seconds"])
    if data.expiration_seconds is not None:
        ttl = min(ttl, data.expiration_seconds)
    access, refresh = db.issue_tokens(store, partner, ttl)
    return jsonify({"access_token": access, "token_type": "bearer", "expires_in": ttl,
                    "refresh_token": refresh, "accounts": [int(partner["account_id"])]})


# -- account lookup helpers --------------------------------------------------------------------
def _in_tree(account: dict[str, Any]) -> bool:
    root = g.root["lineage"]
    return account["lineage"] == root or account["lineage"].startswith(root + "-")


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
        raise _fail(403, "This operation is not allowed on your own partner account")
    return account


def _scope(partner_account_id: int | None) -> dict[str, Any]:
    """The partner account whose sub-accounts are listed/created (default: the caller's own)."""
    if partner_account_id is None or partner_account_id == g.root["id"]:
        return g.root
    account = db.get_account(get_store(), partner_account_id)
    if account is None or not _in_tree(account) or not account["partner"]:
        raise _fail(403, f"Account {partner_account_id} is not one of your partner accounts")
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


def patch_account(account_id: str):
    account = _load(account_id, as_int=True)
    data: PatchAccount = _validate(PatchAccount, _json_body(), "body")
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
    if "usage_limits" in given:
        body["usage_limits"] = {**body.get("usage_limits", {}),
                                **data.usage_limits.model_dump(exclude_none=True)}
    if "domains" in given:
        body["domains"] = {**body.get("domains", {}),
                           **data.domains.model_dump(exclude_none=True)}
    if data.metadata is not None:
        body["metadata"] = data.metadata
    if data.partner is not None:
        account["partner"] = data.partner
    if data.trial is not None:
        body["trial"] = data.trial
        if account["status"] in ("trial", "active"):
            account["status"] = "trial" if data.trial else "active"
    account = db.update_account(get_store(), account)
    return jsonify({"data": account_full(account), "warnings": []})


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


def _handle_error(exc: CakemailError):
    return jsonify(exc.body), exc.status, exc.headers


def create_blueprint() -> Blueprint:
    bp = Blueprint("cakemail", __name__, url_prefix="/cakemail")
    bp.before_request(_require_auth)
    bp.register_error_handler(CakemailError, _handle_error)
    bp.add_url_rule("/token", "token", token, methods=["POST"])
    bp.add_url_rule("/accounts", "list_accounts", list_accounts, methods=["GET"])
    bp.add_url_rule("/accounts", "create_account", create_account, methods=["POST"])
    bp.add_url_rule("/accounts/<account_id>", "get_account", get_account, methods=["GET"])
    bp.add_url_rule("/accounts/<account_id>", "patch_account", patch_account, methods=["PATCH"])
    bp.add_url_rule("/accounts/<account_id>", "delete_account", delete_account,
                    methods=["DELETE"])
    bp.add_url_rule("/accounts/<account_id>/suspend", "suspend_account", suspend_account,
                    methods=["POST"])
    bp.add_url_rule("/accounts/<account_id>/unsuspend", "unsuspend_account", unsuspend_account,
                    methods=["POST"])
    from .cakemail_dkim import add_routes  # imported here: cakemail_dkim builds on this module

    add_routes(bp)
    return bp

