"""A platform's provider settings: their keys, environment variables, defaults and secrets, read and checked.

A platform's settings are one pydantic model (a `PlatformSettings`, in its description): each field
is one setting, whose stack config key is the field's camelCase alias under the platform's name
(`signupto:partnerId` for `partner_id`) and whose environment variable stands in when the stack does
not set it (SIGNUPTO_PARTNER_ID: providers/naming.py). A field without a default is required; a
`SecretStr` is a secret. `Setting` metadata adds what a value must look like, which settings tell one
partner identity from another, and which one names the partner. Values reach provider code only
through `configure()` (stack config, secrets decrypted by the engine) or the environment; nothing
here is ever pickled into state.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic.alias_generators import to_camel

from ..naming import config_key, env_var

if TYPE_CHECKING:
    from .description import Platform

DEFAULT_TIMEOUT_SECONDS = 30.0  # the read timeout of http.RetryPolicy
SECRET = "[secret]"


class MissingCredentials(Exception):
    def __init__(self, message: str, key: str = "", env: str = ""):
        super().__init__(message)
        self.key, self.env = key, env


class InvalidSetting(Exception):
    """A provider setting that is present but unusable (e.g. a timeout that is not a positive number)."""

    def __init__(self, message: str, key: str = ""):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Looks:
    """What a value must look like to be usable at all, in words, and the test (checked at preview)."""

    words: str
    fits: Callable[[str], bool]


@dataclass(frozen=True)
class Setting:
    """What a setting's type does not say (its metadata: `Annotated[str, Setting(...)]`)."""

    login: bool = False        # names the partner (`check-credentials` says who was accepted); an identity setting
    identity: bool = False     # with the login, tells one partner identity from another (fleet drift's sessions)
    looks_like: Optional[Looks] = None
    one_of: tuple[str, ...] = ()   # the only values the platform knows...
    one_of_words: str = ""         # ...in words: "a Ciirus API version"
    in_environment: Optional[bool] = None  # must an environment file name it (default: when it has no default)
    parse: Optional[Callable[[str], Any]] = None  # text -> value; ValueError(what it must be) when unusable


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _seconds(text: str) -> float:
    """How long to wait for a vendor's answer (the read timeout); a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not (0 < seconds <= 3600):  # also refuses nan and inf
        raise ValueError("must be a number of seconds between 0 and 3600")
    return seconds


# Every platform's settings have these two (http.RetryPolicy and the URL check use them).
ApiUrl = Annotated[str, Setting(identity=True, in_environment=True, looks_like=Looks(
    "an http(s) URL (for example https://api.example.com)", _http_url))]
Seconds = Annotated[float, Setting(parse=_seconds)]


def an_email_address(value: str) -> bool:
    return "@" in value and not value.startswith("@") and not value.endswith("@")


class PlatformSettings(BaseModel):
    """A platform's settings; subclasses declare `api_url: ApiUrl` and `timeout_seconds: Seconds` with the others."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for required in ("api_url", "timeout_seconds"):
            if required not in cls.__annotations__:
                raise TypeError(f"{cls.__name__} must declare {required} (see PlatformSettings)")


