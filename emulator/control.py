"""Control API under /_control: lets tests and scripts set up state and inspect what happened.

It is never faulted and never written to the request log, so it stays usable whatever a test
did to the vendor routes. JSON in, JSON out; errors are {"error": "..."} with status 400.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from . import cakemail_store, faults, requestlog
from .models_cakemail import EMAIL_RE
from .store import get_store
from .vendors import all_vendors


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _json_object() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def health():
    return jsonify({"ok": True})


def reset():
    get_store().reset()
    return jsonify({"reset": True})


def _positive_int(body: dict, key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ControlError(f"{key!r} must be a positive integer")
    return value


def cakemail_partner():
    body = _json_object()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str) \
            or not password:
        raise ControlError("'username' and 'password' (non-empty strings) are required")
    if not EMAIL_RE.match(username):  # POST /token declares username as format: email
        raise ControlError("'username' must be an email address (Cakemail logs in by email)")
    ttl = _positive_int(body, "token_ttl_seconds", cakemail_store.DEFAULT_TOKEN_TTL)
    refresh_ttl = _positive_int(body, "refresh_ttl_seconds", cakemail_store.DEFAULT_REFRESH_TTL)
    account_id = cakemail_store.upsert_partner(get_store(), username, password, ttl, refresh_ttl)
    return jsonify({"username": username, "partner_account_id": account_id}), 201


def add_fault():
    try:
        spec = faults.parse_spec(_json_object())
    except faults.FaultSpecError as exc:
        raise ControlError(str(exc)) from None
    return jsonify({"id": faults.add(get_store(), spec)}), 201


def list_faults():
    return jsonify({"faults": faults.pending(get_store())})


def clear_faults():
    faults.clear(get_store())
    return jsonify({"cleared": True})


def list_requests():
    try:
        since_id = int(request.args.get("since_id", 0))
        limit = int(request.args["limit"]) if "limit" in request.args else None
    except ValueError:
        raise ControlError("'since_id' and 'limit' must be integers") from None
    rows = requestlog.entries(get_store(), request.args.get("vendor"), since_id, limit)
    return jsonify({"requests": rows})


def clear_requests():
    requestlog.clear(get_store())
    return jsonify({"cleared": True})


def _handle_error(exc: ControlError):
    return jsonify({"error": exc.message}), exc.status


def create_blueprint() -> Blueprint:
    bp = Blueprint("control", __name__, url_prefix="/_control")
    bp.register_error_handler(ControlError, _handle_error)
    bp.add_url_rule("/health", "health", health, methods=["GET"])
    bp.add_url_rule("/reset", "reset", reset, methods=["POST"])
    bp.add_url_rule("/cakemail/partners", "cakemail_partner", cakemail_partner,
                    methods=["POST"])
    for vendor in all_vendors():
        if vendor.register_control:
            vendor.register_control(bp)
    bp.add_url_rule("/faults", "add_fault", add_fault, methods=["POST"])
    bp.add_url_rule("/faults", "list_faults", list_faults, methods=["GET"])
    bp.add_url_rule("/faults", "clear_faults", clear_faults, methods=["DELETE"])
    bp.add_url_rule("/requests", "list_requests", list_requests, methods=["GET"])
    bp.add_url_rule("/requests", "clear_requests", clear_requests, methods=["DELETE"])
    return bp
