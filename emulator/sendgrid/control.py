"""Control routes for SendGrid: parent accounts and API keys, and a subuser's used credits.

SendGrid shows an API key once, when it is made; so do these routes, and the emulator keeps only
its hash. Like every /_control route they are never faulted or logged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from . import store as db
from .models import EMAIL_RE, USERNAME_RE, ipv4_address, credits_object
from ..core.control import ControlError, json_object
from ..core.store import get_store


def _ips(body: dict[str, Any]) -> list[str] | None:
    ips = body.get("ips")
    if ips is None:
        return None
    if not isinstance(ips, list) or not ips or not all(isinstance(ip, str) for ip in ips):
        raise ControlError("'ips' must be a non-empty list of IPv4 addresses")
    try:
        return [ipv4_address(ip) for ip in ips]
    except ValueError:
        raise ControlError("'ips' must be a non-empty list of IPv4 addresses") from None


def _api_key(body: dict[str, Any]) -> str | None:
    key = body.get("api_key")
    if key is not None and (not isinstance(key, str) or not key.startswith("SG.") or len(key) < 20):
        raise ControlError("'api_key' must look like a SendGrid key: SG.<id>.<secret>")
    return key


def _username(body: dict[str, Any]) -> str:
    username = body.get("username")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise ControlError("'username' (1 to 64 letters, digits or @ . _ + -) is required")
    return username


def parents():
    """A parent account (made if absent; 'ips' replaces its IPs) and a new API key for it."""
    body = json_object()
    username = _username(body)
    email = body.get("email", f"{username}@parent.example" if "@" not in username else username)
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        raise ControlError("'email' must be an email address")
    store = get_store()
    try:
        parent = db.ensure_parent(store, username, email, _ips(body))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    key = db.add_api_key(store, parent["id"], _api_key(body))
    return jsonify({"username": username, "user_id": parent["id"], "ips": parent["ips"], "api_key": key}), 201


def api_keys():
    """Another API key for any user, a subuser's too (to see what a non-parent key may do)."""
    body = json_object()
    store = get_store()
    user = db.get_user(store, _username(body))
    if user is None:
        raise ControlError(f"no SendGrid user {body['username']!r}")
    key = db.add_api_key(store, user["id"], _api_key(body))
    return jsonify({"username": user["username"], "user_id": user["id"], "api_key": key}), 201


def used_credits(username: str):
    """As if the subuser had sent `used` emails of its current allocation (for drift tests)."""
    used = json_object().get("used")
    if isinstance(used, bool) or not isinstance(used, int) or used < 0:
        raise ControlError("'used' must be an integer >= 0")
    store = get_store()
    user = db.get_user(store, username)
    if user is None or user["parent_id"] is None:
        raise ControlError(f"no SendGrid subuser {username!r}")
    db.set_credits_used(store, user["id"], used)
    return jsonify(credits_object(db.get_credits(store, user["id"])))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sendgrid/parents", "sendgrid_parents", parents, methods=["POST"])
    bp.add_url_rule("/sendgrid/api_keys", "sendgrid_api_keys", api_keys, methods=["POST"])
    bp.add_url_rule("/sendgrid/subusers/<username>/credits", "sendgrid_used_credits", used_credits,
                    methods=["POST"])
