"""Environments as data: `stacks/environments/<name>.yaml`.

An environment names, per vendor, the provider settings its stacks get (apiUrl, apiVersion, user
names) and where each credential comes from (an environment variable, read when a stack is
written and stored encrypted by Pulumi: never a secret in clear in a file), plus the rules that
make a copy of a customer safe in it (`email-partners clone`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from providers.platforms import described, names
from providers.platforms.settings import provider_settings
from providers.validators import validation_problems

from ..errors import UsageError
from .stacks import slug

ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def plus_address(email: str, tag: str) -> str:
    """`owner@x` -> `owner+<tag>@x` (`a+b@x` -> `a+b-<tag>@x`); an address already tagged stays as it is."""
    local, _, domain = email.partition("@")
    if local.endswith(f"+{tag}") or f"+{tag}-" in local:
        return email
    return f"{local}{'-' if '+' in local else '+'}{tag}@{domain}"


class EnvironmentError_(UsageError):
    """A missing or invalid environment, named precisely for the user (the CLI exits 2)."""


class FromEnv(BaseModel):
    """A credential read from this environment variable when a stack is written, then kept encrypted."""

    model_config = ConfigDict(extra="forbid")
    env: str

    @field_validator("env")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENV_VAR.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
        return value


def _not_a_secret(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError("a credential may not be written in clear here; name the environment variable that holds "
                         "it, e.g. {env: STAGING_CAKEMAIL_PASSWORD}")
    return value


class VendorSettings(BaseModel):
    """One platform's provider settings in an environment file (a model per platform, made from its
    description's settings: every key the provider reads, secrets only as `{env: VARIABLE}`)."""

    model_config = ConfigDict(extra="forbid")

    def entries(self, vendor: str) -> list["ConfigEntry"]:
        out = []
        for key in type(self).model_fields:
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, FromEnv):
                out.append(ConfigEntry(f"{vendor}:{key}", None, value.env, True))
            else:
                out.append(ConfigEntry(f"{vendor}:{key}", str(value), None, False))
        return out


def vendor_settings_model(platform) -> type[VendorSettings]:
    """The environment file's model of one platform's settings: required where an environment must
    name the setting (its apiUrl, and every setting without a default), optional otherwise."""
    fields: dict[str, Any] = {}
    validators = {}
    for setting in provider_settings(platform):
        kind = FromEnv if setting.secret else platform.settings.model_fields[setting.name].annotation
        fields[setting.key] = (kind, ...) if setting.in_environment else (Optional[kind], None)
        if setting.secret:
            validators[f"_{setting.key}_not_a_secret"] = field_validator(setting.key, mode="before")(_not_a_secret)
    return create_model(f"{platform.title.replace('.', '').replace('-', '')}Environment", __base__=VendorSettings,
                        __validators__=validators, **fields)


Providers = create_model("Providers", __config__=ConfigDict(extra="forbid"),
                         **{p.name: (Optional[vendor_settings_model(p)], None) for p in described()})


