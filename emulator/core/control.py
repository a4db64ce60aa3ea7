"""Control API under /_control: lets tests and scripts set up state and inspect what happened.

It is never faulted and never written to the request log, so it stays usable whatever a test
did to the vendor routes. JSON in, JSON out; errors are {"error": "..."} with status 400.
The core's routes (health, reset, faults, rate limits, request log, DNS zone) are here; each vendor adds its
own (credentials, balances...) through `Vendor.register_control`, using the helpers below.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from . import dns_zone, faults, rate_limits, requestlog
from .store import get_store
from .vendor import Registry, Vendor


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# -- helpers for every control route (the vendors' too) -----------------------------------------
def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def optional_json_object() -> dict[str, Any]:
    """The request body as a JSON object; an empty body is {}."""
    return json_object() if request.get_data(cache=True).strip() else {}


def credentials(body: dict[str, Any]) -> tuple[str, str]:
    """'username' and 'password', both required non-empty strings."""
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str) \
            or not password:
        raise ControlError("'username' and 'password' (non-empty strings) are required")
    return username, password


def positive_int(body: dict[str, Any], key: str, default: int | None = None) -> int | None:
    """body[key] as an integer >= 1; `default` when absent (None: optional)."""
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ControlError(f"{key!r} must be a positive integer")
    return value


# -- core routes --------------------------------------------------------------------------------
def health():
    """Also says what this server is and where its data lives, so a script finding a port taken
    can tell its own emulator from another program or another checkout's emulator."""
    import os

    return jsonify({"ok": True, "service": "email-partners-emulator", "pid": os.getpid(),
                    "db": os.path.realpath(get_store().path)})


def reset():
    get_store().reset()
    return jsonify({"reset": True})


def add_fault():
    try:
        spec = faults.parse_spec(json_object())
    except faults.FaultSpecError as exc:
        raise ControlError(str(exc)) from None
    return jsonify({"id": faults.add(get_store(), spec)}), 201


def list_faults():
    return jsonify({"faults": faults.pending(get_store())})


def clear_faults():
    faults.clear(get_store())
    return jsonify({"cleared": True})


# -- vendors' rate limits (rate_limits.py) -------------------------------------------------------
def _vendors() -> dict[str, Vendor]:
    return {v.name: v for v in current_app.extensions["emulator_registry"]}


def set_rate_limit():
    try:
        vendor, user, limit, period = rate_limits.parse_spec(json_object(), _vendors())
    except rate_limits.RateLimitSpecError as exc:
        raise ControlError(str(exc)) from None
    rate_limits.configure(get_store(), vendor, user, limit, period)
    return jsonify({"vendor": vendor.name, "user": user or None, "limit": limit, "period_seconds": period})


def list_rate_limits():
    return jsonify({"rate_limits": rate_limits.listing(get_store(), _vendors())})


def default_rate_limits():
    rate_limits.defaults(get_store())
    return jsonify({"rate_limits": rate_limits.listing(get_store(), _vendors())})


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


# -- DNS zone (a test plays the customer's DNS host) ---------------------------------------------
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
    name, rtype, value = _record_fields(json_object(), need_value=True)
    try:
        record = dns_zone.publish(name, rtype, value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return jsonify(record), 201


def unpublish_record():
    name, rtype, value = _record_fields(json_object(), need_value=False)
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


def _handle_error(exc: ControlError):
    return jsonify({"error": exc.message}), exc.status


_ROUTES = (  # (rule, view, method)
    ("/health", health, "GET"), ("/reset", reset, "POST"),
    ("/faults", add_fault, "POST"), ("/faults", list_faults, "GET"),
    ("/faults", clear_faults, "DELETE"),
    ("/rate_limits", set_rate_limit, "PUT"), ("/rate_limits", list_rate_limits, "GET"),
    ("/rate_limits", default_rate_limits, "DELETE"),
    ("/requests", list_requests, "GET"), ("/requests", clear_requests, "DELETE"),
    ("/dns/records", publish_record, "PUT"), ("/dns/records", unpublish_record, "DELETE"),
    ("/dns/records", list_records, "GET"),
)


def create_blueprint(registry: Registry) -> Blueprint:
    bp = Blueprint("control", __name__, url_prefix="/_control")
    bp.register_error_handler(ControlError, _handle_error)
    for rule, view, method in _ROUTES:
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
    for vendor in registry:
        if vendor.register_control:
            vendor.register_control(bp)
    return bp
