"""Control routes for Ciirus API users and the shared DNS zone (added to /_control).

The DNS zone is how a test plays the customer's DNS host: a domain (Ciirus) or a DKIM key
(Cakemail) only validates once its record is published here. Same conventions as control.py:
JSON in and out, errors {"error": "..."} with status 400.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import ciirus_store, dns_zone
from .control import ControlError, _json_object
from .store import get_store


def ciirus_user():
    body = _json_object()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str) \
            or not password:
        raise ControlError("'username' and 'password' (non-empty strings) are required")
    if ":" in username:  # HTTP Basic could not carry it
        raise ControlError("'username' must not contain ':'")
    user_id = ciirus_store.upsert_user(get_store(), username, password)
    return jsonify({"username": username, "user_id": user_id}), 201


def _record_fields(body: dict, need_value: bool) -> tuple[str, str | None, str | None]:
    name, rtype, value = body.get("name"), body.get("type"), body.get("value")
    rtype = rtype.upper() if isinstance(rtype, str) else rtype
    if not isinstance(name, str) or not name:
        raise ControlError("'name' (a DNS name) is required")
    if need_value or rtype is not None or value is not None:
        if rtype not in dns_zone.TYPES:
            raise ControlError(f"'type' must be one of {', '.join(dns_zone.TYPES)}")
    if need_value and (not isinstance(value, str) or not value):
        raise ControlError("'value' (a non-empty string) is required")
    if value is not None and not isinstance(value, str):
        raise ControlError("'value' must be a string")
    return name, rtype, value


def publish_record():
    name, rtype, value = _record_fields(_json_object(), need_value=True)
    try:
        record = dns_zone.publish(name, rtype, value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return jsonify(record), 201


def unpublish_record():
    name, rtype, value = _record_fields(_json_object(), need_value=False)
    try:
        removed = dns_zone.unpublish(name, rtype, value)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return jsonify({"deleted": removed})


def list_records():
    try:
        rows = dns_zone.records(request.args.get("name"))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return jsonify({"records": rows})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ciirus/users", "ciirus_user", ciirus_user, methods=["POST"])
    bp.add_url_rule("/dns/records", "dns_publish", publish_record, methods=["PUT"])
    bp.add_url_rule("/dns/records", "dns_unpublish", unpublish_record, methods=["DELETE"])
    bp.add_url_rule("/dns/records", "dns_records", list_records, methods=["GET"])