class CopyRules(BaseModel):
    """How `clone` rewrites a customer declared elsewhere, so the copy cannot reach real people or
    collide with the original: owner e-mail, sending domains, limits. `suspended` is always kept."""

    model_config = ConfigDict(extra="forbid")

    owner_email: Literal["keep", "plus", "catch_all"] = Field(
        "plus", description="plus: owner@x -> owner+<env>@x; catch_all: every owner -> <catch_all> plus-tagged "
                            "with the customer; keep: unchanged (production-like environments)")
    catch_all: Optional[str] = None
    domain_prefix: Optional[str] = Field(None, description="sending domains become <prefix>.<domain>")
    limits_cap: dict[str, int] = Field(default_factory=dict, description="feature limit -> highest value in a copy")

    @field_validator("domain_prefix")
    @classmethod
    def _label(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", value):
            raise ValueError(f"{value!r} is not a DNS label (lower-case letters, digits, inner hyphens)")
        return value

    @field_validator("limits_cap")
    @classmethod
    def _caps(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"caps must be 0 or more: {', '.join(bad)}")
        return value

    # --- each rule both ways: `clone` makes the copy's value, `promote` maps a copy's value back -----
    # (identities and secrets have no way back on purpose: operations/promotion/changes.py never promotes them)

    def copy_email(self, email: str, environment: str, customer: str) -> str:
        """Where the copy's vendor writes instead of `email`, so a copy never mails the real customer."""
        if self.owner_email == "keep":
            return email
        if self.owner_email == "plus":
            return plus_address(email, environment)
        return plus_address(self.catch_all or "", f"{slug(customer) or 'customer'}-{environment}")

    def original_email(self, email: str, environment: str) -> Optional[str]:
        """The source's e-mail for a copy's `email`; None when the rule cannot tell it (catch_all sends
        every owner to one address; plus: an address the rule did not make)."""
        if self.owner_email == "keep":
            return email
        if self.owner_email == "catch_all" or not isinstance(email, str):
            return None
        local, at, domain = email.partition("@")
        if local.endswith(f"+{environment}"):
            return f"{local[:-len(environment) - 1]}{at}{domain}"
        if local.endswith(f"-{environment}") and "+" in local[:-len(environment) - 1]:
            return f"{local[:-len(environment) - 1]}{at}{domain}"
        return None

    def copy_domain(self, domain: str) -> str:
        """A sending domain of the copy: under the environment's prefix."""
        if self.domain_prefix and domain and not str(domain).lower().startswith(self.domain_prefix + "."):
            return f"{self.domain_prefix}.{domain}"
        return domain

    def original_domain(self, domain: str) -> Optional[str]:
        """The source's name of a copy's domain; None for a domain without the prefix (the rule did not make it)."""
        if not self.domain_prefix:
            return domain
        prefix = self.domain_prefix + "."
        return domain[len(prefix):] if isinstance(domain, str) and domain.lower().startswith(prefix) else None

    def capped(self, name: str, value: Any, no_limit: Sequence[Any]) -> Any:
        """A feature limit of the copy: at most its cap ("no limit" is above any cap)."""
        cap = self.limits_cap.get(name)
        if cap is None or isinstance(value, bool):
            return value
        if value in no_limit or (isinstance(value, (int, float)) and value > cap):
            return cap
        return value

    def original_limit(self, name: str, source: Any, copied: Any, changed: Any, target: Any,
                       no_limit: Sequence[Any]) -> tuple[Any, Optional[str]]:
        """What the source gets for a limit its copy changed from `copied` to `changed`: (value, None), or
        (None, why it needs a decision). The value is the one the change asked for; but where the cap
        had lowered the copy (`source` above `copied`), a change that goes one way on the copy and the
        other way from the target's value (raised from the cap, yet below production's) is not guessed."""
        if name not in self.limits_cap or copied == source:
            return changed, None

        def rank(value: Any) -> Optional[float]:
            if value in no_limit:
                return float("inf")
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        on_copy, from_target = rank(changed), rank(target)
        if on_copy is None or from_target is None or rank(copied) is None or on_copy == from_target:
            return changed, None
        raised = on_copy > rank(copied)
        if raised == (on_copy > from_target):
            return changed, None
        return None, (f"the copy {'raised' if raised else 'lowered'} it from its cap {copied!r} to {changed!r}, "
                      f"which is {'below' if raised else 'above'} the target's {target!r}: promoting it would "
                      f"{'lower' if raised else 'raise'} the target's limit")


class RequestBudgetSpec(BaseModel):
    """How hard `fleet drift` may read one vendor: requests in flight, and started per second."""

    model_config = ConfigDict(extra="forbid")
    concurrency: int = Field(4, ge=1, le=64)
    per_second: float = Field(10.0, gt=0, le=1000)


class EnvironmentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    providers: Providers
    copies: CopyRules = Field(default_factory=CopyRules)
    request_budgets: dict[Literal[names()], RequestBudgetSpec] = Field(
        default_factory=dict, description="per vendor; a vendor not listed gets RequestBudgetSpec's defaults")

    @model_validator(mode="after")
    def _catch_all_address(self):
        if self.copies.owner_email == "catch_all" and not self.copies.catch_all:
            raise ValueError("copies.catch_all: required when copies.owner_email is catch_all")
        return self


@dataclass(frozen=True)
class ConfigEntry:
    """One provider setting of a stack: a plain value, or a secret taken from `env_var`."""

    key: str
    value: Optional[str]
    env_var: Optional[str]
    secret: bool


@dataclass(frozen=True)
class Environment:
    name: str
    file: Path
    spec: EnvironmentFile

    def vendor(self, platform: str) -> VendorSettings:
        settings = getattr(self.spec.providers, platform, None)
        if settings is None:
            offered = [p for p in names() if getattr(self.spec.providers, p) is not None]
            raise EnvironmentError_(f"environment {self.name!r} ({self.file.name}) has no {platform} settings; "
                                    f"it configures: {', '.join(offered) or 'no platform'}")
        return settings

    def provider_entries(self, platform: str) -> list[ConfigEntry]:
        return self.vendor(platform).entries(platform)

    def resolved_config(self, platform: str, environ: Optional[dict[str, str]] = None) -> list[tuple[ConfigEntry, str]]:
        """Each provider setting with its value; a credential whose variable is unset is an error
        raised before anything is written."""
        environ = os.environ if environ is None else environ
        resolved, missing = [], []
        for entry in self.provider_entries(platform):
            if entry.env_var is not None:
                value = environ.get(entry.env_var)
                if not value:
                    missing.append(f"{entry.key} (from ${entry.env_var})")
                    continue
                resolved.append((entry, value))
            else:
                resolved.append((entry, entry.value or ""))
        if missing:
            raise EnvironmentError_(f"environment {self.name!r}: credentials not set: {', '.join(missing)}. Export "
                                    f"the variable(s) and run again; nothing was written")
        return resolved


def environments_dir(project_dir: Path) -> Path:
    return project_dir / "stacks" / "environments"


def environment_names(project_dir: Path) -> list[str]:
    return sorted(p.stem for p in environments_dir(project_dir).glob("*.yaml"))


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in validation_problems(error):
        if problem.kind == "extra_forbidden":
            parts.append(f"{problem.path}: unknown key")
        elif problem.kind == "missing":
            parts.append(f"{problem.path}: is required")
        else:
            parts.append(f"{problem.path + ': ' if problem.path else ''}{problem.message}")
    return "; ".join(parts)


def load_environment(project_dir: Path, name: str) -> Environment:
    path = environments_dir(project_dir) / f"{name}.yaml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not path.exists():
        known = ", ".join(environment_names(project_dir)) or "none"
        raise EnvironmentError_(f"unknown environment {name!r}: no stacks/environments/{name}.yaml "
                                f"(environments: {known})")
    shown = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise EnvironmentError_(f"{shown}: not valid YAML: {exc}") from None
    try:
        return Environment(name, path, EnvironmentFile.model_validate(raw))
    except ValidationError as exc:
        raise EnvironmentError_(f"{shown}: {_describe(exc)}") from None
