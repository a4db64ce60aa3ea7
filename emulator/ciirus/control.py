"""Control route for Ciirus API users (POST /_control/ciirus/users).

The DNS zone the sub-accounts are verified against is the core's (/_control/dns/records).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from . import store as db
from ..core.control import ControlError, credentials, json_object
from ..core.store import get_store


def users():
    """Create an API user, or give an existing one a new password (same user_id)."""
    username, password = credentials(json_object())
    if ":" in username:  # HTTP Basic could not carry it
        raise ControlError("'username' must not contain ':'")
    user_id = db.upsert_user(get_store(), username, password)
    return jsonify({"username": username, "user_id": user_id}), 201


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ciirus/users", "ciirus_user", users, methods=["POST"])
