"""The vendors' clients as the resources use them: one per endpoint and identity per process.

Every resource of a program shares one provider process, so sharing the client shares one token,
one session and one answer per object per pass (providers/shared_reads.py). A client is built by
its platform's description from the settings (which come from `configure()`, never from state).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional

from pydantic import SecretStr

from . import describe
from .settings import PlatformSettings, read_settings

if TYPE_CHECKING:
    from ..http import RequestBudget, RetryPolicy
    from .description import Platform

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _fingerprint(secret: SecretStr) -> str:
    return hashlib.sha256(secret.get_secret_value().encode()).hexdigest()


def new_client(platform: Platform, settings: PlatformSettings, retry: Optional[RetryPolicy] = None) -> Any:
    """A client of its own (for a one-off request: a credentials check, a discovery)."""
    from ..http import RetryPolicy  # imported where used: the settings stay cheap to import

    return platform.client(settings, retry or RetryPolicy(read_timeout=settings.timeout_seconds))


def shared_client(platform_name: str, config: Mapping[str, Any]) -> Any:
    """The process's one client for the endpoint and identity `config` names (secrets fingerprinted)."""
    platform = describe(platform_name)
    settings = read_settings(platform, config)
    key = (platform.name, *(_fingerprint(v) if isinstance(v, SecretStr) else v for v in settings.model_dump().values()))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = new_client(platform, settings)
        return _clients[key]


@contextmanager
def under_budget(client: Any, budget: RequestBudget) -> Iterator[Any]:
    """The client's requests bounded by `budget` until the block ends (a fleet-wide read in one process);
    the client is the process's, so its own bound is put back afterwards."""
    previous = client.http.budget
    client.http.budget = budget
    try:
        yield client
    finally:
        client.http.budget = previous
