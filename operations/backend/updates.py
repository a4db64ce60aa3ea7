"""The config of each stack's last update, from the backend's own history entries, read only.

Beside each stack's checkpoint the DIY backend keeps one `<stack>-<unix nanoseconds>.history.json`
(or `.json.gz`) per update, refresh or destroy (pkg/backend/diy/state.go, addToHistory): a
backend.UpdateInfo whose `kind` and `result` say what ran and how it ended, and whose `config` is the
stack's config as that run used it, `secure:` values as their ciphertext (config.Value's JSON). The
file backend keeps them as files, the PostgreSQL backend as rows of its table (location.py).
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any, Callable, Optional, Union

from .location import Backend, BackendError
from .state import VARIANTS

HISTORY = (".history.json", ".history.json.gz")  # a zstd entry is not read: the answer is "unknown"
LOOKED_AT = 5  # entries per stack, newest first, before the answer is "unknown" (refreshes between)


def history_dir(checkpoint_key: str) -> str:
    """`.pulumi/history/<project>/<stack>/` for `.pulumi/stacks/<project>/<stack>.json` (either layout)."""
    base = next((checkpoint_key[:-len(ext)] for ext in VARIANTS if checkpoint_key.endswith(ext)), checkpoint_key)
    return ".pulumi/history/" + base[len(".pulumi/stacks/"):] + "/"


def last_update_configs(backend: Backend, checkpoints: dict[str, str]) -> dict[str, Optional[dict[str, Any]]]:
    """For each stack (name -> its checkpoint's key), the config of its newest history entry that is
    not a refresh, when that entry is a succeeded update; None otherwise (another kind, a failed run,
    no history, an entry this reader cannot read). Raises BackendError when the backend cannot be read."""
    if not checkpoints or backend.kind not in ("file", "postgres"):
        return {name: None for name in checkpoints}
    dirs = {name: history_dir(key) for name, key in checkpoints.items()}
    entries = _file_entries(backend, dirs) if backend.kind == "file" else _postgres_entries(backend, dirs)
    return {name: _decisive(entries.get(name, [])) for name in checkpoints}


Content = Union[Optional[bytes], Callable[[], bytes]]  # the bytes, or how to read them when needed


def _decisive(newest_first: list[tuple[str, Content]]) -> Optional[dict[str, Any]]:
    for key, content in newest_first:
        try:
            content = content() if callable(content) else content
            info = json.loads(gzip.decompress(content) if key.endswith(".gz") else content)
        except (OSError, ValueError, TypeError):
            return None
        if not isinstance(info, dict):
            return None
        if info.get("kind") == "refresh":  # a refresh keeps what the last update recorded
            continue
        ok = info.get("kind") == "update" and info.get("result") == "succeeded"
        return info.get("config") if ok and isinstance(info.get("config"), dict) else None
    return None


def _newest(keys: list[str]) -> list[str]:
    """History entries only, newest first (their names end in the same-width nanosecond time)."""
    return sorted((k for k in keys if k.endswith(HISTORY) or k.endswith(".history.json.zst")), reverse=True)[:LOOKED_AT]


def _file_entries(backend: Backend, dirs: dict[str, str]) -> dict[str, list[tuple[str, Content]]]:
    root = backend.root
    found = {}
    for name, directory in dirs.items():
        path = root / directory
        try:
            keys = _newest([p.name for p in path.iterdir()]) if path.is_dir() else []
        except OSError as exc:
            raise BackendError(f"cannot read {path}: {exc.strerror or exc}") from None
        found[name] = [(k, (lambda p=path / k: _read(p)) if k.endswith(HISTORY) else None) for k in keys]
    return found


def _read(path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BackendError(f"cannot read {path}: {exc.strerror or exc}") from None


def _postgres_entries(backend: Backend, dirs: dict[str, str]) -> dict[str, list[tuple[str, Content]]]:
    """Two read-only queries: the history keys of every stack, then the newest entries' contents."""
    def read(table) -> dict[str, list[tuple[str, Content]]]:
        patterns = [_like_escaped(d) + "%" for d in dirs.values()]
        keys = table.keys_like(patterns)
        newest = {name: _newest([k[len(d):] for k in keys if k.startswith(d) and "/" not in k[len(d):]])
                  for name, d in dirs.items()}
        wanted = [dirs[name] + k for name, ks in newest.items() for k in ks if k.endswith(HISTORY)]
        contents = {key: base64.b64decode(data) for key, data in table.by_keys(wanted)} if wanted else {}
        return {name: [(k, contents.get(dirs[name] + k)) for k in ks] for name, ks in newest.items()}

    return backend.read(read, {})


def _like_escaped(text: str) -> str:
    return "".join("\\" + c if c in "\\%_" else c for c in text)
