"""The recorded state of many stacks at once, read from the state backend's own storage, read only.

The layout is the engine's DIY backend (pkg/backend/diy): `.pulumi/meta.yaml` holds the layout
version (0: `.pulumi/stacks/<stack>.json`; 1: project-scoped, `.pulumi/stacks/<project>/<stack>.json`),
each checkpoint may be plain, gzipped (`.json.gz`) or zstd-compressed (`.json.zst`), and of the
variants present the most recently written one is the stack's. The file backend keeps these as
files under its directory; the PostgreSQL backend as rows of its one table (`pulumi_state`, or
the URL's `?table=`): key TEXT (the path, under the URL's own path: `<database>/.pulumi/...`), data JSON (`{"data": <base64 of the bytes>}`),
updated_at. One query fetches every selected stack's checkpoint.

Anything this reader does not know (another layout or checkpoint version, zstd, another kind of
backend, pending operations) is not guessed at: that stack is marked for the engine, with the reason.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

LAYOUT_VERSIONS = (0, 1)
CHECKPOINT_VERSIONS = (3,)  # what this engine writes (apitype.DeploymentSchemaVersionCurrent)
VARIANTS = (".json", ".json.gz", ".json.zst")
META_KEY = ".pulumi/meta.yaml"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
CONNECT_TIMEOUT_SECONDS = 10

Status = Literal["recorded", "not deployed", "engine", "unreadable"]


class BackendError(Exception):
    """The backend cannot be read at all; the message never holds a password."""


class RecordedResource(BaseModel):
    """One resource of a checkpoint (apitype.ResourceV3), the fields a refresh works from."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    urn: str
    type: str
    custom: bool = False
    id: Optional[str] = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    parent: Optional[str] = None
    provider: Optional[str] = None
    protect: Optional[bool] = None
    external: Optional[bool] = None
    delete: Optional[bool] = None
    pending_replacement: Optional[bool] = Field(None, alias="pendingReplacement")
    init_errors: Optional[list[str]] = Field(None, alias="initErrors")

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


class RecordedStack(BaseModel):
    name: str
    status: Status
    reason: Optional[str] = Field(None, description="why the engine must read it, or why it is unreadable")
    resources: list[RecordedResource] = Field(default_factory=list)
    key: Optional[str] = Field(None, description="the checkpoint's key in the backend (its history is beside it)")


class Backend(BaseModel):
    """Where the state is: a file directory, a PostgreSQL table, or somewhere only the engine reads."""

    url: str
    kind: Literal["file", "postgres", "other"]

    @property
    def shown(self) -> str:
        return redacted(self.url)


