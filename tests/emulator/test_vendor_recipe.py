"""The "Adding a vendor" recipe of emulator/README.md, proved: a tiny vendor defined here, and
registered next to the real ones, gets faults, the request log, reset and control routes from
the core without any change to it."""

from __future__ import annotations

import pytest
import requests
from flask import Blueprint, jsonify, request

from emulator import VENDORS, EmulatorServer
from emulator.core import Registry, Vendor
from emulator.core.control import ControlError, json_object
from emulator.core.store import get_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes_items (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL
);
"""


class NotesError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def error_body(status: int, message: str):
    return {"problem": message, "http": status}, {"X-Notes-Error": str(status)}


def _handle(exc: NotesError):
    body, headers = error_body(exc.status, exc.message)
    return jsonify(body), exc.status, headers


def add_note():
    body = request.get_json(force=True, silent=True) or {}
    if not isinstance(body.get("text"), str):
        raise NotesError(400, "text is required")
    cur = get_store().execute("INSERT INTO notes_items (text) VALUES (?)", (body["text"],))
    return jsonify({"id": cur.lastrowid, "text": body["text"]}), 201


def list_notes():
    return jsonify({"notes": get_store().query("SELECT id, text FROM notes_items ORDER BY id")})


def create_blueprint() -> Blueprint:
    bp = Blueprint("notes", __name__, url_prefix="/notes")
    bp.register_error_handler(NotesError, _handle)
    bp.add_url_rule("/v1/items", "add_note", add_note, methods=["POST"])
    bp.add_url_rule("/v1/items", "list_notes", list_notes, methods=["GET"])
    return bp


def seed_items():
    """A control route of the vendor's own: POST /_control/notes/items {"texts": [...]}."""
    texts = json_object().get("texts")
    if not isinstance(texts, list):
        raise ControlError("'texts' must be a list")
    for text in texts:
        get_store().execute("INSERT INTO notes_items (text) VALUES (?)", (str(text),))
    return jsonify({"added": len(texts)}), 201


def register_control(bp: Blueprint) -> None:
    bp.add_url_rule("/notes/items", "notes_items", seed_items, methods=["POST"])


NOTES = Vendor("notes", "/notes", create_blueprint, error_body, schema=SCHEMA,
               tables=("notes_items",), register_control=register_control)


@pytest.fixture
def server(tmp_path):
    with EmulatorServer(str(tmp_path / "emulator.sqlite"), vendors=(*VENDORS, NOTES)) as emu:
        yield emu


def test_a_new_vendor_gets_the_core_for_free(server):
    base, control = f"{server.url}/notes/v1/items", f"{server.url}/_control"
    # its routes and its own control route
    assert requests.post(base, json={"text": "hello", "password": "hunter2"}, timeout=5).status_code == 201
    assert requests.post(f"{control}/notes/items", json={"texts": ["a", "b"]}, timeout=5).json() == {"added": 2}
    assert [n["text"] for n in requests.get(base, timeout=5).json()["notes"]] == ["hello", "a", "b"]
    # its error shape, for its own errors, unknown paths and injected faults alike
    r = requests.post(base, json={}, timeout=5)
    assert (r.status_code, r.json(), r.headers["X-Notes-Error"]) == (
        400, {"problem": "text is required", "http": 400}, "400")
    assert requests.get(f"{server.url}/notes/v1/nothing", timeout=5).json()["http"] == 404
    fault = {"path": "^/notes/v1/items", "method": "GET", "status": 503, "retry_after": 2}
    assert requests.post(f"{control}/faults", json=fault, timeout=5).status_code == 201
    r = requests.get(base, timeout=5)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.json()["problem"].startswith("Service Unavailable (injected fault #")
    assert requests.get(base, timeout=5).status_code == 200  # the fault was used up
    # the request log, under the vendor's name, secrets masked
    log = requests.get(f"{control}/requests", params={"vendor": "notes"}, timeout=5).json()["requests"]
    assert [(e["method"], e["status"], e["fault"]) for e in log] == [
        ("POST", 201, False), ("GET", 200, False), ("POST", 400, False), ("GET", 404, False),
        ("GET", 503, True), ("GET", 200, False)]
    assert log[0]["body"] == {"text": "hello", "password": "***"}
    # reset wipes its table along with the core's
    assert requests.post(f"{control}/reset", timeout=5).json() == {"reset": True}
    assert requests.get(f"{control}/requests", timeout=5).json()["requests"] == []
    assert requests.get(base, timeout=5).json() == {"notes": []}


def test_the_real_vendors_are_untouched_beside_it(server):
    r = requests.post(f"{server.url}/cakemail/token", data={"username": "x@example.com",
                                                             "password": "x"}, timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = requests.get(f"{server.url}/ciirus/v2023.07.31/emails/subaccount", timeout=5)
    assert r.json() == {"error_message": "invalid credentials"}


@pytest.mark.parametrize("clash", [
    Vendor("notes", "/other", create_blueprint, error_body),         # same name
    Vendor("other", "/notes/v2", create_blueprint, error_body),      # inside its path
    Vendor("other", "/_control", create_blueprint, error_body),      # the core's path
    Vendor("other", "other", create_blueprint, error_body),          # not a path
])
def test_the_registry_refuses_vendors_that_clash(clash):
    with pytest.raises(ValueError):
        Registry([NOTES, clash])
