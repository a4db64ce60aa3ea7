"""Who `fleet drift`'s sweep reads as: customers grouped by partner identity, credentials per identity.

An identity is (environment, platform, API URL, API user): its customers share one authenticated
session (the clients are cached per identity, providers/platforms/clients.py) and one request budget per
environment and vendor. The provider config an identity reads with is what the engine hands the
providers of each of its stacks: the stack file's own settings, secrets decrypted once per identity
in memory only (in this process for the passphrase provider, operations/engine/passphrase.py: one
key derivation per salt; through the engine, `pulumi config --show-secrets`, for any other), and
otherwise the environment variables the providers fall back to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from providers.http import RequestBudget
from providers.platforms import describe, names
from providers.platforms.settings import identity_settings

from ..engine.cli import stack_config
from ..engine.errors import EngineError
from ..engine.passphrase import PassphraseError, WrongPassphrase, decrypted_settings
from ..project.environments import EnvironmentError_, RequestBudgetSpec, load_environment
from ..project.stacks import CustomerStack, ProjectError, read_stack_file


@dataclass(frozen=True)
class Identity:
    environment: Optional[str]
    platform: str
    settings: tuple[tuple[str, str], ...]  # the identity settings' values, as the stack or the environment gives them
    secrets_from: Optional[str] = None     # a stack whose own config holds encrypted settings: decrypted once

    def describe(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.settings if k != "apiUrl")
        return f"{self.platform} ({shown or 'from the environment'}, environment {self.environment or '-'})"


@dataclass
class IdentityGroup:
    identity: Identity
    stacks: list[CustomerStack] = field(default_factory=list)


def _plain(value: Any) -> Optional[str]:
    """A stack file value as the engine gives it (None for an encrypted one)."""
    if isinstance(value, dict):
        return None
    return None if value is None else (str(value).lower() if isinstance(value, bool) else str(value))


def identity_of(stack: CustomerStack, environ: Mapping[str, str]) -> Identity:
    platform = stack.platform or "?"
    prefix = f"{platform}:"
    own = {k: v for k, v in stack.config.items() if k.startswith(prefix)}
    values, user_hidden = [], False
    # The settings that tell one identity from another (the secret itself never does), per its description.
    for setting in identity_settings(describe(platform)) if platform in names() else ():
        raw = own.get(setting.config_key)
        if isinstance(raw, dict):
            user_hidden = True
            continue
        values.append((setting.key, _plain(raw) or environ.get(setting.env_var) or ""))
    # Secrets kept in the stacks' own config are decrypted once per identity; a stack whose user itself is
    # encrypted is an identity of its own (who it is, only the engine can say).
    encrypted = any(isinstance(v, dict) for v in own.values())
    secrets_from = stack.name if user_hidden else ("stack config" if encrypted else None)
    return Identity(stack.environment, platform, tuple(values), secrets_from)


def group_by_identity(stacks: list[CustomerStack], environ: Mapping[str, str]) -> list[IdentityGroup]:
    groups: dict[Identity, IdentityGroup] = {}
    for stack in stacks:
        identity = identity_of(stack, environ)
        groups.setdefault(identity, IdentityGroup(identity)).stacks.append(stack)
    return list(groups.values())


class CredentialsError(Exception):
    """The identity's settings cannot be had (the message names the stack and never a value)."""


def provider_config(group: IdentityGroup, project_dir: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The config the engine would hand these stacks' providers: the vendor's keys of the first stack,
    decrypted when any is encrypted (in this process for the passphrase provider, else through the
    engine). Held in memory only."""
    stack = group.stacks[0]
    platform = group.identity.platform
    keys = [k for k in stack.config if k.startswith(f"{platform}:")]
    if group.identity.secrets_from is None:
        return {k: _plain(stack.config[k]) for k in keys}
    try:
        settings = decrypted_settings(read_stack_file(stack.file), keys, env, project_dir)
        return {k: (v if isinstance(v, str) else _plain(v)) for k, v in settings.items()}
    except WrongPassphrase:
        raise CredentialsError(f"cannot decrypt the {platform} settings of stack {stack.name}: incorrect passphrase "
                               f"(is PULUMI_CONFIG_PASSPHRASE the one its secrets were encrypted with?)") from None
    except (PassphraseError, ProjectError):
        pass  # another secrets provider, or no passphrase here: the engine decrypts (or says why not)
    try:
        config = stack_config(stack.name, project_dir, env)
    except EngineError:
        # Its message is the engine's (a wrong passphrase, a missing stack); never a secret value.
        raise CredentialsError(f"cannot decrypt the {platform} settings of stack {stack.name} through the engine "
                               f"(is PULUMI_CONFIG_PASSPHRASE set, and the stack created in this backend?)") from None
    return {k: (v if isinstance(v, str) else _plain(v)) for k, v in config.items() if k.startswith(f"{platform}:")}


class Budgets:
    """One RequestBudget per (environment, vendor): the environment file's `request_budgets`, else defaults."""

    def __init__(self, project_dir: Path):
        self._project_dir = project_dir
        self._budgets: dict[tuple[Optional[str], str], RequestBudget] = {}
        self._specs: dict[str, dict[str, RequestBudgetSpec]] = {}  # each environment file read once

    def spec(self, environment: Optional[str], platform: str) -> RequestBudgetSpec:
        if environment is None:
            return RequestBudgetSpec()
        if environment not in self._specs:
            try:
                self._specs[environment] = load_environment(self._project_dir, environment).spec.request_budgets
            except EnvironmentError_:
                self._specs[environment] = {}  # a stack whose environment has no file: the defaults
        return self._specs[environment].get(platform) or RequestBudgetSpec()

    def for_identity(self, identity: Identity) -> RequestBudget:
        key = (identity.environment, identity.platform)
        if key not in self._budgets:
            spec = self.spec(*key)
            self._budgets[key] = RequestBudget(spec.concurrency, spec.per_second)
        return self._budgets[key]

    @property
    def all(self) -> list[RequestBudget]:
        return list(self._budgets.values())

    @property
    def requests(self) -> int:
        return sum(b.started for b in self._budgets.values())
