"""One owner per vendor object: the words the tool, the policy pack and the providers share about it.

A vendor object (a Cakemail account, a Sign-Up.to company, a SendGrid subuser, a DKIM key, ...) is
named by its platform, the vendor's word for it and the values that identify it there; which
resource manages which object, and by what, is each platform description's `owned`
(providers/platforms/description.py: `Owned`). From a resource's recorded state the object it
manages follows (`recorded_objects`); from a declaration, the object it would take over
(`claimed_objects`: an adoption by id, a SendGrid username, a Ciirus API user's one sub-account).

The tool reads every stack of a state backend in one pass (operations/ownership/) and writes what
it found as the ownership index, a JSON file in the project (`INDEX_FILE`, git-ignored). The policy
pack reads it at preview and the providers at create, where they cannot see the backend
themselves: an object another stack of the same backend owns is not taken over, unless the tool's
take-over of exactly that stack runs (`TAKE_OVER_VARIABLE`). Cakemail also keeps who manages an
account on the account itself (its metadata: `ManagedBy`), which holds across backends.

Nothing here imports a vendor: the descriptions are read through the registry when called.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .platforms.description import ACCOUNT, LOGIN

# The project-relative file the tool writes; a run of the tool also hands its path to the engine's
# processes in this variable (the providers and the pack then need no guess about where it is).
INDEX_FILE = ".email-partners/ownership-index.json"
INDEX_VARIABLE = "EMAIL_PARTNERS_OWNERSHIP_INDEX"
# Set by `email-partners take-over NEW --from OLD` for the one `up` that moves OLD's objects to NEW.
TAKE_OVER_VARIABLE = "EMAIL_PARTNERS_TAKE_OVER"


class VendorObject(BaseModel):
    """One object on a vendor's platform: `cakemail account 4`, `sendgrid subuser acme`."""

    model_config = ConfigDict(frozen=True)

    platform: str
    noun: str = Field(description="the vendor's word for it: account, company, subuser, DKIM key, ...")
    key: str = Field(description="what identifies it on the platform (its id, or its parts joined by '/')")

    def __str__(self) -> str:
        return f"{self.platform} {self.noun} {self.key}"


def _value(field: str, value: Any) -> Optional[str]:
    if value is None or value is False or value == "" or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text.lower() if field == "domain" else text


