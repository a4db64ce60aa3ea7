"""Sign-Up.to PMAPI / partner PMPAPI v1.2 emulation, mounted at /signupto.

The client's apiUrl is http://HOST:PORT/signupto, so /signupto/v1/<endpoint> here is
/v1/<endpoint> at api.sign-up.to, and that (no query string) is the path that gets signed.
Answers use the PMAPI envelope; every error also carries X-PMAPI-Error-Message, as the seed
promises. Which auth level may do what on /account and /accountFeatures follows the seed's tables;
company-level means SuTHash or SuTToken alike (auth.py), and /v1/token hands out those tokens.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from . import store as db
from .auth import AuthError, Caller, authenticate
from .errors import SignuptoError, error_body
from .models import (DEPENDENT_SWITCHES, LIMITS, READ_ONLY, AccountCreate, CreditTransferCreate,
                     FeaturesUpdate, TokenCreate, describe)
from ..core.store import get_store

PREFIX = "/signupto"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
HIGHER_LEVEL = "Operation requires a higher authentication level"
NEEDS_COMPANY = "Operation requires a company ID"


def _ok(data: Any, count: Optional[int] = None):
    if count is None:
        count = len(data) if isinstance(data, list) else 1
    return jsonify({"status": "ok", "response": {"count": count, "next": None, "data": data}})


def _not_allowed(allow: str) -> SignuptoError:
    return SignuptoError(405, "Method Not Allowed", {"Allow": allow})


def _method() -> str:
    return "GET" if request.method == "HEAD" else request.method


def _caller() -> Caller:
    return g.signupto_caller


def _body(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SignuptoError(400, describe(exc)) from None


def _json_object() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True) if request.get_data(cache=True).strip() else {}
    if not isinstance(body, dict):
        raise SignuptoError(400, "Request body must be a JSON object")
    return body


# -- auth and scoping --------------------------------------------------------------------------
def _require_auth() -> None:
    if request.endpoint in ("signupto.unknown", "signupto.token"):
        return  # 404s need no credentials; /v1/token is how a user gets some
    signed_path = request.path  # the path the client requested, as it signed it (prefix and all)
    try:
        g.signupto_caller = authenticate(get_store(), request.method, signed_path, request.headers)
    except AuthError as exc:
        raise SignuptoError(exc.status, exc.message) from None


def _company() -> dict[str, Any]:
    """The company the call acts on: the CID a partner manages, or the company-level caller's own."""
    caller, store = _caller(), get_store()
    if caller.company_id is None:
        raise SignuptoError(401, NEEDS_COMPANY)
    account = db.get_account(store, caller.company_id)
    if caller.level == "partner":
        if account is None or account["partner_id"] != caller.partner_id:
            raise SignuptoError(403, f"Company {caller.company_id} is not managed by this partner")
        if caller.user_id is not None and db.get_user(store, caller.company_id, caller.user_id) is None:
            raise SignuptoError(401, f"Unknown user {caller.user_id} for company {caller.company_id}")
    assert account is not None  # a company user only exists for an existing company
    return account


def _partner_only() -> Caller:
    caller = _caller()
    if caller.level != "partner":
        raise SignuptoError(401, HIGHER_LEVEL)
    return caller


# -- views -------------------------------------------------------------------------------------
def account_view(account: dict[str, Any]) -> dict[str, Any]:
    features = db.get_features(get_store(), account["id"])
    return {
        "id": account["id"], "name": account["name"], "address": account["address"],
        "country": account["country"], "telephone": account["telephone"],
        "website": account["website"], "contactemail": account["contactemail"],
        "timezone": account["timezone"], **{k: features[k] for k in LIMITS},
        "emailcreditbalance": account["emailcreditbalance"],
        "smscreditbalance": account["smscreditbalance"],
        "inboxtestcreditbalance": account["inboxtestcreditbalance"],
        "list_count": 0, "user_count": 0, "subscriber_count": 0, "folder_count": 0,
        "cdate": float(account["cdate"]), "mdate": float(account["mdate"]),
    }


def features_view(account: dict[str, Any]) -> dict[str, Any]:
    features = db.get_features(get_store(), account["id"])
    return {"id": account["id"], **features, "cdate": float(features["cdate"]),
            "mdate": float(features["mdate"])}


def account():
    if _method() not in ("GET", "POST"):
        raise _not_allowed("GET, POST")
    if _method() == "POST":
        return create_account()
    caller, store = _caller(), get_store()
    raw_id = request.args.get("id")
    wanted = None
    if raw_id is not None:
        if not raw_id.strip().isdigit():
            raise SignuptoError(400, "Invalid value for id: must be an integer")
        wanted = int(raw_id)
    if caller.level == "partner" and caller.company_id is None:
        rows = db.managed_accounts(store, caller.partner_id)  # type: ignore[arg-type]
    else:
        rows = [_company()]
    if wanted is not None:
        rows = [r for r in rows if r["id"] == wanted]
        if not rows:
            raise SignuptoError(404, "No matching account")
    return _ok([account_view(r) for r in rows])


