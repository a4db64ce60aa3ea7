"""What the provider process tells the engine besides its answers: warnings, and (for the tests) which
modules it has loaded.

Warnings go where the engine prints diagnostics: `pulumi up`'s "Diagnostics:" under the resource,
a DiagnosticEvent in the Automation API's event stream. The engine starts every plugin with the
address of its own gRPC server, which serves the Engine service, as the last command-line argument
(pkg/v3 resource/plugin: provider_plugin.go passes `host.ServerAddr()`, plugin.go's
buildPluginArguments puts it after the logging and tracing flags), and that service's Log RPC prints
a message among the diagnostics. The SDK's dynamic provider server (pulumi/dynamic/__main__.py) never
connects to it: it configures the SDK's settings without an engine at every call, so `pulumi.log`
only prints to stderr there, which the engine shows apart from any resource, as the plugin's own
output. Pointing the SDK's settings at the engine would mean setting them again before each warning,
in the calling thread, behind the server's back; so `warn` calls the Log RPC itself, with the SDK's
generated protocol stubs, naming the resource whose call is running. Anywhere else (the tool's
in-process reads for `fleet drift`, a test) it prints `warning: ...` on stderr, as `pulumi.log.warn`
does without an engine.

The SDK's private behaviour relied on here (the provider process is `python -m pulumi.dynamic` with
the engine's arguments; its servicer methods hold the call's `request` and `context`) is pinned by
tests/unit/test_engine_wording.py and tests/e2e/test_engine_log.py, which fail naming it if it changes.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Optional

# When set, the provider process writes the names of its loaded modules to this file after each
# check and diff.
MODULES_REPORT_ENV = "EMAIL_PARTNERS_MODULES_REPORT"
# The module the engine's launcher runs as the dynamic provider server (pulumi-resource-pulumi-python).
PROVIDER_SERVER = "pulumi.dynamic.__main__"
LOG_TIMEOUT_SECONDS = 10.0

_engines: dict[str, Any] = {}  # the engine's address -> its Engine client: one channel per process
_engines_lock = threading.Lock()


def report_loaded_modules() -> None:
    path = os.environ.get(MODULES_REPORT_ENV)
    if path:
        partial = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(partial, "w", encoding="utf-8") as out:
            out.write("\n".join(sorted(sys.modules)))
        os.replace(partial, path)  # whole reports only, whichever thread writes last


def servicer_call() -> tuple[Any, Any]:
    """The `request` and `context` of the dynamic provider server's call that is running this code:
    the locals of a caller (pulumi/dynamic/__main__.py's servicer methods take them as arguments), or
    (None, None) outside that server."""
    frame = sys._getframe(1)
    while frame is not None:
        context = frame.f_locals.get("context")
        if hasattr(context, "set_details") and hasattr(context, "abort"):
            return frame.f_locals.get("request"), context
        frame = frame.f_back
    return None, None


def engine_address() -> Optional[str]:
    """The engine's address when this process is the engine's dynamic provider server, else None."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if getattr(spec, "name", None) != PROVIDER_SERVER or len(sys.argv) < 2:
        return None
    host, _, port = sys.argv[-1].rpartition(":")
    return sys.argv[-1] if host and port.isdigit() else None


def _engine(address: str) -> Any:
    with _engines_lock:
        if address not in _engines:
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            _engines[address] = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return _engines[address]


def warn(message: str) -> None:
    """`message` as a warning among the engine's diagnostics, under the resource whose call is running;
    on stderr outside the engine's provider process, or when the engine does not answer (a killed `up`)."""
    address = engine_address()
    if address is not None:
        import grpc
        from pulumi.runtime.proto import engine_pb2

        request, _ = servicer_call()
        urn = getattr(request, "urn", "") or ""
        try:
            _engine(address).Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message, urn=urn),
                                 timeout=LOG_TIMEOUT_SECONDS)
            return
        except grpc.RpcError:
            pass
    print(f"warning: {message}", file=sys.stderr)
