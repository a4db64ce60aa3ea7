"""How a provider's failure reaches the engine as its own words: through the SDK's private behaviour.

The Python dynamic-provider server (pulumi/dynamic/__main__.py) calls our provider from servicer
methods whose `context` argument is the gRPC call; providers/resources/provider.py finds it by
walking the caller frames (providers/resources/diagnostics.py: servicer_call) and sets the call's details to the error's message, which the engine then
prints instead of gRPC's `Exception calling application: ...`. When the SDK changes how it calls
providers, these tests fail and say what to re-check. (The server module starts serving when it is
imported, so it is read, not imported.)
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from providers.platforms.settings import MissingCredentials
from providers.resources.sub_account import SubAccountProvider

CALLS = {"Check": "check", "Diff": "diff", "Create": "create", "Read": "read", "Update": "update", "Delete": "delete"}


def _servicer_methods() -> dict[str, ast.FunctionDef]:
    source = Path(importlib.util.find_spec("pulumi.dynamic.__main__").origin).read_text()
    servicer = next(node for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.ClassDef) and node.name == "DynamicResourceProviderServicer")
    return {node.name: node for node in servicer.body if isinstance(node, ast.FunctionDef)}


def test_the_servicer_still_calls_providers_from_the_method_that_holds_the_grpc_context():
    methods = _servicer_methods()
    for method, call in CALLS.items():
        node = methods.get(method)
        assert node is not None, f"the dynamic provider server has no {method}: re-check diagnostics.servicer_call"
        assert [a.arg for a in node.args.args] == ["self", "request", "context"], \
            f"DynamicResourceProviderServicer.{method} no longer takes `context`: re-check diagnostics.servicer_call"
        called = {n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                  and isinstance(n.func.value, ast.Name) and n.func.value.id == "provider"}
        assert call in called, (f"DynamicResourceProviderServicer.{method} no longer calls provider.{call}() itself: "
                                f"re-check diagnostics.servicer_call")


class FakeContext:
    """What the wording needs of a gRPC servicer context."""

    def __init__(self):
        self.details = None

    def set_details(self, details: str) -> None:
        self.details = details

    def abort(self, *_):  # a ServicerContext has it; the wording only checks that it is there
        raise AssertionError("not called")


def test_a_providers_error_becomes_the_calls_details(monkeypatch):
    for name in ("CAKEMAIL_USERNAME", "CAKEMAIL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    provider = SubAccountProvider()
    provider.configure(type("Request", (), {"config": {}})())  # no credentials: the create cannot start

    def Create(request, context):  # noqa: N802 - as the SDK's servicer method calls it (checked above)
        return provider.create({"platform": "cakemail", "name": "Acme",
                                "owner": {"email": "o@acme.example", "first_name": "A", "last_name": "B"}})

    context = FakeContext()
    with pytest.raises(MissingCredentials) as err:
        Create(None, context)
    assert context.details == str(err.value) and "missing cakemail:username" in context.details
