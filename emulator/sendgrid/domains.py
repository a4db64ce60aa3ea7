"""SendGrid domain authentication (/v3/whitelabel/domains), added to the SendGrid blueprint.

A domain belongs to the user who made it: the key's user, or the subuser named by `on-behalf-of`
(or, from a parent, by the body's `username`). Get, patch, validate and delete reach a domain only
in its owner's scope (elsewhere: 404). A parent's list shows its own domains and its subusers'
(the spec's `exclude_subusers` and `username` filters say so); a subuser's list shows its own.

The records follow the spec's examples. Automatic security: a mail CNAME `<subdomain>.<domain>`
-> `u<user_id>.wl.sendgrid.net` and two DKIM CNAMEs `s1`/`s2._domainkey.<domain>` ->
`s1`/`s2.domainkey.u<user_id>.wl.sendgrid.net` (a custom selector `abc` gives `abc` and `abc2`).
Manual security (`automatic_security: false`): an MX `<subdomain>.<domain>` -> `mx.sendgrid.net`,
TXT SPF records for the subdomain and the domain, and a TXT DKIM key at `s1._domainkey.<domain>`.
Nothing validates by itself: POST .../validate reads the emulator's DNS zone, records each
record's `valid` and answers the reasons; reads show the outcome of the last validation.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from flask import jsonify, request

from . import store as db
from .auth import NO_PERMISSION, acting_user
from .errors import SendGridError
from .models import CreateDomain, PatchDomain, parse
from .params import bool_arg, int_arg, json_body, no_content
from ..core import dns_zone
from ..core.store import Store, get_store

NOT_FOUND = "authenticated domain not found"
MX_EXCHANGE = "mx.sendgrid.net"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
# DER head of a 1024-bit RSA SubjectPublicKeyInfo, then 128 modulus bytes and exponent 65537:
# decodes like the keys SendGrid hands out, without generating one.
_SPKI_HEAD = bytes.fromhex("30819f300d06092a864886f70d010101050003818d0030818902818100")
_SPKI_TAIL = bytes.fromhex("0203010001")


def _selectors(domain: dict[str, Any]) -> tuple[str, str]:
    custom = domain["dkim_selector"]
    return (custom, f"{custom}2") if custom else ("s1", "s2")


def expected_records(domain: dict[str, Any], owner: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """The records this domain asks for: key in `dns` -> (type as the API spells it, host, data)."""
    name, host = domain["domain"], f"{domain['subdomain']}.{domain['domain']}"
    first, second = _selectors(domain)
    if domain["automatic_security"]:
        label = f"u{owner['id']}.wl.sendgrid.net"
        return {"mail_cname": ("cname", host, label),
                "dkim1": ("cname", f"{first}._domainkey.{name}", f"{first}.domainkey.{label}"),
                "dkim2": ("cname", f"{second}._domainkey.{name}", f"{second}.domainkey.{label}")}
    if domain["custom_spf"]:
        spf = "v=spf1 " + " ".join(f"ip4:{ip}" for ip in (domain["ips"] or owner["ips"])) + " -all"
    else:
        spf = "v=spf1 include:sendgrid.net ~all"
    return {"mail_server": ("mx", host, MX_EXCHANGE),
            "subdomain_spf": ("txt", host, spf),
            "domain_spf": ("txt", name, f"v=spf1 include:{host} -all"),
            "dkim": ("txt", f"{first}._domainkey.{name}", f"k=rsa; t=s; p={domain['dkim_public_key']}")}


def domain_object(domain: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    """AuthenticatedDomain, in the spec's key order; `valid` as of the last validation."""
    valid = domain["valid_records"]
    dns = {key: {"valid": bool(valid.get(key)), "type": rtype, "host": host, "data": data}
           for key, (rtype, host, data) in expected_records(domain, owner).items()}
    body = {"id": domain["id"], "user_id": owner["id"], "subdomain": domain["subdomain"],
            "domain": domain["domain"], "username": owner["username"], "ips": domain["ips"],
            "custom_spf": domain["custom_spf"], "default": domain["is_default"], "legacy": False,
            "automatic_security": domain["automatic_security"],
            "valid": all(record["valid"] for record in dns.values()), "dns": dns}
    if domain["last_validation_attempt_at"] is not None:
        body["last_validation_attempt_at"] = domain["last_validation_attempt_at"]
    return body


