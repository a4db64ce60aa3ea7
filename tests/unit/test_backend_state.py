"""operations/backend_state.py on file-backend layouts made by hand, and the sweep's value conversion."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time

import pytest
from pulumi.runtime import rpc

from operations.backend.location import BackendError, current_backend
from operations.backend.state import read_stacks
from operations.drift.read import as_engine_passes, engine_only

PROJECT = "email-partners"
ACCOUNT = {"urn": "urn:pulumi:s::email-partners::emailpartners:index:Customer$pulumi-python:dynamic/partners:"
                  "SubAccount::s-account", "type": "pulumi-python:dynamic/partners:SubAccount", "custom": True,
           "id": "7", "inputs": {"platform": "cakemail", "name": "A"}, "outputs": {"platform": "cakemail", "name": "A"}}


def checkpoint(resources, version=3, **latest) -> bytes:
    return json.dumps({"version": version, "checkpoint": {"stack": "s", "latest": {
        "manifest": {}, "resources": resources, **latest}}}).encode()


def write(root, key: str, content: bytes, age: float = 0.0) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if age:
        os.utime(path, (time.time() - age, time.time() - age))


def backend(root):
    return current_backend({"PULUMI_BACKEND_URL": root.as_uri()})


def test_project_scoped_plain_and_gzipped_the_newest_wins(tmp_path):
    write(tmp_path, ".pulumi/meta.yaml", b"version: 1\n")
    write(tmp_path, f".pulumi/stacks/{PROJECT}/a.json", checkpoint([ACCOUNT]), age=60)
    write(tmp_path, f".pulumi/stacks/{PROJECT}/a.json.gz", gzip.compress(checkpoint([{**ACCOUNT, "id": "8"}])))
    write(tmp_path, f".pulumi/stacks/{PROJECT}/b.json", checkpoint([]))
    write(tmp_path, f".pulumi/stacks/{PROJECT}/c.json.zst", b"\x28\xb5\x2f\xfd")
    states = read_stacks(backend(tmp_path), PROJECT, ["a", "b", "c", "never"])
    assert states["a"].status == "recorded" and [r.id for r in states["a"].resources] == ["8"]
    assert states["b"].status == "not deployed" and states["never"].status == "not deployed"
    assert states["c"].status == "engine" and "zstd" in states["c"].reason


def test_legacy_layout_without_meta(tmp_path):
    write(tmp_path, ".pulumi/stacks/a.json", checkpoint([ACCOUNT]))
    assert read_stacks(backend(tmp_path), PROJECT, ["a"])["a"].status == "recorded"


def test_unknown_versions_go_to_the_engine_saying_why(tmp_path):
    write(tmp_path, ".pulumi/meta.yaml", b"version: 1\n")
    write(tmp_path, f".pulumi/stacks/{PROJECT}/new.json", checkpoint([ACCOUNT], version=9))
    write(tmp_path, f".pulumi/stacks/{PROJECT}/cut.json", checkpoint([ACCOUNT], pending_operations=[{"type": "creating"}]))
    write(tmp_path, f".pulumi/stacks/{PROJECT}/bad.json", b"{not json")
    states = read_stacks(backend(tmp_path), PROJECT, ["new", "cut", "bad"])
    assert states["new"].status == "engine" and "checkpoint version 9" in states["new"].reason
    assert states["cut"].status == "engine" and "pending operations" in states["cut"].reason
    assert states["bad"].status == "unreadable"
    (tmp_path / ".pulumi/meta.yaml").write_text("version: 7\n")
    later = read_stacks(backend(tmp_path), PROJECT, ["new"])["new"]
    assert later.status == "engine" and "layout version 7" in later.reason


def test_state_only_the_engine_reads(tmp_path):
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:x"}
    other = {**ACCOUNT, "type": "aws:s3/bucket:Bucket", "urn": ACCOUNT["urn"].replace("s-account", "bucket")}
    from operations.backend.state import RecordedResource

    assert "encrypted" in engine_only([RecordedResource.model_validate({**ACCOUNT, "outputs": {"x": secret}})])
    assert "only the engine reads" in engine_only([RecordedResource.model_validate(other)])
    assert engine_only([RecordedResource.model_validate(ACCOUNT)]) is None


def test_a_backend_that_is_not_there(tmp_path):
    with pytest.raises(BackendError, match="not a directory"):
        read_stacks(backend(tmp_path / "missing"), PROJECT, ["a"])
    assert read_stacks(current_backend({"PULUMI_BACKEND_URL": "s3://bucket"}), PROJECT, ["a"])["a"].status == "engine"
    assert current_backend({"PULUMI_HOME": str(tmp_path)}) is None


def test_values_reach_the_providers_as_the_engine_passes_them():
    value = {"a": 1, "b": None, "c": {"x": None, "y": 2, "z": [1, None, {"q": None}]}, "d": [1, 2], "e": True, "f": "s"}
    loop = asyncio.new_event_loop()
    try:
        through_the_sdk = rpc.deserialize_properties(loop.run_until_complete(rpc.serialize_properties(value, {})))
    finally:
        loop.close()
    assert as_engine_passes(value) == through_the_sdk
    assert isinstance(as_engine_passes(value)["a"], float)
