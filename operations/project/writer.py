"""Writing a customer stack for an environment: what `clone`, `new` and `discover` share.

Pulumi creates the stack and encrypts every secret (stack init, `--copy-config-from`, `config set
--secret` with the value on stdin); this module then writes the plain part of the stack file
(provider settings of the environment, the environment's name and the customer declaration),
keeping the encrypted values and the encryption salt exactly as Pulumi wrote them.

A new stack shares its environment's encryption salt (the one most of the environment's stack files
hold, with the passphrase secrets provider): `pulumi stack init` keeps a salt already in the stack
file, so one passphrase key derivation opens the whole environment's secrets
(operations/engine/passphrase.py). The key is as strong as before (same passphrase, same 10^6 rounds
of PBKDF2, a random salt per environment, a random nonce per value); see README, "Secrets and the
one pass".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Optional

import yaml

from providers.platforms import described
from providers.platforms.settings import provider_settings

from ..engine.cli import copy_config, init_stack, set_secret
from ..engine.errors import EngineError
from ..engine.passphrase import salt_of
from .environments import Environment
from .stacks import CUSTOMER_KEY, ENVIRONMENT_KEY, ProjectError, customer_stacks, read_stack_file, stack_file

# Settings that belong to an environment, not to a customer: never carried from one to another
# (every provider setting of every platform, its timeout included: the environment names its endpoints).
PROVIDER_KEYS = {setting.config_key for platform in described() for setting in provider_settings(platform)}


def _secure_entries(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}}


def with_copied_secrets(declaration: Any, copied: Any) -> Any:
    """The declaration with each encrypted value inside it (`account.password: {secure: ...}`) taken
    from the copy Pulumi made, which re-encrypted it for this stack (the source's would not decrypt)."""
    if isinstance(declaration, dict) and set(declaration) == {"secure"}:
        if not (isinstance(copied, dict) and set(copied) == {"secure"}):
            raise EngineError("an encrypted value of the customer declaration was not copied by Pulumi")
        return copied
    if isinstance(declaration, dict):
        copied = copied if isinstance(copied, dict) else {}
        return {k: with_copied_secrets(v, copied.get(k)) for k, v in declaration.items()}
    if isinstance(declaration, list):
        copied = copied if isinstance(copied, list) else []
        return [with_copied_secrets(v, copied[i] if i < len(copied) else None) for i, v in enumerate(declaration)]
    return declaration


def create_stack(project_dir: Path, stack: str, environment: Environment, platform: str,
                 credentials: list, *, copy_config_from: Optional[str] = None, in_backend: bool = False) -> None:
    """Create `stack` (or reuse it when `in_backend`, for --force) with the environment's credentials
    encrypted into it. `copy_config_from` copies another stack's config (secrets re-encrypted)."""
    if in_backend:
        path = stack_file(project_dir, stack)
        kept = {k: v for k, v in (read_stack_file(path) if path.exists() else {}).items() if k != "config"}
        path.write_text(yaml.safe_dump(kept, sort_keys=False) if kept else "")
        if copy_config_from:
            copy_config(copy_config_from, stack, project_dir)
    else:
        path = stack_file(project_dir, stack)
        salt = None if path.exists() else environment_salt(project_dir, environment.name)
        if salt is not None:
            path.write_text(yaml.safe_dump({"encryptionsalt": salt}))
        try:
            init_stack(stack, project_dir, copy_config_from=copy_config_from)
        except EngineError as exc:
            if salt is not None:
                path.unlink(missing_ok=True)
                if "incorrect passphrase" in str(exc):
                    raise EngineError(f"stack {stack}: PULUMI_CONFIG_PASSPHRASE does not open the secrets of the "
                                      f"environment {environment.name}'s other stacks (a new stack shares their "
                                      f"encryption salt): use the environment's passphrase", exc.cause) from None
            raise
    for entry, value in credentials:
        if entry.secret:
            set_secret(stack, entry.key, value, project_dir)


def environment_salt(project_dir: Path, environment: str) -> Optional[str]:
    """The encryption salt most of the environment's stack files share (passphrase provider), if any."""
    try:
        stacks = [s for s in customer_stacks(project_dir) if s.environment == environment]
        salts = Counter(salt for salt in (salt_of(read_stack_file(s.file)) for s in stacks) if salt)
    except ProjectError:
        return None
    return min(salts, key=lambda salt: (-salts[salt], salt)) if salts else None


def write_declaration(project_dir: Path, stack: str, environment: Environment, platform: str, credentials: list,
                      declaration: Optional[dict[str, Any]], *, header: str = "", declaration_text: str = "",
                      keep_from_copy: bool = True) -> Path:
    """Write the plain settings into the stack file Pulumi made. Secrets copied from another stack
    stay (re-encrypted by Pulumi), except another environment's credentials."""
    path = stack_file(project_dir, stack)
    data = read_stack_file(path) if path.exists() else {}
    old = data.pop("config", None) or {}
    secrets = {entry.key for entry, _ in credentials if entry.secret}
    config: dict[str, Any] = {}
    for entry, value in credentials:
        config[entry.key] = old[entry.key] if entry.secret else value
    if keep_from_copy:
        for key, value in old.items():
            if key in PROVIDER_KEYS or key in config or key in (CUSTOMER_KEY, ENVIRONMENT_KEY):
                continue
            config[key] = value  # the customer's other settings, secrets still encrypted
    missing = [k for k in secrets if not isinstance(config.get(k), dict)]
    if missing:
        raise EngineError(f"stack {stack}: Pulumi did not store {', '.join(missing)} encrypted")
    config[ENVIRONMENT_KEY] = environment.name
    if declaration is not None:
        config[CUSTOMER_KEY] = with_copied_secrets(declaration, old.get(CUSTOMER_KEY)) if keep_from_copy \
            else declaration
    text = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.strip("\n").splitlines()) if header else ""
    text += yaml.safe_dump(data, sort_keys=False) if data else ""
    text += yaml.safe_dump({"config": config}, sort_keys=False, allow_unicode=True, width=120)
    if declaration_text:
        text += declaration_text
    path.write_text(text)
    # The file must stay what Pulumi reads: check it parses back to the same secure values.
    reread = read_stack_file(path).get("config") or {}
    if _secure_entries(reread) != _secure_entries(config):
        raise EngineError(f"{path}: the encrypted values did not survive rewriting the file")
    return path
