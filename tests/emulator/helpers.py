"""Helpers shared by the emulator tests: control-API setup calls and a tiny Cakemail client."""

from __future__ import annotations

import requests

PARTNER = "partner@example.com"
PASSWORD = "s3cret-partner-pw"


def add_partner(emulator, username=PARTNER, password=PASSWORD, **extra) -> int:
    r = requests.post(f"{emulator.url}/_control/cakemail/partners",
                      json={"username": username, "password": password, **extra}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()["partner_account_id"]


def get_token(emulator, username=PARTNER, password=PASSWORD, **extra) -> dict:
    r = requests.post(f"{emulator.url}/cakemail/token", timeout=5,
                      data={"grant_type": "password", "username": username,
                            "password": password, **extra})
    assert r.status_code == 200, r.text
    return r.json()


class Cakemail:
    """Tiny authenticated client for the emulated Cakemail API."""

    def __init__(self, emulator, token: str):
        self.base = f"{emulator.url}/cakemail"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __getattr__(self, method):
        if method not in ("get", "post", "patch", "delete"):
            raise AttributeError(method)
        return lambda path, **kw: self.session.request(method.upper(), self.base + path,
                                                       timeout=5, **kw)

    def create(self, name: str, **fields) -> dict:
        r = self.post("/accounts", json={"name": name, **fields})
        assert r.status_code == 201, r.text
        return r.json()