def _check(rtype: str, host: str, data: str, store: Store) -> tuple[bool, str | None]:
    """One record against the zone: (valid, the reason when not), in SendGrid's manner of words."""
    if dns_zone.has_record(host, rtype.upper(), data, store):
        return True, None
    if rtype == "mx":
        found = dns_zone.values(host, "MX", store)
        seen = f'"{found[0]}"' if found else "no MX record"
        return False, f'Expected your MX record to be "{data}" but found {seen}.'
    return False, f'Expected {rtype.upper()} for "{host}" to match "{data}".'


def _owner_of_new_domain(username: str | None) -> dict[str, Any]:
    acting = acting_user()
    if username is None or username == acting["username"]:
        return acting
    if acting["parent_id"] is not None:
        raise SendGridError(403, NO_PERMISSION)
    subuser = db.subuser_of(get_store(), acting["id"], username)
    if subuser is None:
        raise SendGridError(400, "username does not exist", "username")
    return subuser


def _owned(domain_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(domain, owner) for a domain of the acting user; any other id is a 404."""
    domain = db.get_domain(get_store(), int(domain_id)) if domain_id.isdigit() else None
    user = acting_user()
    if domain is None or domain["user_id"] != user["id"]:
        raise SendGridError(404, NOT_FOUND)
    return domain, user


def create_domain():
    data: CreateDomain = parse(CreateDomain, json_body())
    owner = _owner_of_new_domain(data.username)
    store = get_store()
    key = base64.b64encode(_SPKI_HEAD + secrets.token_bytes(128) + _SPKI_TAIL).decode()
    domain = db.create_domain(store, owner["id"], {
        "domain": data.domain, "subdomain": data.subdomain or f"em{1000 + secrets.randbelow(9000)}",
        "automatic_security": data.automatic_security, "custom_spf": data.custom_spf,
        "is_default": data.default, "ips": data.ips, "dkim_selector": data.custom_dkim_selector or "",
        "dkim_public_key": key, "region": data.region})
    dns_zone.publish_if_demo([(host, rtype.upper(), value) for rtype, host, value
                              in expected_records(domain, owner).values()], store)  # --publish-dns
    return jsonify(domain_object(domain, owner)), 201


def list_domains():
    acting, store = acting_user(), get_store()
    limit, offset = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), int_arg("offset", 0, 0)
    owners = {acting["id"]: acting}
    if acting["parent_id"] is None and not bool_arg("exclude_subusers"):
        owners.update({u["id"]: u for u in db.subusers(store, acting["id"], None, "all", 10**9, 0)})
    username, search = request.args.get("username"), (request.args.get("domain") or "").lower()
    found = [d for d in db.domains_of(store, list(owners))
             if (not username or owners[d["user_id"]]["username"] == username) and search in d["domain"]]
    return jsonify([domain_object(d, owners[d["user_id"]]) for d in found[offset:offset + limit]])


def get_domain(domain_id: str):
    return jsonify(domain_object(*_owned(domain_id)))


def update_domain(domain_id: str):
    """The spec's answer (DomainAuthentication200) is an array: the updated domain, alone in it."""
    domain, owner = _owned(domain_id)
    data: PatchDomain = parse(PatchDomain, json_body())
    if data.custom_spf and domain["automatic_security"]:
        raise SendGridError(400, "custom_spf is only available with automatic_security false", "custom_spf")
    domain = db.update_domain(get_store(), domain, is_default=data.default, custom_spf=data.custom_spf)
    return jsonify([domain_object(domain, owner)])


def delete_domain(domain_id: str):
    domain, _ = _owned(domain_id)
    db.delete_domain(get_store(), domain["id"])
    return no_content()


def validate_domain(domain_id: str):
    domain, owner = _owned(domain_id)
    store = get_store()
    results = {key: _check(rtype, host, data, store)
               for key, (rtype, host, data) in expected_records(domain, owner).items()}
    db.record_validation(store, domain["id"], {k: ok for k, (ok, _) in results.items()}, int(time.time()))
    return jsonify({"id": domain["id"], "valid": all(ok for ok, _ in results.values()),
                    "validation_results": {k: {"valid": ok, "reason": why} for k, (ok, why) in results.items()}})


ROUTES = (  # (rule, view, method), added to the SendGrid blueprint by routes.py
    ("/v3/whitelabel/domains", list_domains, "GET"),
    ("/v3/whitelabel/domains", create_domain, "POST"),
    ("/v3/whitelabel/domains/<domain_id>", get_domain, "GET"),
    ("/v3/whitelabel/domains/<domain_id>", update_domain, "PATCH"),
    ("/v3/whitelabel/domains/<domain_id>", delete_domain, "DELETE"),
    ("/v3/whitelabel/domains/<domain_id>/validate", validate_domain, "POST"),
)
