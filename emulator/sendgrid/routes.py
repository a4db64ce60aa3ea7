"""Twilio SendGrid v3, mounted at /sendgrid: subusers here, authenticated domains in domains.py.

Client base URL: http://HOST:PORT/sendgrid (the real one is https://api.sendgrid.com); paths are
the spec's, /v3/... . Every route needs a Bearer API key (auth.py); /v3/subusers routes need a
parent's own key, without `on-behalf-of`. Status codes and messages follow the OpenAPI document's
examples: create answers 200, PATCH and DELETE 204; an unknown subuser is 400 "invalid username"
on PATCH and 400 "No user found" on credits (the spec's examples), 404 elsewhere.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from . import domains, store as db
from .auth import acting_parent, authenticate
from .errors import SendGridError, handle_error
from .models import (CreateSubuser, CreditsRequest, IpList, PatchSubuser, created_subuser, credits_object,
                     parse, subuser_item)
from .params import bool_arg, int_arg, json_body, no_content
from .rate_limit import count_request
from ..core.store import get_store

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


# -- subusers ----------------------------------------------------------------------------------
def _subuser(name: str, status: int = 404, message: str = "resource not found") -> dict[str, Any]:
    user = db.subuser_of(get_store(), acting_parent()["id"], name)
    if user is None:
        raise SendGridError(status, message)
    return user


def _check_ips(parent: dict[str, Any], ips: list[str]) -> None:
    unknown = [ip for ip in ips if ip not in parent["ips"]]
    if unknown:
        raise SendGridError(400, f"ips must be IP addresses of your account (not: {', '.join(unknown)})", "ips")


def list_subusers():
    parent = acting_parent()
    region = request.args.get("region", "all")
    if region not in ("all", "global", "eu"):
        raise SendGridError(400, "region must be one of all, global, eu", "region")
    include_region = bool_arg("include_region")
    rows = db.subusers(get_store(), parent["id"], request.args.get("username") or None, region,
                       int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), int_arg("offset", 0, 0))
    return jsonify([subuser_item(u, include_region) for u in rows])


def create_subuser():
    parent = acting_parent()
    data: CreateSubuser = parse(CreateSubuser, json_body())
    _check_ips(parent, data.ips)
    user = db.create_subuser(get_store(), parent["id"], data.username, data.email, data.password,
                             data.ips, data.region)
    if user is None:
        raise SendGridError(400, "username exists", "username")
    return jsonify(created_subuser(user, data.include_region))


def update_subuser(subuser_name: str):
    user = _subuser(subuser_name, 400, "invalid username")
    data: PatchSubuser = parse(PatchSubuser, json_body())
    if data.disabled is None:
        raise SendGridError(400, "no fields provided")
    db.set_disabled(get_store(), user["id"], data.disabled)
    return no_content()


def delete_subuser(subuser_name: str):
    db.delete_subuser(get_store(), _subuser(subuser_name)["id"])
    return no_content()


def get_credits(subuser_name: str):
    user = _subuser(subuser_name, 400, "No user found")
    return jsonify(credits_object(db.get_credits(get_store(), user["id"])))


def put_credits(subuser_name: str):
    user = _subuser(subuser_name, 400, "No user found")
    data: CreditsRequest = parse(CreditsRequest, json_body())
    store = get_store()
    db.set_credits(store, user["id"], data.type, data.reset_frequency, data.total)
    return jsonify(credits_object(db.get_credits(store, user["id"])))


def put_ips(subuser_name: str):
    parent, user = acting_parent(), _subuser(subuser_name)
    ips = parse(IpList, json_body()).root
    _check_ips(parent, ips)
    db.set_ips(get_store(), user["id"], ips)
    return jsonify({"ips": ips})


ROUTES = (  # (rule, view, method)
    ("/v3/subusers", list_subusers, "GET"),
    ("/v3/subusers", create_subuser, "POST"),
    ("/v3/subusers/<subuser_name>", update_subuser, "PATCH"),
    ("/v3/subusers/<subuser_name>", delete_subuser, "DELETE"),
    ("/v3/subusers/<subuser_name>/credits", get_credits, "GET"),
    ("/v3/subusers/<subuser_name>/credits", put_credits, "PUT"),
    ("/v3/subusers/<subuser_name>/ips", put_ips, "PUT"),
)


def create_blueprint() -> Blueprint:
    bp = Blueprint("sendgrid", __name__, url_prefix="/sendgrid")
    bp.before_request(authenticate)
    bp.before_request(count_request)  # per user and endpoint: after authentication says who
    bp.register_error_handler(SendGridError, handle_error)
    for rule, view, method in ROUTES + domains.ROUTES:
        bp.add_url_rule(rule, f"{view.__name__}_{method.lower()}", view, methods=[method])
    return bp