@dataclass(frozen=True)
class ProviderSetting:
    """One setting of one platform, as a user meets it."""

    platform: str
    name: str          # the field: partner_id
    key: str           # the key under the platform: partnerId
    secret: bool
    required: bool
    default: Any
    meta: Setting

    @property
    def config_key(self) -> str:
        return config_key(self.platform, self.key)

    @property
    def env_var(self) -> str:
        return env_var(self.platform, self.key)

    @property
    def in_environment(self) -> bool:
        return self.required if self.meta.in_environment is None else self.meta.in_environment

    def lookup(self, config: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
        """Stack config wins over the environment, as users of other providers expect."""
        value = config.get(self.config_key)
        if value in (None, ""):
            value = (os.environ if environ is None else environ).get(self.env_var)
        return None if value in (None, "") else str(value)

    def missing(self) -> MissingCredentials:
        return MissingCredentials(
            f"missing {self.config_key}: set it with `pulumi config set{' --secret' if self.secret else ''} "
            f"{self.config_key} ...` or the environment variable {self.env_var}", self.config_key, self.env_var)

    def parsed(self, text: str) -> Any:
        if self.meta.parse is None:
            return text
        try:
            return self.meta.parse(text)
        except ValueError as exc:
            raise InvalidSetting(f"{self.config_key} (or {self.env_var}) {exc}, not {text!r}", self.config_key) from None

    def shown(self, value: Any) -> str:
        return SECRET if self.secret else repr(value)


@functools.lru_cache(maxsize=None)
def _fields(platform: str, model: type[PlatformSettings]) -> tuple[ProviderSetting, ...]:
    found = []
    for name, field in model.model_fields.items():
        meta = next((m for m in field.metadata if isinstance(m, Setting)), Setting())
        found.append(ProviderSetting(platform, name, field.alias or name, field.annotation is SecretStr,
                                     field.is_required(), None if field.is_required() else field.default, meta))
    return tuple(found)


def provider_settings(platform: Platform) -> tuple[ProviderSetting, ...]:
    """The platform's settings, in the order its model declares them."""
    return _fields(platform.name, platform.settings)


def read_settings(platform: Platform, config: Mapping[str, Any]) -> PlatformSettings:
    """The platform's settings from `config` (a stack's, or the provider's configure request) or the
    environment; MissingCredentials or InvalidSetting names the first that cannot be had."""
    values = {}
    for setting in provider_settings(platform):
        text = setting.lookup(config)
        if text is None:
            if setting.required:
                raise setting.missing()
            continue
        values[setting.name] = setting.parsed(text)
    return platform.settings(**values)


def settings_problems(platform: Platform, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(config key, reason) for every setting of `platform` that is missing or wrong on its face, all at once.

    Knowable without a request, so a preview that passes means the `up` can authenticate at all."""
    problems, unusable = [], []
    for setting in provider_settings(platform):
        text = setting.lookup(config)
        value = text if text is not None else setting.default
        if isinstance(value, str):
            looks = setting.meta.looks_like
            if looks is not None and not looks.fits(value.strip()):
                problems.append((setting.config_key, f"{setting.config_key} (or {setting.env_var}) is "
                                                     f"{setting.shown(value)}, which is not {looks.words}"))
            elif setting.meta.one_of and value not in setting.meta.one_of:
                problems.append((setting.config_key, f"{setting.config_key} (or {setting.env_var}) is {value!r}, "
                                                     f"not {setting.meta.one_of_words}; supported: "
                                                     f"{', '.join(setting.meta.one_of)}"))
        try:
            if text is None and setting.required:
                raise setting.missing()
            if text is not None:
                setting.parsed(text)
        except (MissingCredentials, InvalidSetting) as exc:
            unusable.append((setting.config_key, str(exc)))
    return problems + unusable


def login_of(platform: Platform, settings: PlatformSettings) -> tuple[str, str]:
    """(config key, value) of the setting that names the partner: `cakemail:username`, `partner@x`."""
    setting = login_setting(platform)
    return setting.config_key, str(getattr(settings, setting.name))


def login_setting(platform: Platform) -> ProviderSetting:
    """The setting that names the partner (`cakemail:username`)."""
    return next(s for s in provider_settings(platform) if s.meta.login)


def login_domain(platform: Platform, config: Mapping[str, Any],
                 environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The domain of the partner's login where it is an e-mail address (the reseller's own domain)."""
    login = login_setting(platform).lookup(config, environ) or ""
    return (login.rpartition("@")[2].strip().lower() or None) if "@" in login else None


def identity_settings(platform: Platform) -> tuple[ProviderSetting, ...]:
    """The settings that tell one partner identity from another (the secret itself never does)."""
    return tuple(s for s in provider_settings(platform) if s.meta.identity or s.meta.login)

