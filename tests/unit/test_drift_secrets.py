"""Write-only secrets in the sweep (operations/drift_secrets.py) and the backend's history entries
(operations/backend_history.py), on states and histories made by hand: no engine, nothing decrypted."""

from __future__ import annotations

import gzip
import json

from operations.backend.updates import history_dir, last_update_configs
from operations.backend.location import current_backend
from operations.backend.state import RecordedResource
from operations.values import SECRET_SIG
from operations.drift.read import engine_only
from operations.drift.secrets import OPAQUE, needs_engine, with_opaque_declaration, with_opaque_state

PROJECT = "email-partners"
CIPHERTEXT = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:state-nonce:state-bytes"}
SECURE = {"secure": "v1:file-nonce:file-bytes"}


def subuser(**inputs) -> RecordedResource:
    props = {"platform": "sendgrid", "username": "acme", "email": "ops@acme.example", **inputs}
    return RecordedResource(urn="urn:pulumi:s::email-partners::emailpartners:index:Customer$pulumi-python:dynamic/"
                                "partners:SubAccount::s-account", type="pulumi-python:dynamic/partners:SubAccount",
                            custom=True, id="acme", inputs=props, outputs={**props, "account_id": "acme"})


def declared(password=SECURE) -> dict:
    account = {"username": "acme", "email": "ops@acme.example"}
    return {"platform": "sendgrid", "account": {**account, "password": password} if password else account}


def config(password=SECURE) -> dict:
    return {"email-partners:customer": declared(password)}


def test_a_write_only_secret_is_no_reason_for_the_engine_any_other_ciphertext_is():
    assert engine_only([subuser(password=CIPHERTEXT)]) is None
    assert "holds encrypted values" in engine_only([subuser(password=CIPHERTEXT, email=CIPHERTEXT)])
    cakemail = subuser(password=CIPHERTEXT).model_copy(update={"inputs": {"platform": "cakemail", "password": CIPHERTEXT}})
    assert "holds encrypted values" in engine_only([cakemail])  # Cakemail declares no write-only setting


def test_state_and_declaration_carry_the_same_opaque_stand_in():
    opaque = with_opaque_state(subuser(password=CIPHERTEXT))
    assert opaque.inputs["password"] == opaque.outputs["password"] == OPAQUE
    assert with_opaque_declaration(declared())["account"]["password"] == OPAQUE
    assert with_opaque_declaration(declared(None)) == declared(None)


def test_only_a_declared_secret_matching_the_last_update_is_judged_without_the_engine():
    recorded = [subuser(password=CIPHERTEXT)]
    assert needs_engine(declared(), recorded, config()) is None
    assert needs_engine(declared(None), recorded, None) is None  # nothing declared: check compares nothing
    assert needs_engine(declared(), [subuser()], None) is None  # none recorded: check refuses, no value needed
    other = {"secure": "v1:another-nonce:another-bytes"}  # encrypted again, perhaps another value
    for last in (config(other), config(None), None, {}):
        assert "customer.account.password may differ" in needs_engine(declared(), recorded, last)
    assert "not stored encrypted" in needs_engine(declared("In-clear-Passw0rd"), recorded, config())


def write(root, key: str, content: bytes) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def entry(kind: str, result: str = "succeeded", **extra) -> bytes:
    return json.dumps({"kind": kind, "result": result, "config": config(), **extra}).encode()


def test_the_newest_entry_that_could_have_written_the_state_decides(tmp_path):
    history = f".pulumi/history/{PROJECT}"
    write(tmp_path, f"{history}/a/a-1700000000000000001.history.json", entry("update"))
    write(tmp_path, f"{history}/a/a-1700000000000000002.checkpoint.json", b"{}")
    write(tmp_path, f"{history}/a/a-1700000000000000003.history.json.gz", gzip.compress(entry("refresh")))
    write(tmp_path, f"{history}/b/b-1700000000000000001.history.json", entry("update"))
    write(tmp_path, f"{history}/b/b-1700000000000000002.history.json", entry("update", result="failed"))
    write(tmp_path, f"{history}/c/c-1700000000000000001.history.json", entry("update"))
    write(tmp_path, f"{history}/c/c-1700000000000000002.history.json.zst", b"\x28\xb5\x2f\xfd")
    write(tmp_path, ".pulumi/history/d/d-1700000000000000001.history.json", entry("update"))  # legacy layout
    keys = {name: f".pulumi/stacks/{PROJECT}/{name}.json" for name in "abc"} | {"d": ".pulumi/stacks/d.json",
                                                                                "never": f".pulumi/stacks/{PROJECT}/never.json"}
    found = last_update_configs(current_backend({"PULUMI_BACKEND_URL": tmp_path.as_uri()}), keys)
    assert found == {"a": config(), "b": None, "c": None, "d": config(), "never": None}
    assert history_dir(f".pulumi/stacks/{PROJECT}/a.json.gz") == f".pulumi/history/{PROJECT}/a/"
