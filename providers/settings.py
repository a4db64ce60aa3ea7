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


DEFAULT_TIMEOUT_SECONDS = 30.0  # the read timeout of http.RetryPolicy


class MissingCredentials(Exception):
    def __init__(self, message: str, key: str = "", env: str = ""):
        super().__init__(message)
        self.key, self.env = key, env


class InvalidSetting(Exception):
    """A provider setting that is present but unusable (e.g. a timeout that is not a positive number)."""

    def __init__(self, message: str, key: str = ""):
        super().__init__(message)
        self.key = key


class CakemailSettings(BaseModel):
    api_url: str
    username: str
    password: SecretStr
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


class SignupToSettings(BaseModel):
    api_url: str
    partner_id: str
    partner_key: SecretStr
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


class CiirusSettings(BaseModel):
    api_url: str
    api_version: str
    username: str
    password: SecretStr
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


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
            f"missing {key}: set it with `pulumi config set{' --secret' if 'password' in key or 'Key' in key else ''} "
            f"{key} ...` or the environment variable {env}", key, env)
    return value


def _timeout(config: Mapping[str, Any], key: str, env: str) -> float:
    """How long to wait for a vendor's answer (the read timeout); a positive number of seconds."""
    value = _lookup(config, key, env, str(DEFAULT_TIMEOUT_SECONDS))
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not (0 < seconds <= 3600):  # also refuses nan and inf
        raise InvalidSetting(f"{key} (or {env}) must be a number of seconds between 0 and 3600, not {value!r}", key)
    return seconds


def _retry(seconds: float):
    from .http import RetryPolicy  # imported where used: settings stays cheap to import

    return RetryPolicy(read_timeout=seconds)


def cakemail_settings(config: Mapping[str, Any]) -> CakemailSettings:
    from .cakemail import DEFAULT_API_URL as CAKEMAIL_DEFAULT_URL
    return CakemailSettings(
        api_url=_lookup(config, "cakemail:apiUrl", "CAKEMAIL_API_URL", CAKEMAIL_DEFAULT_URL),
        username=_require(config, "cakemail:username", "CAKEMAIL_USERNAME"),
        password=_require(config, "cakemail:password", "CAKEMAIL_PASSWORD"),
        timeout_seconds=_timeout(config, "cakemail:timeoutSeconds", "CAKEMAIL_TIMEOUT_SECONDS"),
    )


def signupto_settings(config: Mapping[str, Any]) -> SignupToSettings:
    from .signupto import DEFAULT_API_URL as SIGNUPTO_DEFAULT_URL
    return SignupToSettings(
        api_url=_lookup(config, "signupto:apiUrl", "SIGNUPTO_API_URL", SIGNUPTO_DEFAULT_URL),
        partner_id=_require(config, "signupto:partnerId", "SIGNUPTO_PARTNER_ID"),
        partner_key=_require(config, "signupto:partnerKey", "SIGNUPTO_PARTNER_KEY"),
        timeout_seconds=_timeout(config, "signupto:timeoutSeconds", "SIGNUPTO_TIMEOUT_SECONDS"),
    )