def redacted(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def current_backend(env: Mapping[str, str]) -> Optional[Backend]:
    """The backend the engine would use: PULUMI_BACKEND_URL, else the one `pulumi login` recorded."""
    url = env.get("PULUMI_BACKEND_URL")
    if not url:
        home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
        try:
            url = json.loads((home / "credentials.json").read_text()).get("current")
        except (OSError, ValueError):
            url = None
    if not url:
        return None
    scheme = urlsplit(url).scheme
    kind = "file" if scheme == "file" else "postgres" if scheme == "postgres" else "other"
    return Backend(url=url, kind=kind)


def read_stacks(backend: Backend, project: str, names: Sequence[str]) -> dict[str, RecordedStack]:
    """Every named stack's latest checkpoint, by stack name. Raises BackendError when the backend
    itself cannot be read; a stack it cannot interpret is marked for the engine."""
    if backend.kind == "other":
        reason = f"state in {urlsplit(backend.url).scheme}:// is read by the engine only"
        return {n: RecordedStack(name=n, status="engine", reason=reason) for n in names}
    blobs = _file_blobs(backend.url, project, names) if backend.kind == "file" else _postgres_blobs(backend.url, project, names)
    layout, problem = _layout(blobs.pop(META_KEY, None), bool(blobs))
    by_base: dict[str, list[Blob]] = {}
    for key, blob in blobs.items():
        base = next((key[:-len(ext)] for ext in VARIANTS if key.endswith(ext)), key)
        by_base.setdefault(base, []).append(blob)
    stacks = {}
    for name in names:
        if problem:
            stacks[name] = RecordedStack(name=name, status="engine", reason=problem)
            continue
        stacks[name] = _parse(name, _latest(by_base.get(_stack_base(layout, project, name), [])))
    return stacks


# --- where the blobs come from ------------------------------------------------------------------------

Blob = tuple[bytes, datetime, str]  # content, when written, key


def _candidate_keys(project: str, names: Sequence[str]) -> list[str]:
    keys = [META_KEY]
    for name in names:
        for layout in LAYOUT_VERSIONS:
            keys += [_stack_base(layout, project, name) + ext for ext in VARIANTS]
    return keys


def _stack_base(layout: int, project: str, name: str) -> str:
    return f".pulumi/stacks/{project}/{name}" if layout == 1 else f".pulumi/stacks/{name}"


def file_root(url: str) -> Path:
    """file:///abs/dir, file://~/dir (the engine expands `~` too); query options are the engine's."""
    return Path(os.path.expanduser(unquote(url[len("file://"):].split("?", 1)[0])))


def _file_blobs(url: str, project: str, names: Sequence[str]) -> dict[str, Blob]:
    root = file_root(url)
    if not root.is_dir():
        raise BackendError(f"the state backend {redacted(url)} is not a directory")
    blobs = {}
    for key in _candidate_keys(project, names):
        path = root / key
        try:
            stat = path.stat()
            blobs[key] = (path.read_bytes(), datetime.fromtimestamp(stat.st_mtime, timezone.utc), key)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BackendError(f"cannot read {path}: {exc.strerror or exc}") from None
    return blobs


def _postgres_blobs(url: str, project: str, names: Sequence[str]) -> dict[str, Blob]:
    """One read-only query over the backend's own table."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    table = query.pop("table", "pulumi_state")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise BackendError(f"the state backend {redacted(url)} names table {table!r}, which is not a plain table name")
    conninfo = urlunsplit(parts._replace(query=urlencode(query)))
    # The engine keeps the bucket's keys under the URL's path (postgres://host/db: "db/.pulumi/...").
    prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
    keys = [prefix + key for key in _candidate_keys(project, names)]
    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=False) as conn:
            conn.read_only = True
            rows = conn.execute(sql.SQL("SELECT key, data->>'data', updated_at FROM {} WHERE key = ANY(%s)")
                                .format(sql.Identifier(table)), (keys,)).fetchall()
            conn.rollback()
    except psycopg.errors.UndefinedTable:
        return {}  # the engine creates its table on first use: nothing was ever deployed here
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())[:300]
        raise BackendError(f"cannot read the state backend {redacted(url)}: {reason}") from None
    return {key[len(prefix):]: (base64.b64decode(data), updated, key[len(prefix):]) for key, data, updated in rows}


# --- what the blobs say --------------------------------------------------------------------------------

def _layout(meta: Optional[Blob], any_stack: bool) -> tuple[int, Optional[str]]:
    """The layout version, or a reason to leave the backend to the engine."""
    if meta is None:
        return (0 if any_stack else 1), None  # the engine's own rule for a bucket without meta.yaml
    try:
        version = (yaml.safe_load(meta[0]) or {}).get("version")
    except yaml.YAMLError:
        return 1, f"{META_KEY} is not valid YAML"
    if version not in LAYOUT_VERSIONS:
        return 1, f"{META_KEY} says layout version {version!r}; this tool reads versions {LAYOUT_VERSIONS}"
    return version, None


def _latest(candidates: list[Blob]) -> Optional[Blob]:
    """Of the stack's variants (.json, .json.gz, .json.zst), the most recently written, as the engine picks."""
    best = None
    for blob in candidates:
        if best is None or blob[1] >= best[1]:
            best = blob
    return best


def _parse(name: str, blob: Optional[Blob]) -> RecordedStack:
    if blob is None:
        return RecordedStack(name=name, status="not deployed")
    content, _, key = blob
    if key.endswith(".zst"):
        return RecordedStack(name=name, status="engine", reason=f"{key} is zstd-compressed, which this tool does not read")
    try:
        document = json.loads(gzip.decompress(content) if key.endswith(".gz") else content)
    except (OSError, ValueError) as exc:
        return RecordedStack(name=name, status="unreadable", reason=f"{key} is not a readable checkpoint ({exc})")
    version = document.get("version") if isinstance(document, dict) else None
    if version not in CHECKPOINT_VERSIONS:
        return RecordedStack(name=name, status="engine",
                             reason=f"checkpoint version {version!r} (this tool reads {', '.join(map(str, CHECKPOINT_VERSIONS))})")
    deployment = (document.get("checkpoint") or {}).get("latest") or {}
    if deployment.get("pending_operations"):
        return RecordedStack(name=name, status="engine", reason="the state has pending operations of an interrupted run")
    try:
        resources = [RecordedResource.model_validate(r) for r in deployment.get("resources") or []]
    except ValueError as exc:
        return RecordedStack(name=name, status="unreadable", reason=f"{key}: unexpected resource record ({exc})")
    if not any(r.custom and not r.type.startswith("pulumi:providers:") for r in resources):
        return RecordedStack(name=name, status="not deployed")
    return RecordedStack(name=name, status="recorded", resources=resources, key=key)


def holds_secret(value: Any) -> bool:
    """Whether a recorded value holds an encrypted secret (only the engine can decrypt it)."""
    if isinstance(value, dict):
        return SECRET_SIG in value or any(holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False
