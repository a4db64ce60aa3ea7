"""Control route for Cakemail: partner credentials (POST /_control/cakemail/partners)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from . import store as db
from .models import EMAIL_RE
from ..core.control import ControlError, credentials, json_object, positive_int
from ..core.store import get_store


def partners():
    """Create or update a partner (and its own account); token TTLs default to the API's."""
    body = json_object()
    username, password = credentials(body)
    if not EMAIL_RE.match(username):  # POST /token declares username as format: email
        raise ControlError("'username' must be an email address (Cakemail logs in by email)")
    ttl = positive_int(body, "token_ttl_seconds", db.DEFAULT_TOKEN_TTL)
    refresh_ttl = positive_int(body, "refresh_ttl_seconds", db.DEFAULT_REFRESH_TTL)
    account_id = db.upsert_partner(get_store(), username, password, ttl, refresh_ttl)  # type: ignore[arg-type]
    return jsonify({"username": username, "partner_account_id": account_id}), 201


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/cakemail/partners", "cakemail_partner", partners, methods=["POST"])
