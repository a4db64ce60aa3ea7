"""Ciirus Partner API emulation (emails/subaccount), mounted at /ciirus: the routes.

Client apiUrl is http://HOST:PORT/ciirus; routes are /<version>/emails/subaccount for the two
known versions. Each HTTP Basic API user owns at most one sub-account, so there is no id in the
path. Errors are {"error_message": "..."}, the only error field the seeds show; note the seed's
quirk kept on purpose: a POST while a sub-account exists answers 200 with the existing one and an
error_message, so a client must check error_message, not only the status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from . import store as db
from .errors import CiirusError, error_body
from .models import UPDATE_FIELDS, VERSIONS, parse_body, subaccount_object
from ..core import dns_zone
from ..core.store import get_store

ALREADY_EXISTS = "you already have an existing sub account."
NOT_FOUND = "no sub account found."


def _require_auth() -> None:
    """Known version first (an unknown one is a 404 whoever asks), then HTTP Basic credentials."""
    version = (request.view_args or {}).get("version")
    if version not in VERSIONS:
        raise CiirusError(404, f"unknown API version {version!r} (known: {', '.join(VERSIONS)})")
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        raise CiirusError(401, "invalid credentials")
    user = db.authenticate(get_store(), auth.username, auth.password)
    if user is None:
        raise CiirusError(401, "invalid credentials")
    g.ciirus_user_id = int(user["user_id"])


def _body():
    try:
        return parse_body(request.get_json(force=True, silent=True))
    except ValueError as exc:
        raise CiirusError(400, str(exc)) from None


def _publish_if_demo(sub: dict[str, Any]) -> None:
    """--publish-dns: publish the records a customer would add, so the demo converges."""
    dns_zone.publish_if_demo(list(db.expected_records(sub).values()), get_store())


def _loaded() -> dict[str, Any]:
    sub = db.get_subaccount(get_store(), g.ciirus_user_id)
    if sub is None:
        raise CiirusError(404, NOT_FOUND)
    return sub


def get_subaccount(version: str):
    return jsonify(subaccount_object(_loaded(), version, get_store()))


def create_subaccount(version: str):
    data = _body()
    store = get_store()
    sub, created = db.create_subaccount(store, g.ciirus_user_id, data.sending_domain,
                                        data.daily_send_limit, data.approved)
    if not created:  # the seed's quirk: 200, existing values, and an error_message
        return jsonify(subaccount_object(sub, version, store, error_message=ALREADY_EXISTS))
    _publish_if_demo(sub)
    return jsonify(subaccount_object(sub, version, store))


def update_subaccount(version: str):
    data = _body()
    store = get_store()
    sub, domain_changed = db.update_subaccount(store, g.ciirus_user_id, data.sending_domain,
                                               data.daily_send_limit, data.approved)
    if sub is None:
        raise CiirusError(404, NOT_FOUND)
    if domain_changed:
        _publish_if_demo(sub)
    return jsonify(subaccount_object(sub, version, store, fields=UPDATE_FIELDS))


def delete_subaccount(version: str):
    sub = db.delete_subaccount(get_store(), g.ciirus_user_id)
    if sub is None:
        raise CiirusError(404, NOT_FOUND)
    return jsonify({"deleted": True, "subaccount_id": f"subaccount-{sub['user_id']}-partner-api"})


def _handle_error(exc: CiirusError):
    body, headers = error_body(exc.status, exc.message)
    return jsonify(body), exc.status, headers


def create_blueprint() -> Blueprint:
    bp = Blueprint("ciirus", __name__, url_prefix="/ciirus")
    bp.before_request(_require_auth)
    bp.register_error_handler(CiirusError, _handle_error)
    path = "/<version>/emails/subaccount"
    bp.add_url_rule(path, "get_subaccount", get_subaccount, methods=["GET"])
    bp.add_url_rule(path, "create_subaccount", create_subaccount, methods=["POST"])
    bp.add_url_rule(path, "update_subaccount", update_subaccount, methods=["PUT"])
    bp.add_url_rule(path, "delete_subaccount", delete_subaccount, methods=["DELETE"])
    return bp