def ciirus_settings(config: Mapping[str, Any]) -> CiirusSettings:
    from .ciirus import DEFAULT_API_URL as CIIRUS_DEFAULT_URL, DEFAULT_API_VERSION as CIIRUS_DEFAULT_VERSION
    return CiirusSettings(
        api_url=_lookup(config, "ciirus:apiUrl", "CIIRUS_API_URL", CIIRUS_DEFAULT_URL),
        api_version=_lookup(config, "ciirus:apiVersion", "CIIRUS_API_VERSION", CIIRUS_DEFAULT_VERSION),
        username=_require(config, "ciirus:username", "CIIRUS_USERNAME"),
        password=_require(config, "ciirus:password", "CIIRUS_PASSWORD"),
        timeout_seconds=_timeout(config, "ciirus:timeoutSeconds", "CIIRUS_TIMEOUT_SECONDS"),
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
    return _shared(("cakemail", s.api_url, s.username, _fingerprint(s.password), s.timeout_seconds),
                   lambda: CakemailClient(s.api_url, s.username, s.password.get_secret_value(),
                                          retry=_retry(s.timeout_seconds)))


def signupto_client(config: Mapping[str, Any]) -> SignupToClient:
    from .signupto.client import SignupToClient
    s = signupto_settings(config)
    return _shared(("signupto", s.api_url, s.partner_id, _fingerprint(s.partner_key), s.timeout_seconds),
                   lambda: SignupToClient.as_partner(s.api_url, s.partner_id, s.partner_key.get_secret_value(),
                                                     retry=_retry(s.timeout_seconds)))


def ciirus_client(config: Mapping[str, Any]) -> CiirusClient:
    from .ciirus.client import CiirusClient
    s = ciirus_settings(config)
    return _shared(("ciirus", s.api_url, s.api_version, s.username, _fingerprint(s.password), s.timeout_seconds),
                   lambda: CiirusClient(s.api_url, s.username, s.password.get_secret_value(), s.api_version,
                                        retry=_retry(s.timeout_seconds)))


# --- checked at preview, before any request (see PlatformProvider.check) ---------------------------
_SETTINGS = {"cakemail": cakemail_settings, "signupto": signupto_settings, "ciirus": ciirus_settings}
_API_URL = {"cakemail": ("cakemail:apiUrl", "CAKEMAIL_API_URL"), "signupto": ("signupto:apiUrl", "SIGNUPTO_API_URL"),
            "ciirus": ("ciirus:apiUrl", "CIIRUS_API_URL")}


# (key, environment variable, what a value must look like, the test) for settings wrong on their face.
_SHAPES = {
    "cakemail": [("cakemail:username", "CAKEMAIL_USERNAME", "an e-mail address (Cakemail partners log in with one)",
                  lambda v: "@" in v and not v.startswith("@") and not v.endswith("@"))],
    "signupto": [("signupto:partnerId", "SIGNUPTO_PARTNER_ID", "the partner's numeric id (for example 1001)",
                  lambda v: v.isdigit() and int(v) > 0),
                 ("signupto:partnerKey", "SIGNUPTO_PARTNER_KEY", "the 40-character partner key",
                  lambda v: len(v) == 40)],
    "ciirus": [],
}


def settings_problems(platform: str, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(config key, reason) for every setting of `platform` that is missing or wrong on its face, all at once.

    Knowable without a request, so a preview that passes means the `up` can authenticate at all."""
    from urllib.parse import urlsplit

    build = _SETTINGS.get(platform)
    if build is None:
        return []
    problems = []
    for key, env, shape, fits in _SHAPES[platform]:
        value = _lookup(config, key, env)
        if value and not fits(value.strip()):
            shown = "[secret]" if "Key" in key or "password" in key else repr(value)
            problems.append((key, f"{key} (or {env}) is {shown}, which is not {shape}"))
    try:
        settings = build(config)
    except (MissingCredentials, InvalidSetting) as exc:
        # Each missing or unusable setting, not only the first the client would need.
        problems += [(exc.key, str(exc))] + [p for p in _other_missing(platform, config) if p[0] != exc.key]
        return problems
    key, env = _API_URL[platform]
    parts = urlsplit(settings.api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append((key, f"{key} (or {env}) is {settings.api_url!r}, which is not an http(s) URL "
                              f"(for example https://api.example.com)"))
    if platform == "ciirus":
        from .ciirus import API_VERSIONS

        if settings.api_version not in API_VERSIONS:
            problems.append(("ciirus:apiVersion", f"ciirus:apiVersion (or CIIRUS_API_VERSION) is {settings.api_version!r}, "
                                                  f"not a Ciirus API version; supported: {', '.join(API_VERSIONS)}"))
    return problems


_REQUIRED = {"cakemail": [("cakemail:username", "CAKEMAIL_USERNAME"), ("cakemail:password", "CAKEMAIL_PASSWORD")],
             "signupto": [("signupto:partnerId", "SIGNUPTO_PARTNER_ID"), ("signupto:partnerKey", "SIGNUPTO_PARTNER_KEY")],
             "ciirus": [("ciirus:username", "CIIRUS_USERNAME"), ("ciirus:password", "CIIRUS_PASSWORD")]}


def _other_missing(platform: str, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    for key, env in _REQUIRED[platform]:
        try:
            _require(config, key, env)
        except MissingCredentials as exc:
            found.append((key, str(exc)))
    return found
