"""The recorded state of many stacks at once, read from the state backend's own storage, read only.

The layout is the engine's DIY backend (pkg/backend/diy, see location.py): `.pulumi/meta.yaml` holds
the layout version (0: `.pulumi/stacks/<stack>.json`; 1: project-scoped, `.pulumi/stacks/<project>/<stack>.json`),
each checkpoint may be plain, gzipped (`.json.gz`) or zstd-compressed (`.json.zst`), and of the
variants present the most recently written one is the stack's. One query fetches every selected
stack's checkpoint from PostgreSQL.

Anything this reader does not know (another layout or checkpoint version, zstd, another kind of
backend, pending operations) is not guessed at: that stack is marked for the engine, with the reason.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from typing import Any, Literal, Optional, Sequence
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..engine.urns import kind_of_type, name_of_urn
from .location import Backend, BackendError

LAYOUT_VERSIONS = (0, 1)
CHECKPOINT_VERSIONS = (3,)  # what this engine writes (apitype.DeploymentSchemaVersionCurrent)
VARIANTS = (".json", ".json.gz", ".json.zst")
META_KEY = ".pulumi/meta.yaml"

Status = Literal["recorded", "not deployed", "engine", "unreadable"]


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
    retain_on_delete: Optional[bool] = Field(None, alias="retainOnDelete")
    external: Optional[bool] = None
    delete: Optional[bool] = None
    pending_replacement: Optional[bool] = Field(None, alias="pendingReplacement")
    init_errors: Optional[list[str]] = Field(None, alias="initErrors")
    created: Optional[str] = Field(None, description="when the engine created it (RFC 3339)")
    modified: Optional[str] = Field(None, description="when its recorded outputs last changed")

    @property
    def name(self) -> str:
        return name_of_urn(self.urn)

    @property
    def kind(self) -> str:
        """SubAccount, AccountFeatures, ... (the type token's last segment)."""
        return kind_of_type(self.type)

    @property
    def managed(self) -> bool:
        """A customer's own resource: custom, not the engine's provider record."""
        return self.custom and not self.type.startswith("pulumi:providers:")


class RecordedStack(BaseModel):
    name: str
    status: Status
    reason: Optional[str] = Field(None, description="why the engine must read it, or why it is unreadable")
    resources: list[RecordedResource] = Field(default_factory=list, description="its custom resources")
    key: Optional[str] = Field(None, description="the checkpoint's key in the backend (its history is beside it)")
    digest: Optional[str] = Field(None, description="SHA-256 of the checkpoint as stored: any write changes it")


def read_stacks(backend: Backend, project: str, names: Sequence[str]) -> dict[str, RecordedStack]:
    """Every named stack's latest checkpoint, by stack name. Raises BackendError when the backend
    itself cannot be read; a stack it cannot interpret is marked for the engine."""
    if backend.kind == "other":
        reason = f"state in {urlsplit(backend.url).scheme}:// is read by the engine only"
        return {n: RecordedStack(name=n, status="engine", reason=reason) for n in names}
    blobs = _file_blobs(backend, project, names) if backend.kind == "file" else _postgres_blobs(backend, project, names)
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


def _file_blobs(backend: Backend, project: str, names: Sequence[str]) -> dict[str, Blob]:
    root = backend.root
    if not root.is_dir():
        raise BackendError(f"the state backend {backend.shown} is not a directory")
    blobs, listed = {}, {}
    for key in _candidate_keys(project, names):
        directory, _, name = key.rpartition("/")
        if directory not in listed:  # one listing per directory, not a lookup per candidate file
            try:
                listed[directory] = set(os.listdir(root / directory))
            except (FileNotFoundError, NotADirectoryError):
                listed[directory] = set()
            except OSError as exc:
                raise BackendError(f"cannot read {root / directory}: {exc.strerror or exc}") from None
        if name not in listed[directory]:
            continue
        path = root / key
        try:
            stat = path.stat()
            blobs[key] = (path.read_bytes(), datetime.fromtimestamp(stat.st_mtime, timezone.utc), key)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BackendError(f"cannot read {path}: {exc.strerror or exc}") from None
    return blobs


def _postgres_blobs(backend: Backend, project: str, names: Sequence[str]) -> dict[str, Blob]:
    """One read-only query over the backend's own table."""
    rows = backend.read(lambda table: table.by_keys(_candidate_keys(project, names), with_time=True), [])
    return {key: (base64.b64decode(data), updated, key) for key, data, updated in rows}


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
        # The custom resources only: the stack and its components hold nothing a refresh reads (and the
        # stack's outputs, every DNS record again, are most of a checkpoint).
        resources = [RecordedResource.model_validate(r) for r in deployment.get("resources") or []
                     if isinstance(r, dict) and r.get("custom")]
    except ValueError as exc:
        return RecordedStack(name=name, status="unreadable", reason=f"{key}: unexpected resource record ({exc})")
    if not any(r.managed for r in resources):
        return RecordedStack(name=name, status="not deployed")
    return RecordedStack(name=name, status="recorded", resources=resources, key=key,
                         digest=hashlib.sha256(content).hexdigest())


def stack_names_in(backend: Backend, project: str) -> list[str]:
    """Every stack of `project` that the backend has a checkpoint for, in one listing (files, or one
    query); none where the backend is not read by this tool. Layout 0 keeps every project's stacks in
    one folder: all of them are named then (the checkpoint's own project is not read)."""
    if backend.kind == "other":
        return []
    roots = [f".pulumi/stacks/{project}/", ".pulumi/stacks/"]
    if backend.kind == "file":
        keys = [str(p.relative_to(backend.root)) for root in roots if (backend.root / root).is_dir()
                for p in (backend.root / root).iterdir() if p.is_file()]
    else:
        escaped = [re.sub(r"([\\%_])", r"\\\1", root) + "%" for root in roots]
        keys = backend.read(lambda table: table.keys_like(escaped), [])
    names = set()
    for key in keys:
        folder, _, file = key.rpartition("/")
        if folder + "/" not in roots or "/" in file:
            continue
        name = next((file[:-len(ext)] for ext in VARIANTS if file.endswith(ext)), None)
        if name:
            names.add(name)
    return sorted(names)
