"""Control routes for Sign-Up.to: partners, company users and credit balances.

Tests need credentials the real service would hand out on paper (a partner id and 40-char key,
a company user's 32-char hash key) and funded accounts to move credits between. Like every
/_control route these are never faulted or logged, so the keys they return stay out of the log.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request

from . import signupto_store as db
from .control import ControlError
from .store import get_store

_KEY_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def _optional_body() -> dict[str, Any]:
    if not request.get_data(cache=True).strip():
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _optional_id(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ControlError(f"{key!r} must be a positive integer")
    return value


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
    body = _optional_body()
    pid = _optional_id(body, "partner_id")
    key = _optional_key(body, "partner_key", 40)
    return jsonify(db.upsert_partner(get_store(), pid, key)), 201


def company_users(company_id: int):
    _existing_account(company_id)
    body = _optional_body()
    uid = _optional_id(body, "user_id")
    key = _optional_key(body, "hash_key", 32)
    if uid is not None:
        other = get_store().query_one("SELECT company_id FROM signupto_users WHERE user_id = ?", (uid,))
        if other is not None and other["company_id"] != company_id:
            raise ControlError(f"user {uid} already belongs to company {other['company_id']}")
    return jsonify(db.add_user(get_store(), company_id, uid, key)), 201


def credits(account_id: int):
    _existing_account(account_id)
    body = _optional_body()
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
