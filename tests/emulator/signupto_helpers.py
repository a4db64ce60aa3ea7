"""Helpers for the Sign-Up.to emulator tests: control-API setup and a tiny signing client.

The signing here is written from the documented algorithm, independently of the emulator's
own code, so a shared mistake cannot make both sides agree.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from email.utils import formatdate

import requests

_nonces = itertools.count(1)


def string_to_sign(method, path, headers, key, order) -> str:
    text = f"{method} {path}\r\n"
    for name in order:
        if name in headers:
            text += f"{name}: {headers[name]}\r\n"
    return text + key


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def http_date(at: float | None = None) -> str:
    return formatdate(time.time() if at is None else at, usegmt=True)


def partner_headers(method, path, pid, key, cid=None, uid=None, *, date=None, nonce=None) -> dict:
    headers = {"Date": date or http_date(), "X-SuT-PID": str(pid)}
    if cid is not None:
        headers["X-SuT-CID"] = str(cid)
    if uid is not None:
        headers["X-SuT-UID"] = str(uid)
    headers["X-SuT-Nonce"] = nonce or f"n{next(_nonces)}-{time.time_ns()}"
    order = ("Date", "X-SuT-PID", "X-SuT-CID", "X-SuT-UID", "X-SuT-Nonce")
    sig = sha1_hex(string_to_sign(method, path, headers, key, order))
    headers["Authorization"] = f'SuTPartner signature="{sig}"'
    return headers


def company_headers(method, path, cid, uid, key, *, date=None, nonce=None) -> dict:
    headers = {"Date": date or http_date(), "X-SuT-CID": str(cid), "X-SuT-UID": str(uid),
               "X-SuT-Nonce": nonce or f"c{next(_nonces)}-{time.time_ns()}"}
    sig = sha1_hex(string_to_sign(method, path, headers, key, ("Date", "X-SuT-CID", "X-SuT-UID",
                                                                "X-SuT-Nonce")))
    headers["Authorization"] = f'SuTHash signature="{sig}"'
    return headers


def control(emulator, path, body=None):
    r = requests.post(f"{emulator.url}/_control/signupto{path}", json=body, timeout=5)
    assert r.status_code in (200, 201), r.text
    return r.json()


class SignupTo:
    """Signs each call as a partner (optionally with a CID) or as a company user."""

    def __init__(self, emulator, *, pid=None, key=None, cid=None, uid=None, hash_key=None):
        self.url, self.pid, self.key = emulator.url, pid, key
        self.cid, self.uid, self.hash_key = cid, uid, hash_key

    def as_company(self, cid) -> "SignupTo":
        clone = SignupTo.__new__(SignupTo)
        clone.__dict__.update(self.__dict__, cid=cid)
        return clone

    def headers(self, method, endpoint, **kw) -> dict:
        path = f"/signupto/v1/{endpoint}"  # the path requested, which is what a client signs
        if self.hash_key is not None:
            return company_headers(method, path, self.cid, self.uid, self.hash_key, **kw)
        return partner_headers(method, path, self.pid, self.key, self.cid, self.uid, **kw)

    def call(self, method, endpoint, *, headers=None, **kw) -> requests.Response:
        headers = headers if headers is not None else self.headers(method, endpoint)
        return requests.request(method, f"{self.url}/signupto/v1/{endpoint}", headers=headers,
                                timeout=5, **kw)

    def create(self, name="Shop", email="owner@shop.example", **fields) -> dict:
        r = self.call("POST", "account", json={"name": name, "contactemail": email, **fields})
        assert r.status_code == 200, r.text
        return r.json()["response"]["data"]


def new_partner(emulator, **body) -> tuple[SignupTo, dict]:
    info = control(emulator, "/partners", body or None)
    return SignupTo(emulator, pid=info["partner_id"], key=info["partner_key"]), info


def new_user(emulator, company_id) -> SignupTo:
    info = control(emulator, f"/companies/{company_id}/users")
    return SignupTo(emulator, cid=company_id, uid=info["user_id"], hash_key=info["hash_key"])


def assert_error(r: requests.Response, status: int, message: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json() == {"status": "error",
                        "response": {"message": message, "code": status, "subcode": None}}
    assert r.headers["X-PMAPI-Error-Message"] == message
