"""Helpers for the SendGrid emulator tests: fixtures, control-API setup calls, a tiny Bearer client,
and the vendor's OpenAPI documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

PARENT_IPS = ["198.51.100.10", "198.51.100.11"]
PASSWORD = "subuser-s3cret-pw"


def add_parent(emulator, username="parent-one", **extra) -> dict:
    r = requests.post(f"{emulator.url}/_control/sendgrid/parents",
                      json={"username": username, "ips": PARENT_IPS, **extra}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()


def add_key(emulator, username) -> str:
    r = requests.post(f"{emulator.url}/_control/sendgrid/api_keys", json={"username": username}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


class SendGrid:
    """Tiny authenticated client for the emulated v3 API (`on_behalf_of` sets the header)."""

    def __init__(self, emulator, api_key: str, on_behalf_of: str | None = None):
        self.base = f"{emulator.url}/sendgrid"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        if on_behalf_of:
            self.session.headers["on-behalf-of"] = on_behalf_of

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)
        return lambda path, **kw: self.session.request(method.upper(), self.base + path, timeout=5, **kw)

    def create_subuser(self, username: str, **fields) -> dict:
        body = {"username": username, "email": f"{username}@customer.example", "password": PASSWORD,
                "ips": PARENT_IPS[:1], **fields}
        r = self.post("/v3/subusers", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def create_domain(self, domain: str, **fields) -> dict:
        r = self.post("/v3/whitelabel/domains", json={"domain": domain, **fields})
        assert r.status_code == 201, r.text
        return r.json()


def errors(response) -> list[dict]:
    return response.json()["errors"]


def publish_records(emulator, domain: dict) -> None:
    """What a customer adds at its DNS host for every record a domain asks for."""
    for record in domain["dns"].values():
        r = requests.put(f"{emulator.url}/_control/dns/records", timeout=5,
                         json={"name": record["host"], "type": record["type"].upper(), "value": record["data"]})
        assert r.status_code == 201, r.text


# The vendor's OpenAPI documents (MIT licence), copied into the repository: see specs/README.md.
REFERENCE = Path(__file__).resolve().parent / "specs" / "sendgrid"


@pytest.fixture
def parent(emulator):
    return add_parent(emulator)


@pytest.fixture
def sg(emulator, parent):
    client = SendGrid(emulator, parent["api_key"])
    yield client
    client.session.close()


def schema(document: str, *path: str) -> dict:
    node = json.loads((REFERENCE / f"{document}.openapi.json").read_text())
    for key in path:
        node = node[key]
    return node
