"""Cakemail DKIM keys (/brands/default/dkim), added to the Cakemail blueprint (same auth, errors).

Shapes follow the OpenAPI subset: DkimKeysResponse (a bare `data` list: the spec declares no
paging for this list), CreateDkimResponse (201), DkimKeyResponse, DeleteDkimKeyResponse. Every
route takes `?account_id=` to act inside one of the token's accounts (routes.py; default: the token's
own). A key's
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

from flask import g, jsonify
from pydantic import AfterValidator, BaseModel, BeforeValidator

from .errors import fail, invalid, json_body, validate
from ..core import dns_zone
from ..core.store import Store, get_store

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


def _load(raw_id: str, account: dict[str, Any]) -> dict[str, Any]:
    """The key {id} of that account (the spec calls the path parameter `id`), else 422/404."""
    if not re.fullmatch(r"[+-]?\d+", raw_id):
        raise invalid(["path", "id"], "int_parsing",
                      "Input should be a valid integer, unable to parse string as an integer")
    key = get_store().query_one(
        "SELECT * FROM cakemail_dkim_keys WHERE id = ? AND account_id = ?",
        (int(raw_id), account["id"]))
    if key is None:
        raise fail(404, "DKIM key not found", ["path", "id"])
    return key


def list_dkim_keys():
    account, store = g.root, get_store()
    keys = store.query("SELECT * FROM cakemail_dkim_keys WHERE account_id = ? ORDER BY id",
                       (account["id"],))
    default_id = keys[0]["id"] if keys else None
    return jsonify({"data": [_full(k, default_id, store) for k in keys]})


def create_dkim_key():
    account = g.root  # ?account_id= or the token's account (routes.require_auth)
    data: CreateDkim = validate(CreateDkim, json_body(), "body")
    store = get_store()
    public_key = base64.b64encode(_SPKI_HEAD + secrets.token_bytes(256) + _SPKI_TAIL).decode()
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM cakemail_dkim_keys WHERE account_id = ? AND domain = ?",
                        (account["id"], data.domain)).fetchone():
            raise fail(400, f"A DKIM key already exists for {data.domain} in this account",
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
    dns_zone.publish_if_demo([dkim_record(key)], store)  # --publish-dns: the customer at once
    return jsonify({"object": "dkim", "created": True, "data": _summary(key, store)}), 201


def get_dkim_key(key_id: str):
    account, store = g.root, get_store()
    key = _load(key_id, account)
    return jsonify({"data": _full(key, _default_id(store, account["id"]), store)})


def delete_dkim_key(key_id: str):
    account, store = g.root, get_store()
    key = _load(key_id, account)
    summary = _summary(key, store)
    store.execute("DELETE FROM cakemail_dkim_keys WHERE id = ?", (key["id"],))
    return jsonify({"object": "dkim", "deleted": True, "data": summary})


ROUTES = (  # (rule, view, method), added to the Cakemail blueprint by routes.py
    ("/brands/default/dkim", list_dkim_keys, "GET"),
    ("/brands/default/dkim", create_dkim_key, "POST"),
    ("/brands/default/dkim/<key_id>", get_dkim_key, "GET"),
    ("/brands/default/dkim/<key_id>", delete_dkim_key, "DELETE"),
)
