"""Cakemail DKIM keys (/brands/default/dkim), added to the Cakemail blueprint.

Shapes follow the OpenAPI subset: DkimKeysResponse (a bare `data` list: the spec declares no
paging for this list), CreateDkimResponse (201), DkimKeyResponse, DeleteDkimKeyResponse. Every
route takes `?account_id=` to act inside one of the partner's accounts (default: its own). A key's
status is read from the emulator's DNS zone on every call: "active" once the TXT record
`<selector>._domainkey.<domain>` holds `v=DKIM1; k=rsa; p=<public_key>`, else "pending".
The spec declares only 400 and 422 errors, so a second key for the same domain in one account is
a 400 bad_request; unknown ids are 404 and foreign accounts 403, as for /accounts.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from typing import Annotated, Any, Optional

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from . import cakemail_store, dns_zone
from .cakemail import CakemailError, _fail, _in_tree, _json_body, _validate
from .store import Store, get_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS cakemail_dkim_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    domain      TEXT NOT NULL,          -- lower-case host name
    selector    TEXT NOT NULL,
    public_key  TEXT NOT NULL,          -- base64 DER SubjectPublicKeyInfo (random modulus)
    created_on  INTEGER NOT NULL
);
"""
TABLES = ("cakemail_dkim_keys",)

# DER header of a 2048-bit RSA SubjectPublicKeyInfo, then 256 modulus bytes and exponent 65537:
# looks like a real key to anyone who decodes it, without generating one.
_SPKI_HEAD = base64.b64decode("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
_SPKI_TAIL = bytes.fromhex("0203010001")


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _domain(value: str) -> str:
    if not dns_zone.is_hostname(value):
        raise ValueError("domain must be a host name such as example.com (no trailing dot)")
    return value


def _selector(value: str) -> str:
    if not dns_zone.is_host_labels(value) or len(value) > 63:
        raise ValueError("selector must be DNS labels (letters, digits, hyphens, dots)")
    return value


class CreateDkim(BaseModel):
    domain: Annotated[str, BeforeValidator(_lower), AfterValidator(_domain)]
    selector: Optional[Annotated[str, BeforeValidator(_lower), AfterValidator(_selector)]] = None


class AccountQuery(BaseModel):
    account_id: Optional[Annotated[int, Field(ge=1)]] = None


def dkim_record(key: dict[str, Any]) -> tuple[str, str, str]:
    """The TXT record that makes a key active: (name, type, value)."""
    return (f"{key['selector']}._domainkey.{key['domain']}", "TXT",
            f"v=DKIM1; k=rsa; p={key['public_key']}")


def _summary(key: dict[str, Any], store: Store) -> dict[str, Any]:
    name, _, value = dkim_record(key)
    return {"id": key["id"], "status": "active" if dns_zone.has_txt(name, value, store)
            else "pending", "selector": key["selector"], "domain": key["domain"],
            "public_key": key["public_key"]}


def _full(key: dict[str, Any], default_id: int | None, store: Store) -> dict[str, Any]:
    return {**_summary(key, store), "account_default": key["id"] == default_id}


def _default_id(store: Store, account_id: int) -> int | None:
    """The account's oldest key is its default signing key."""
    row = store.query_one("SELECT MIN(id) AS id FROM cakemail_dkim_keys WHERE account_id = ?",
                          (account_id,))
    return row["id"] if row else None


def _account() -> dict[str, Any]:
    """The account named by ?account_id= (one of the caller's tree), else the caller's own."""
    query = _validate(AccountQuery, request.args.to_dict(), "query")
    if query.account_id is None or query.account_id == g.root["id"]:
        return g.root
    account = cakemail_store.get_account(get_store(), query.account_id)
    if account is None or not _in_tree(account):
        raise _fail(403, f"Account {query.account_id} is not accessible with this token")
    return account


def _load(raw_id: str, account: dict[str, Any]) -> dict[str, Any]:
    """The key {id} of that account (the spec calls the path parameter `id`), else 422/404."""
    if not re.fullmatch(r"[+-]?\d+", raw_id):
        raise CakemailError(422, {"detail": [{
            "loc": ["path", "id"], "type": "int_parsing",
            "msg": "Input should be a valid integer, unable to parse string as an integer"}]})
    key = get_store().query_one(
        "SELECT * FROM cakemail_dkim_keys WHERE id = ? AND account_id = ?",
        (int(raw_id), account["id"]))
    if key is None:
        raise _fail(404, "DKIM key not found", ["path", "id"])
    return key


def list_dkim_keys():
    account, store = _account(), get_store()
    keys = store.query("SELECT * FROM cakemail_dkim_keys WHERE account_id = ? ORDER BY id",
                       (account["id"],))
    default_id = keys[0]["id"] if keys else None
    return jsonify({"data": [_full(k, default_id, store) for k in keys]})


def create_dkim_key():
    account = _account()
    data: CreateDkim = _validate(CreateDkim, _json_body(), "body")
    store = get_store()
    public_key = base64.b64encode(_SPKI_HEAD + secrets.token_bytes(256) + _SPKI_TAIL).decode()
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM cakemail_dkim_keys WHERE account_id = ? AND domain = ?",
                        (account["id"], data.domain)).fetchone():
            raise _fail(400, f"A DKIM key already exists for {data.domain} in this account",
                        ["body", "domain"])
        cur = conn.execute(
            "INSERT INTO cakemail_dkim_keys (account_id, domain, selector, public_key, created_on)"
            " VALUES (?, ?, ?, ?, ?)", (account["id"], data.domain, data.selector or "",
                                        public_key, int(time.time())))
        key_id = int(cur.lastrowid)
        if not data.selector:  # ids never repeat, so default selectors never collide
            conn.execute("UPDATE cakemail_dkim_keys SET selector = ? WHERE id = ?",
                         (f"ckm{key_id}", key_id))
    key = store.query_one("SELECT * FROM cakemail_dkim_keys WHERE id = ?", (key_id,))
    if current_app.config.get("PUBLISH_DNS"):  # demo option: the customer publishes at once
        dns_zone.publish_all([dkim_record(key)], store)
    return jsonify({"object": "dkim", "created": True, "data": _summary(key, store)}), 201


def get_dkim_key(key_id: str):
    account, store = _account(), get_store()
    key = _load(key_id, account)
    return jsonify({"data": _full(key, _default_id(store, account["id"]), store)})


def delete_dkim_key(key_id: str):
    account, store = _account(), get_store()
    key = _load(key_id, account)
    summary = _summary(key, store)
    store.execute("DELETE FROM cakemail_dkim_keys WHERE id = ?", (key["id"],))
    return jsonify({"object": "dkim", "deleted": True, "data": summary})


def add_routes(bp: Blueprint) -> None:
    """Called from cakemail.create_blueprint: the bearer-token hook and error handler apply."""
    bp.add_url_rule("/brands/default/dkim", "list_dkim_keys", list_dkim_keys, methods=["GET"])
    bp.add_url_rule("/brands/default/dkim", "create_dkim_key", create_dkim_key,
                    methods=["POST"])
    bp.add_url_rule("/brands/default/dkim/<key_id>", "get_dkim_key", get_dkim_key,
                    methods=["GET"])
    bp.add_url_rule("/brands/default/dkim/<key_id>", "delete_dkim_key", delete_dkim_key,
                    methods=["DELETE"])