def login_of(platform: str, config: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """`<login> at <apiUrl>`: the partner identity a stack uses, as its config (else `environ`) gives it;
    None when the login cannot be had."""
    from .platforms import describe, names
    from .platforms.settings import identity_settings, login_setting

    if platform not in names():
        return None
    described = describe(platform)
    environ = {} if environ is None else environ
    login = login_setting(described).lookup(config, environ)
    if not login:
        return None
    url = next((s.lookup(config, environ) or s.default for s in identity_settings(described) if s.name == "api_url"),
               None)
    return f"{login} at {str(url or '').rstrip('/')}"


def _key(platform: str, noun: str, fields: Sequence[str], lookup) -> Optional[VendorObject]:
    values = [lookup(field) for field in fields]
    if any(v is None for v in values):
        return None
    return VendorObject(platform=platform, noun=noun, key="/".join(values))


def recorded_objects(platform: str, kind: str, resource_id: Optional[str], inputs: Mapping[str, Any],
                     outputs: Mapping[str, Any], login: Optional[str] = None) -> list[VendorObject]:
    """The objects a recorded resource manages (its state: id, inputs, outputs; the stack's login)."""
    from .platforms import describe, names

    if platform not in names():
        return []

    def lookup(field: str) -> Optional[str]:
        if field == LOGIN:
            return login
        if field == "id":
            return _value(field, resource_id)
        return _value(field, outputs.get(field, inputs.get(field)))

    found = [_key(platform, o.noun, o.recorded, lookup) for o in describe(platform).owned if o.resource == kind]
    return [o for o in found if o is not None]


def claimed_objects(platform: str, kind: str, props: Mapping[str, Any], account: Optional[str] = None,
                    login: Optional[str] = None) -> list[VendorObject]:
    """The existing objects a resource of this declaration would take over when it is created: what
    it adopts by id, and what its platform identifies by a declared value. `account`: the id of the
    account it belongs to, where known (the one its stack's SubAccount adopts)."""
    from .platforms import describe, names

    if platform not in names():
        return []

    def lookup(field: str) -> Optional[str]:
        if field == LOGIN:
            return login
        if field == ACCOUNT:
            return _value(field, account)
        return _value(field, props.get(field))

    found = [_key(platform, o.noun, o.declared, lookup) for o in describe(platform).owned if o.resource == kind]
    return [o for o in found if o is not None]


# --- which backend --------------------------------------------------------------------------------

def backend_url(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The state backend the engine uses: PULUMI_BACKEND_URL, else the one `pulumi login` recorded."""
    environ = os.environ if environ is None else environ
    url = environ.get("PULUMI_BACKEND_URL")
    if url:
        return url
    home = Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        return json.loads((home / "credentials.json").read_text()).get("current") or None
    except (OSError, ValueError, AttributeError):
        return None


def backend_label(url: Optional[str]) -> Optional[str]:
    """A backend as people tell one from another, never with a password or user name in it:
    `file:///srv/state`, `postgres://db.internal:5432/pulumi_state` (its table, when not the default)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = os.path.realpath(os.path.expanduser(unquote(url[len("file://"):].split("?", 1)[0])))
        return f"file://{path}"
    host = parts.hostname or ""
    where = f"{host}:{parts.port}" if parts.port else host
    label = f"{parts.scheme}://{where}{parts.path.rstrip('/')}"
    table = dict(parse_qsl(parts.query)).get("table")
    return f"{label}?table={table}" if table else label


class ManagedBy(BaseModel):
    """Who manages a vendor object, as a vendor that stores something of ours keeps it with the object
    (Cakemail metadata): the project, the stack and the state backend of the resource that made it."""

    project: str
    stack: str
    backend: Optional[str] = None

    def same_stack(self, other: "ManagedBy") -> bool:
        return (self.project, self.stack) == (other.project, other.stack)

    def same_backend(self, other: "ManagedBy") -> bool:
        """Unknown backends (a label that could not be had) are taken for the same one."""
        return self.backend is None or other.backend is None or self.backend == other.backend

    def __str__(self) -> str:
        return f"stack {self.stack}" + (f" of the state backend {self.backend}" if self.backend else "")


# --- the index the tool writes --------------------------------------------------------------------

class Owner(BaseModel):
    stack: str
    resource: str = Field(description="the resource's name in that stack")
    retained: bool = Field(False, description="marked retain-on-delete: a take-over is moving it away")


class IndexEntry(BaseModel):
    object: VendorObject
    owners: list[Owner]


class OwnershipIndex(BaseModel):
    """Every vendor object the stacks of one backend manage, and which stack manages it."""

    backend: Optional[str] = Field(None, description="the backend's label (backend_label): where it was read")
    project: str
    written_at: str
    entries: list[IndexEntry] = Field(default_factory=list)

    def owners_of(self, obj: VendorObject) -> list[Owner]:
        return next((e.owners for e in self.entries if e.object == obj), [])

    def others_than(self, obj: VendorObject, stack: Optional[str],
                    taking_over_from: Optional[str] = None) -> list[Owner]:
        """The owners of `obj` other than `stack`; a take-over's source stack does not count."""
        return [o for o in self.owners_of(obj) if o.stack not in (stack, taking_over_from)]


def read_index(path: Path) -> Optional[OwnershipIndex]:
    """The index at `path`; None when there is none or it cannot be read (nothing is guessed from it)."""
    try:
        return OwnershipIndex.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None


def index_here(environ: Optional[Mapping[str, str]] = None, project_dir: Optional[Path] = None) -> \
        Optional[OwnershipIndex]:
    """The ownership index of the backend in use, as the tool last wrote it: the file the tool named
    (INDEX_VARIABLE), else the project's own; None when there is none, or it is another backend's."""
    environ = os.environ if environ is None else environ
    named = environ.get(INDEX_VARIABLE)
    project_dir = project_dir or _project_root(Path.cwd())
    if not named and project_dir is None:
        return None
    index = read_index(Path(named) if named else project_dir / INDEX_FILE)
    here = backend_label(backend_url(environ))
    if index is None or here is None or index.backend != here:
        return None
    return index


def _project_root(start: Path) -> Optional[Path]:
    """The nearest directory at or above `start` with a Pulumi.yaml (the engine starts the providers in the
    program's folder, `stacks/`, and the policy pack in `policies/`)."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return None


def refusal(obj: VendorObject, owners: Sequence[Owner], index: OwnershipIndex, here: str) -> str:
    """Why `here` may not take `obj` over: the stacks that manage it, and what would move it."""
    names = ", ".join(o.stack for o in owners)
    return (f"{obj} is managed by stack {names} (ownership index of {index.backend}, written by email-partners at "
            f"{index.written_at}): taking it over here would give it two owners, so nothing was done. To move it "
            f"to {here}: `email-partners take-over {here} --from {owners[0].stack}`; if that stack no longer "
            f"manages it, `email-partners owners` reads the backend again")
