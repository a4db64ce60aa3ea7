"""Vendor credentials from stack config (secrets decrypted by the engine) or the environment.

They reach provider code only through `configure()`; nothing here is ever pickled into state.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from pydantic import BaseModel, SecretStr

if TYPE_CHECKING:  # the vendor clients (and `requests`) are imported by the functions that need them
    from .cakemail.client import CakemailClient
    from .ciirus.client import CiirusClient
    from .signupto.client import SignupToClient


class MissingCredentials(Exception):
    pass


class CakemailSettings(BaseModel):
    api_url: str
    username: str
    password: SecretStr


class SignupToSettings(BaseModel):
    api_url: str
    partner_id: str
    partner_key: SecretStr


class CiirusSettings(BaseModel):
    api_url: str
    api_version: str
    username: str
    password: SecretStr


def _lookup(config: Mapping[str, Any], key: str, env: str, default: Optional[str] = None) -> Optional[str]:
    """Stack config wins over the environment, as users of other providers expect."""
    value = config.get(key)
    if value in (None, ""):
        value = os.environ.get(env) or default
    return None if value is None else str(value)


def _require(config: Mapping[str, Any], key: str, env: str) -> str:
    value = _lookup(config, key, env)
    if not value:
        raise MissingCredentials(
            f"missing {key}: set it with `pulumi config set {key} ...`"
            f"{' --secret' if 'password' in key or 'Key' in key else ''} or the environment variable {env}")
    return value


def cakemail_settings(config: Mapping[str, Any]) -> CakemailSettings:
    from .cakemail.client import DEFAULT_API_URL as CAKEMAIL_DEFAULT_URL
    return CakemailSettings(
        api_url=_lookup(config, "cakemail:apiUrl", "CAKEMAIL_API_URL", CAKEMAIL_DEFAULT_URL),
        username=_require(config, "cakemail:username", "CAKEMAIL_USERNAME"),
        password=_require(config, "cakemail:password", "CAKEMAIL_PASSWORD"),
    )


def signupto_settings(config: Mapping[str, Any]) -> SignupToSettings:
    from .signupto.client import DEFAULT_API_URL as SIGNUPTO_DEFAULT_URL
    return SignupToSettings(
        api_url=_lookup(config, "signupto:apiUrl", "SIGNUPTO_API_URL", SIGNUPTO_DEFAULT_URL),
        partner_id=_require(config, "signupto:partnerId", "SIGNUPTO_PARTNER_ID"),
        partner_key=_require(config, "signupto:partnerKey", "SIGNUPTO_PARTNER_KEY"),
    )


def ciirus_settings(config: Mapping[str, Any]) -> CiirusSettings:
    from .ciirus.client import DEFAULT_API_URL as CIIRUS_DEFAULT_URL, DEFAULT_API_VERSION as CIIRUS_DEFAULT_VERSION
    return CiirusSettings(
        api_url=_lookup(config, "ciirus:apiUrl", "CIIRUS_API_URL", CIIRUS_DEFAULT_URL),
        api_version=_lookup(config, "ciirus:apiVersion", "CIIRUS_API_VERSION", CIIRUS_DEFAULT_VERSION),
        username=_require(config, "ciirus:username", "CIIRUS_USERNAME"),
        password=_require(config, "ciirus:password", "CIIRUS_PASSWORD"),
    )


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _shared(key: tuple, build: Callable[[], Any]) -> Any:
    """One client per endpoint and identity per process, so every resource reuses one token and session."""
    with _clients_lock:
        if key not in _clients:
            _clients[key] = build()
        return _clients[key]


def _fingerprint(secret: SecretStr) -> str:
    return hashlib.sha256(secret.get_secret_value().encode()).hexdigest()


def cakemail_client(config: Mapping[str, Any]) -> CakemailClient:
    from .cakemail.client import CakemailClient
    s = cakemail_settings(config)
    return _shared(("cakemail", s.api_url, s.username, _fingerprint(s.password)),
                   lambda: CakemailClient(s.api_url, s.username, s.password.get_secret_value()))


def signupto_client(config: Mapping[str, Any]) -> SignupToClient:
    from .signupto.client import SignupToClient
    s = signupto_settings(config)
    return _shared(("signupto", s.api_url, s.partner_id, _fingerprint(s.partner_key)),
                   lambda: SignupToClient.as_partner(s.api_url, s.partner_id, s.partner_key.get_secret_value()))


def ciirus_client(config: Mapping[str, Any]) -> CiirusClient:
    from .ciirus.client import CiirusClient
    s = ciirus_settings(config)
    return _shared(("ciirus", s.api_url, s.api_version, s.username, _fingerprint(s.password)),
                   lambda: CiirusClient(s.api_url, s.username, s.password.get_secret_value(), s.api_version))