def create_account():
    caller = _partner_only()  # a CID header is ignored: a new account has no company yet
    body = _json_object()
    if "id" in body:
        raise SignuptoError(400, "POST requests cannot include an id")
    data: AccountCreate = _body(AccountCreate, body)
    created = db.create_account(get_store(), caller.partner_id, data.model_dump())  # type: ignore[arg-type]
    return _ok(account_view(created), 1)


def account_features():
    if _method() not in ("GET", "PUT"):
        raise _not_allowed("GET, PUT")
    if _method() == "GET":
        return _ok(features_view(_company()), 1)
    if _caller().level != "partner":
        raise _not_allowed("GET, PUT")  # read-only with company-level auth
    company = _company()
    body = _json_object()
    for key in READ_ONLY:
        if key in body:
            raise SignuptoError(400, f"Field {key} is read-only")
    if "id" in body and (isinstance(body["id"], bool) or body["id"] != company["id"]):
        raise SignuptoError(400, f"id must be the company ID ({company['id']}) or left out")
    data: FeaturesUpdate = _body(FeaturesUpdate, body)
    given = {k: getattr(data, k) for k in data.model_fields_set if k != "id"}

    def merge(current: dict[str, Any]) -> dict[str, Any]:
        merged = {**current, **given}
        for child, parent in DEPENDENT_SWITCHES.items():
            if merged[parent] is not True:
                if merged[child] is True and child in given:
                    raise SignuptoError(400, f"{child} can only be enabled when {parent} is enabled")
                merged[child] = None  # meaningless while the parent is off
        return merged

    db.update_features(get_store(), company["id"], merge)
    return _ok(features_view(company), 1)


def _transfer_party(account_id: int, caller: Caller, own_account_id: int) -> None:
    account = db.get_account(get_store(), account_id)
    if account is None:
        raise SignuptoError(404, f"No matching account {account_id}")
    if account_id != own_account_id and account["partner_id"] != caller.partner_id:
        raise SignuptoError(403, f"Account {account_id} is not managed by this partner")


def credit_transfer():
    if request.method != "POST":
        raise _not_allowed("POST")
    caller = _partner_only()
    data: CreditTransferCreate = _body(CreditTransferCreate, _json_object())
    if data.amount == 0:
        raise SignuptoError(400, "Invalid value for amount: must not be zero")
    if data.sourceaccount_id == data.destinationaccount_id:
        raise SignuptoError(400, "sourceaccount_id and destinationaccount_id must differ")
    own = db.get_partner(get_store(), caller.partner_id)["account_id"]  # type: ignore[index,arg-type]
    _transfer_party(data.sourceaccount_id, caller, own)
    _transfer_party(data.destinationaccount_id, caller, own)
    try:
        row = db.transfer(get_store(), caller.partner_id, data.sourceaccount_id,  # type: ignore[arg-type]
                          data.destinationaccount_id, data.type, data.amount, data.note)
    except db.InsufficientCredits as exc:
        raise SignuptoError(400, str(exc)) from None
    return _ok(row, 1)


def token():
    """POST /v1/token {username, password}: a token for Token authorisation (company level)."""
    if request.method != "POST":
        raise _not_allowed("POST")
    data: TokenCreate = _body(TokenCreate, _json_object())
    store, now = get_store(), time.time()
    user = db.login(store, data.username, data.password)
    if user is None:
        raise SignuptoError(401, "Invalid username or password")
    value, expiry = db.issue_token(store, int(user["user_id"]), int(user["token_ttl_seconds"]), now)
    return _ok({"token": value, "expiry": expiry}, 1)


def unknown(rest: str = ""):
    raise SignuptoError(404, f"Unknown endpoint: /{rest}")


def _handle_error(exc: SignuptoError):
    body, headers = error_body(exc.status, exc.message)
    return jsonify(body), exc.status, {**headers, **exc.headers}


def create_blueprint() -> Blueprint:
    bp = Blueprint("signupto", __name__, url_prefix=PREFIX)
    bp.before_request(_require_auth)
    bp.register_error_handler(SignuptoError, _handle_error)
    bp.add_url_rule("/v1/account", "account", account, methods=ALL_METHODS)
    bp.add_url_rule("/v1/accountFeatures", "account_features", account_features, methods=ALL_METHODS)
    bp.add_url_rule("/v1/creditTransfer", "credit_transfer", credit_transfer, methods=ALL_METHODS)
    bp.add_url_rule("/v1/token", "token", token, methods=ALL_METHODS)
    bp.add_url_rule("", "unknown", unknown, methods=ALL_METHODS, strict_slashes=False)
    bp.add_url_rule("/<path:rest>", "unknown", unknown, methods=ALL_METHODS)
    return bp
