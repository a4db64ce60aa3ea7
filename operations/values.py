"""How the tool shows and compares values: secrets masked, field differences found, once for every report.

Two views of a value, for two purposes:
- `comparable`: as the engine compares it (encrypted values as `[secret]`, nulls in objects dropped
  because the engine drops them, whole-number floats as integers because every number crosses the
  engine's wire as a float);
- `masked`: as any report shows it (encrypted values and every field whose name says it holds a
  credential as `[secret]`, at every depth).
`field_differences` walks two values down to their leaves (lists compared whole), the one walker
behind drift reports, review changes and the status page.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the engine's marker of an encrypted value in state and events
SECRET = "[secret]"                               # how every report of the tool shows a secret
SECRET_NAME = re.compile(r"password|partnerkey|secret|token|apikey|api_key|credential", re.I)
ANSI = re.compile(r"\x1b\[[0-9;]*m")                # terminal colours in the engine's words


def is_encrypted(value: Any) -> bool:
    """An engine secret (`{"4dabf1...": ..., "ciphertext": ...}`): only the engine can read it."""
    return isinstance(value, dict) and SECRET_SIG in value


def holds_encrypted(value: Any) -> bool:
    """Whether an encrypted value is anywhere inside `value`."""
    if isinstance(value, dict):
        return is_encrypted(value) or any(holds_encrypted(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_encrypted(v) for v in value)
    return False


def is_secret_name(name: Optional[str]) -> bool:
    return bool(SECRET_NAME.search(name or ""))


def comparable(value: Any) -> Any:
    """The value as the engine compares it (see the module docstring)."""
    if isinstance(value, dict):
        if is_encrypted(value):
            return SECRET
        return {k: comparable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def masked(name: Optional[str], value: Any) -> Any:
    """The value as a report shows it: `[secret]` for encrypted values and secret-named fields (a null
    stays null: nothing is there to hide)."""
    if value == SECRET or is_encrypted(value) or is_secret_name(name):
        return SECRET if value is not None else None
    if isinstance(value, dict):
        return {k: masked(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(name, v) for v in value]
    return value


def leaves(value: Any, prefix: str = "", skip: Callable[[str], bool] = lambda key: False) -> dict[str, Any]:
    """`{"owner": {"email": x}}` -> `{"owner.email": x}`: every leaf by its dotted path (lists are leaves)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            if not skip(str(key)):
                flat.update(leaves(item, f"{prefix}.{key}" if prefix else str(key), skip))
        return flat
    return {prefix: value} if prefix else {}


def internal(key: str) -> bool:
    """The engine's own properties (`__provider`, ...): never a user's field."""
    return key.startswith("__")


def field_differences(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf that differs, by path; the engine's own properties are skipped."""
    olds, news = leaves(old or {}, skip=internal), leaves(new or {}, skip=internal)
    return [(path, olds.get(path), news.get(path)) for path in sorted(set(olds) | set(news))
            if olds.get(path) != news.get(path)]


COUNTED = ("create", "update", "replace", "delete")  # the engine's change kinds a run counts


def changes_text(changes: dict[str, int]) -> str:
    """`1 create, 2 update` in the engine's order; `-` for none."""
    return ", ".join(f"{changes[op]} {op}" for op in COUNTED if changes.get(op)) or "-"
