"""Helpers for the Ciirus and DNS-zone tests: control-API setup calls and a tiny Ciirus client."""

from __future__ import annotations

import requests

USER = "agent-42"
PASSWORD = "ciirus-s3cret"
V2023, V2024 = "v2023.07.31", "v2024.07.31"
SPF = "v=spf1 include:spf.mandrillapp.com ?all"


def add_user(emulator, username=USER, password=PASSWORD) -> int:
    r = requests.post(f"{emulator.url}/_control/ciirus/users",
                      json={"username": username, "password": password}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()["user_id"]


def publish(emulator, name, value, rtype="TXT"):
    r = requests.put(f"{emulator.url}/_control/dns/records",
                     json={"name": name, "type": rtype, "value": value}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()


def unpublish(emulator, name, rtype=None, value=None):
    body = {"name": name, **({"type": rtype} if rtype else {}),
            **({"value": value} if value is not None else {})}
    r = requests.delete(f"{emulator.url}/_control/dns/records", json=body, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["deleted"]


def zone(emulator) -> list[dict]:
    r = requests.get(f"{emulator.url}/_control/dns/records", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["records"]


def publish_subaccount_records(emulator, sub: dict) -> None:
    """What a customer adds at its DNS host for a Ciirus (Mandrill) sending domain."""
    domain = sub["sending_domain"]
    publish(emulator, domain, sub["dns_value"])
    publish(emulator, f"mandrill._domainkey.{domain}", sub["dkim_value"])
    publish(emulator, domain, sub["spf_value"])


class Ciirus:
    """Tiny HTTP Basic client for one API version of the emulated Ciirus API."""

    def __init__(self, emulator, version=V2023, auth=(USER, PASSWORD)):
        self.url = f"{emulator.url}/ciirus/{version}/emails/subaccount"
        self.session = requests.Session()
        self.session.auth = auth

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "delete"):
            raise AttributeError(method)
        return lambda **kw: self.session.request(method.upper(), self.url, timeout=5, **kw)

    def create(self, domain="mail.example.com", limit=69, approved=True) -> dict:
        r = self.post(json={"sending_domain": domain, "daily_send_limit": limit,
                            "approved": approved})
        assert r.status_code == 200, r.text
        assert r.json()["error_message"] is None, r.text
        return r.json()
