"""Write-only secrets in the sweep: carried as an opaque stand-in, never decrypted.

A platform's `secret_account_settings` (a SendGrid subuser's password) are handed to the SubAccount
as Pulumi secrets, so every such customer's state holds ciphertext. When the SubAccount's handler
never compares the setting (it is not in its `compared()` fields) the value only matters to the
handler's `check`: `refuse_changes` compares the declared value with the recorded one. Its read
keeps the recorded value, so a refresh never changes it.

The sweep therefore replaces the state's ciphertext, and the stack file's `secure:` leaf, with the
same stand-in (OPAQUE): read, diff and check then see what they see in the engine, exactly when the
declared value is the recorded one. The two ciphertexts differ even for the same value (each
encryption has its own nonce), so that is established without decrypting: the latest history entry
of the stack that could have written its state (`update`, `destroy`, `import`...; a refresh's read
keeps the value) must be a succeeded `update` whose config holds the very same `secure:` ciphertext
as the stack file holds now. Otherwise the declared value may differ (the engine would refuse it at
check) and the customer goes to the engine, saying why.
"""

from __future__ import annotations

from typing import Any, Optional

from providers.handlers.base import handler_of
from providers.platforms import describe, names

from ..backend.state import RecordedResource
from ..project.stacks import CUSTOMER_KEY
from ..values import SECRET, holds_encrypted, is_encrypted

OPAQUE = "(a write-only secret: not decrypted by the sweep)"  # long enough for any length rule


def write_only_settings(platform: Any) -> frozenset[str]:
    """The platform's secret account settings that its SubAccount handler never compares."""
    if not isinstance(platform, str) or platform not in names():
        return frozenset()
    handler = handler_of(platform, "SubAccount")
    compared = set(handler.compared()) if handler is not None else set()
    return frozenset(k for k in describe(platform).secret_account_settings if k not in compared)


def _is_secure_leaf(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def recorded_write_only(resource: RecordedResource) -> set[str]:
    """The write-only settings whose ciphertext this SubAccount's state records."""
    if resource.kind != "SubAccount":
        return set()
    keys = write_only_settings(resource.inputs.get("platform"))
    return {k for k in keys if is_encrypted(resource.inputs.get(k)) or is_encrypted(resource.outputs.get(k))}


def holds_other_secrets(resource: RecordedResource) -> bool:
    """Whether the state holds ciphertext other than write-only settings (only the engine reads it)."""
    opaque = recorded_write_only(resource)
    return (holds_encrypted({k: v for k, v in resource.inputs.items() if k not in opaque})
            or holds_encrypted({k: v for k, v in resource.outputs.items() if k not in opaque}))


def with_opaque_state(resource: RecordedResource) -> RecordedResource:
    """The resource with its write-only ciphertext replaced by OPAQUE (unchanged when it holds none)."""
    keys = recorded_write_only(resource)
    if not keys:
        return resource
    swap = (lambda props: {k: (OPAQUE if k in keys and is_encrypted(v) else v) for k, v in props.items()})
    return resource.model_copy(update={"inputs": swap(resource.inputs), "outputs": swap(resource.outputs)})


def with_opaque_declaration(declaration: dict[str, Any]) -> dict[str, Any]:
    """The declaration with its write-only settings' `secure:` leaves replaced by OPAQUE."""
    account = declaration.get("account")
    keys = write_only_settings(declaration.get("platform"))
    if not isinstance(account, dict) or not any(_is_secure_leaf(account.get(k)) for k in keys):
        return declaration
    opaque = {k: (OPAQUE if k in keys and _is_secure_leaf(v) else v) for k, v in account.items()}
    return {**declaration, "account": opaque}


def shown(value: Any) -> Any:
    """OPAQUE as the engine path's reports show a secret."""
    return SECRET if value == OPAQUE else value


def needs_engine(declaration: dict[str, Any], resources: list[RecordedResource],
                 last_update_config: Optional[dict[str, Any]]) -> Optional[str]:
    """Why the sweep cannot judge this customer's write-only secrets without decrypting, if it cannot.
    `last_update_config`: the config of the stack's latest state-writing history entry when that was a
    succeeded update (None otherwise, or without history)."""
    account = declaration.get("account") if isinstance(declaration.get("account"), dict) else {}
    keys = write_only_settings(declaration.get("platform"))
    recorded = set().union(*(recorded_write_only(r) for r in resources)) if resources else set()
    for key in sorted(keys):
        declared = account.get(key)
        if declared is None:
            continue  # nothing declared: check compares nothing
        if not _is_secure_leaf(declared):
            return f"customer.account.{key} is not stored encrypted (the program refuses it)"
        if key not in recorded:
            continue  # declared, none recorded: check's verdict needs no value
        then = ((last_update_config or {}).get(CUSTOMER_KEY) or {})
        then = then.get("account", {}).get(key) if isinstance(then, dict) and isinstance(then.get("account"), dict) else None
        if not (_is_secure_leaf(then) and then["secure"] == declared["secure"]):
            return (f"customer.account.{key} may differ from the recorded one (a write-only secret the sweep "
                    f"does not decrypt, and the stack file's ciphertext is not the last succeeded update's)")
    return None
