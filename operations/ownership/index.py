"""Who manages which vendor object: every stack of the backend read in one pass, as `fleet drift` reads it.

The recorded state of every stack of the project (operations/backend/state.py: checkpoint files, or
one query over the PostgreSQL backend's table) gives each managed resource's id, inputs and
outputs, and so the objects it manages (providers/ownership.py, by the platform descriptions'
`owned`). A stack the reader leaves to the engine (pending operations of an interrupted run, zstd,
a backend only the engine reads) is exported through the engine instead, so it is never left out.
The result is written to the project's ownership index (INDEX_FILE) for the policy pack and the
providers, which cannot see the backend.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from providers.ownership import (INDEX_FILE, IndexEntry, Owner, OwnershipIndex, VendorObject, backend_label,
                                 login_of, recorded_objects)

from ..backend.location import Backend, current_backend
from ..backend.state import RecordedResource, read_stacks, stack_names_in
from ..engine.cli import exported_state, list_stacks
from ..engine.environment import engine_env
from ..engine.errors import EngineError
from ..engine.urns import kind_of_type
from ..errors import OperationError
from ..history.model import now_utc
from ..project.stacks import project_name

DEFAULT_PROVIDER = "pulumi:providers:pulumi-python"


@dataclass
class Ownership:
    """The index of one backend, and what could not be read (a stack there may own more than it shows)."""

    index: OwnershipIndex
    stacks: list[str] = field(default_factory=list)      # every stack of the project in the backend
    unread: dict[str, str] = field(default_factory=dict)  # stack -> why its state could not be read

    def objects_of(self, stack: str) -> list[VendorObject]:
        return [e.object for e in self.index.entries if any(o.stack == stack for o in e.owners)]

    def shared(self) -> list[IndexEntry]:
        """Objects recorded by more than one stack: each has an owner too many."""
        return [e for e in self.index.entries if len({o.stack for o in e.owners}) > 1]


def stack_objects(resources: list[RecordedResource]) -> list[tuple[VendorObject, RecordedResource]]:
    """The vendor objects one stack's recorded resources manage."""
    provider = next((r for r in resources if r.type == DEFAULT_PROVIDER), None)
    config = {k: v for k, v in (provider.inputs if provider else {}).items() if isinstance(v, str)}
    found = []
    for resource in resources:
        if not resource.managed or resource.delete:
            continue
        platform = resource.inputs.get("platform") or resource.outputs.get("platform")
        if not isinstance(platform, str):
            continue
        login = login_of(platform, config)  # as recorded: the engine had it from the stack's config
        for obj in recorded_objects(platform, kind_of_type(resource.type), resource.id, resource.inputs,
                                    resource.outputs, login):
            found.append((obj, resource))
    return found


def _exported(stack: str, project_dir: Path, env: Mapping[str, str]) -> list[RecordedResource]:
    deployment = exported_state(stack, project_dir, env) or {}
    return [RecordedResource.model_validate(r) for r in deployment.get("resources") or []]


def read_ownership(project_dir: Path, env: Optional[Mapping[str, str]] = None) -> Ownership:
    """The ownership index of the backend the engine uses (one pass), with the stacks it could not read."""
    env = dict(os.environ if env is None else env)
    backend: Optional[Backend] = current_backend(env)
    project = project_name(project_dir)
    if backend is None:
        raise OperationError("no state backend is set (PULUMI_BACKEND_URL or `pulumi login`): ownership cannot be "
                             "read")
    names = stack_names_in(backend, project) if backend.kind != "other" else list_stacks(project_dir, engine_env(env))
    states = read_stacks(backend, project, names)
    by_object: dict[VendorObject, list[Owner]] = {}
    unread: dict[str, str] = {}
    for name in names:
        state = states[name]
        resources = state.resources
        if state.status in ("engine", "unreadable"):
            try:
                resources = _exported(name, project_dir, engine_env(env))
            except (EngineError, ValueError) as exc:
                unread[name] = f"{state.reason}; the engine could not export it either: {exc}"
                continue
        for obj, resource in stack_objects(resources):
            owners = by_object.setdefault(obj, [])
            if not any(o.stack == name and o.resource == resource.name for o in owners):
                owners.append(Owner(stack=name, resource=resource.name, retained=bool(resource.retain_on_delete)))
    index = OwnershipIndex(backend=backend_label(backend.url), project=project, written_at=now_utc(),
                           entries=[IndexEntry(object=o, owners=owners) for o, owners in
                                    sorted(by_object.items(), key=lambda item: str(item[0]))])
    return Ownership(index=index, stacks=names, unread=unread)


def index_path(project_dir: Path) -> Path:
    return project_dir / INDEX_FILE


def write_index(project_dir: Path, ownership: Ownership) -> Path:
    """The index where the policy pack and the providers look for it (git-ignored, beside the project)."""
    path = index_path(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Whole or not at all, and per writer: a reader never sees half a file, two shards never share a draft.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=path.name, suffix=".tmp",
                                     delete=False) as draft:
        draft.write(ownership.index.model_dump_json(indent=2) + "\n")
    Path(draft.name).replace(path)
    return path


def refreshed(project_dir: Path, env: Optional[Mapping[str, str]] = None) -> Ownership:
    """Read the backend and write the index: what every check of the tool starts from."""
    ownership = read_ownership(project_dir, env)
    write_index(project_dir, ownership)
    return ownership


def as_json(ownership: Ownership) -> dict[str, Any]:
    return {**ownership.index.model_dump(mode="json"), "stacks": ownership.stacks, "unread": ownership.unread,
            "shared": [e.model_dump(mode="json") for e in ownership.shared()]}
