"""Handlers' warnings through the engine's Log RPC (providers/resources/diagnostics.py): what `warn`
relies on in the SDK, pinned so that a change fails here naming what to re-check; and `warn` itself,
against an Engine service of the test's own (in the engine's provider process) and outside it.
tests/e2e/test_engine_log.py shows a handler's warning among a real `pulumi up`'s diagnostics."""

from __future__ import annotations

import ast
import importlib.util
import socket
import sys
import types
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2

from providers.resources import diagnostics
from providers.resources.diagnostics import PROVIDER_SERVER, warn

URN = "urn:pulumi:test::email-partners::pulumi-python:dynamic/partners:SubAccount::acme-account"
CALLS = {"Check": "CheckRequest", "Diff": "DiffRequest", "Create": "CreateRequest", "Read": "ReadRequest",
         "Update": "UpdateRequest", "Delete": "DeleteRequest"}


def _server_source() -> str:
    return Path(importlib.util.find_spec(PROVIDER_SERVER).origin).read_text()  # read: importing it serves


def test_the_provider_server_is_still_the_module_warn_looks_for():
    assert importlib.util.find_spec(PROVIDER_SERVER) is not None, \
        f"{PROVIDER_SERVER} is gone: re-check diagnostics.engine_address (which module serves dynamic providers)"
    assert "def main()" in _server_source() and "\nmain()" in _server_source(), \
        f"{PROVIDER_SERVER} no longer serves when run: re-check diagnostics.engine_address"


def test_the_servicers_request_still_names_the_resource():
    """warn names the resource from the servicer method's `request` (its `urn`)."""
    servicer = next(node for node in ast.walk(ast.parse(_server_source()))
                    if isinstance(node, ast.ClassDef) and node.name == "DynamicResourceProviderServicer")
    methods = {node.name: node for node in servicer.body if isinstance(node, ast.FunctionDef)}
    for method, request_type in CALLS.items():
        assert [a.arg for a in methods[method].args.args] == ["self", "request", "context"], \
            f"DynamicResourceProviderServicer.{method} no longer takes `request`: re-check diagnostics.servicer_call"
        assert "urn" in getattr(provider_pb2, request_type).DESCRIPTOR.fields_by_name, \
            f"{request_type} has no `urn`: re-check diagnostics.warn"


def test_the_sdks_log_still_cannot_reach_the_engine_from_a_provider():
    """Why warn calls the Log RPC itself: the server configures the SDK's settings with no engine at
    every call. If this fails, the SDK connects its provider server to the engine: `pulumi.log.warn`
    may then do what diagnostics.warn does by hand."""
    get_provider = next(node for node in ast.walk(ast.parse(_server_source()))
                        if isinstance(node, ast.FunctionDef) and node.name == "get_provider")
    settings = [call for call in ast.walk(get_provider) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name) and call.func.id == "Settings"]
    assert settings, "get_provider no longer configures Settings: re-check why diagnostics.warn bypasses pulumi.log"
    assert all("engine" not in {k.arg for k in call.keywords} for call in settings), \
        "the provider server now configures an engine: pulumi.log.warn may replace diagnostics.warn's Log call"


class Engine(engine_pb2_grpc.EngineServicer):
    """The one RPC warn calls, recorded."""

    def __init__(self):
        self.logged: list[engine_pb2.LogRequest] = []

    def Log(self, request, context):  # noqa: N802 - the service's name for it
        self.logged.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    service = Engine()
    engine_pb2_grpc.add_EngineServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield service, f"127.0.0.1:{port}"
    server.stop(0)


def as_provider_server(monkeypatch, address: str) -> None:
    """This process as the engine starts a dynamic provider: `python -m pulumi.dynamic ... ADDRESS`."""
    main = types.ModuleType("__main__")
    main.__spec__ = importlib.util.find_spec(PROVIDER_SERVER)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", [main.__spec__.origin, "--logtostderr", "-v=3", address])


class FakeContext:
    def set_details(self, details):
        pass

    def abort(self, *_):
        raise AssertionError("not called")


def Create(request, context):  # noqa: N802 - as the SDK's servicer method is named (checked above)
    warn("account 42 was made by an earlier, interrupted run: taking it over")


def test_in_the_engines_provider_process_a_warning_is_logged_under_the_resource(monkeypatch, engine, capsys):
    service, address = engine
    as_provider_server(monkeypatch, address)
    assert diagnostics.engine_address() == address
    Create(provider_pb2.CreateRequest(urn=URN), FakeContext())
    [logged] = service.logged
    assert (logged.severity, logged.urn) == (engine_pb2.WARNING, URN)
    assert logged.message == "account 42 was made by an earlier, interrupted run: taking it over"
    assert capsys.readouterr().err == ""


def test_outside_the_engines_provider_process_a_warning_goes_to_stderr(monkeypatch, engine, capsys):
    service, address = engine
    monkeypatch.setattr(sys, "argv", ["email-partners", "fleet", "drift", address])  # not the provider server
    assert diagnostics.engine_address() is None
    warn("taking it over")
    assert capsys.readouterr().err == "warning: taking it over\n"
    assert service.logged == []


def test_when_the_engine_does_not_answer_the_warning_goes_to_stderr(monkeypatch, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    as_provider_server(monkeypatch, closed)
    warn("taking it over")
    assert capsys.readouterr().err == "warning: taking it over\n"
