"""Control routes for Sign-Up.to: partners, company users (and their logins) and credit balances.

Tests need credentials the real service would hand out on paper (a partner id and 40-char key, a
company user's 32-char hash key, or its username and password for a token) and funded accounts
to move credits between. Like every /_control route these are never faulted or logged, so the
keys they return stay out of the log.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify

from . import store as db
from ..core.control import ControlError, credentials, optional_json_object, positive_int
from ..core.store import get_store

_KEY_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def _optional_key(body: dict[str, Any], key: str, length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != length or not _KEY_RE.match(value):
        raise ControlError(f"{key!r} must be a {length}-character printable ASCII string")
    return value


def _existing_account(account_id: int) -> dict[str, Any]:
    account = db.get_account(get_store(), account_id)
    if account is None:
        raise ControlError(f"no Sign-Up.to account {account_id}")
    return account


def partners():
    body = optional_json_object()
    pid = positive_int(body, "partner_id")
    key = _optional_key(body, "partner_key", 40)
    return jsonify(db.upsert_partner(get_store(), pid, key)), 201


def _login(body: dict[str, Any]) -> tuple[str, str, int] | None:
    """Optional username/password (both or neither) for POST /v1/token, and the token lifetime."""
    if "username" not in body and "password" not in body:
        return None
    username, password = credentials(body)
    ttl = positive_int(body, "token_ttl_seconds", db.DEFAULT_TOKEN_TTL)
    return username, password, ttl  # type: ignore[return-value]


def company_users(company_id: int):
    """A company user for SuTHash (hash_key), and for SuTToken when given a username and password."""
    _existing_account(company_id)
    body = optional_json_object()
    uid = positive_int(body, "user_id")
    key = _optional_key(body, "hash_key", 32)
    login = _login(body)
    store = get_store()
    if uid is not None:
        other = store.query_one("SELECT company_id FROM signupto_users WHERE user_id = ?", (uid,))
        if other is not None and other["company_id"] != company_id:
            raise ControlError(f"user {uid} already belongs to company {other['company_id']}")
    if login is not None:
        taken = store.query_one("SELECT user_id FROM signupto_logins WHERE username = ?", (login[0],))
        if taken is not None and taken["user_id"] != uid:
            raise ControlError(f"username {login[0]!r} belongs to user {taken['user_id']}")
    user = db.add_user(store, company_id, uid, key)
    if login is not None:
        try:
            db.set_login(store, user["user_id"], *login)
        except db.UsernameTaken as exc:
            raise ControlError(str(exc)) from None
        user["username"] = login[0]  # the password is never echoed
    return jsonify(user), 201


def credits(account_id: int):
    _existing_account(account_id)
    body = optional_json_object()
    unknown = set(body) - {"email", "sms", "inboxtest"}
    if unknown:
        raise ControlError(f"unknown keys: {', '.join(sorted(unknown))} (use email, sms, inboxtest)")
    for kind, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ControlError(f"{kind!r} must be a non-negative integer")
    account = db.set_credits(get_store(), account_id, body)
    assert account is not None
    return jsonify({"account_id": account_id,
                    **{f"{k}creditbalance": account[f"{k}creditbalance"]
                       for k in ("email", "sms", "inboxtest")}})


def remove_account(account_id: int):
    """Out-of-band removal, as support would do it (the API has no DELETE): for drift tests."""
    _existing_account(account_id)
    db.remove_account(get_store(), account_id)
    return jsonify({"removed": account_id})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/signupto/accounts/<int:account_id>", "signupto_remove_account", remove_account,
                    methods=["DELETE"])
    bp.add_url_rule("/signupto/partners", "signupto_partners", partners, methods=["POST"])
    bp.add_url_rule("/signupto/companies/<int:company_id>/users", "signupto_company_users",
                    company_users, methods=["POST"])
    bp.add_url_rule("/signupto/accounts/<int:account_id>/credits", "signupto_credits", credits,
                    methods=["POST"])
