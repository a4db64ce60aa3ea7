"""The one pass hands the providers values exactly as the engine's wire does (operations/drift/read.py's
as_engine_passes): its direct path for plain data equals the SDK's own Struct round trip, value for value,
on recorded state of every platform and on the edge cases; what the SDK treats specially takes its path."""

from __future__ import annotations

import json
from pathlib import Path

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

from operations.drift.read import wire_values, as_engine_passes
from operations.values import SECRET_SIG, holds_encrypted

FIXTURES = Path(__file__).resolve().parents[1] / "e2e" / "fixtures"


def through_the_sdk(value: dict, keep_unknowns: bool = False):
    struct = struct_pb2.Struct()
    struct.update(wire_values(value))
    return rpc.deserialize_properties(struct, keep_unknowns or None)


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (1.0 is not 1, True is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


EDGES = [
    {},
    {"n": 1, "f": 1.5, "big": 2 ** 60, "neg": -5, "zero": 0, "t": True, "false": False, "s": "", "u": "pässwörd ✓"},
    {"drop": None, "nested": {"drop": None, "keep": 0, "deeper": {"x": None}}, "list": [None, 1, {"a": None}, [None]]},
    {"tuple": (1, "a", None), "empty": {"list": [], "dict": {}}},
    {"features": {"per_month": 20000, "use_ab_split": True, "lists": -1}, "records": [{"validated": False, "ttl": 3600}]},
]


def test_plain_data_converts_exactly_as_through_the_sdk():
    values = list(EDGES)
    for path in sorted(FIXTURES.glob("*.json")):  # recorded state of every platform, written by earlier releases
        for stack in json.loads(path.read_text())["stacks"].values():
            for resource in stack["state"]["deployment"].get("resources") or []:
                # Ciphertext never reaches a provider from the one pass (only the engine decrypts it).
                values += [v for v in (resource.get("inputs") or {}, resource.get("outputs") or {})
                           if not holds_encrypted(v)]
    assert len(values) > len(EDGES)
    for value in values:
        assert same(as_engine_passes(value), through_the_sdk(value)), value


def test_what_the_sdk_treats_specially_takes_its_path():
    secret = {"password": {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": "s3cret"}}  # the SDK's secret
    assert same(as_engine_passes(secret), through_the_sdk(secret))
    assert rpc.is_rpc_secret(as_engine_passes(secret)["password"])
    unknown = {"account_id": rpc.UNKNOWN, "n": 1}
    assert as_engine_passes(unknown) == {"n": 1.0}  # dropped, as the SDK drops it outside a preview
    kept = as_engine_passes(unknown, keep_unknowns=True)
    assert isinstance(kept["account_id"], Unknown) and kept["n"] == 1.0
    assert wire_values({"a": [Unknown()]}) == {"a": [rpc.UNKNOWN]}
