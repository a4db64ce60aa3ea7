"""The two records promotion keeps beside the stack files, read and written by the tool only.

- `stacks/copies/<copy>.yaml`, written by `clone`: the copy's base. The source stack, the copy rules as
  they were applied, the rewrites they made, and both declarations at that moment (the source's and
  the copy's as written), every encrypted value reduced to a fingerprint of its ciphertext. The
  rehearsed change is the copy now less the copy then, whatever the rules did; the source then is
  what tells "production changed since the copy" apart. `promote` moves the base forward.
- `stacks/promotions/<target>.yaml`, written by `promote`: the last promotion into a stack (source,
  base, fields), which `review` shows beside the plan.

Sidecar files, not a config key: a stack's whole config reaches the dynamic providers (`configure`)
and the engine records it in state; an encrypted value copied from one stack does not decrypt in
another; and `pulumi config set` rewrites the stack file. These files reach neither Pulumi nor a
provider, survive any edit of the stack file, and travel in the same pull request as it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..history.model import PromotedField, git_commit, now_utc
from ..project.environments import CopyRules, Environment
from ..project.stacks import CustomerStack, ProjectError, load_stack

SECURE = "secure"
FINGERPRINT = "sha256:"


def copies_dir(project_dir: Path) -> Path:
    return project_dir / "stacks" / "copies"


def promotions_dir(project_dir: Path) -> Path:
    return project_dir / "stacks" / "promotions"


def is_secure(value: Any) -> bool:
    """An encrypted value of a stack file (`{secure: v1:...}`)."""
    return isinstance(value, dict) and set(value) == {SECURE}


def without_secrets(value: Any) -> Any:
    """`value` with each encrypted value's ciphertext replaced by its fingerprint: a change of the
    secret still shows (a new ciphertext), and nothing of it can be read back."""
    if is_secure(value):
        text = str(value[SECURE])
        return {SECURE: text if text.startswith(FINGERPRINT)
                else FINGERPRINT + hashlib.sha256(text.encode()).hexdigest()[:16]}
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def fingerprint(*declarations: Any) -> str:
    """A short id of declarations (secrets as fingerprints): what a promotion names as its base."""
    text = json.dumps([without_secrets(d) for d in declarations], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Rewritten(BaseModel):
    """One rewrite the copy rules made (clone's own list)."""

    field: str
    source: Any = None
    copy_value: Any = Field(None, alias="copy")

    model_config = ConfigDict(populate_by_name=True)


class CopyRecord(BaseModel):
    """What a copy was made from (the module docstring): its base for promotion."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(description="the copy")
    source: str = Field(description="the stack it was copied from: the default target of `promote`")
    environment: str = Field(description="the copy's environment, whose rules made it")
    source_environment: Optional[str] = None
    rules: CopyRules = Field(description="the copy rules as applied (the environment file may change later)")
    rewrites: list[Rewritten] = Field(default_factory=list)
    domains: dict[str, str] = Field(default_factory=dict, description="each sending domain of the copy's base "
                                                                      "(lower case) -> its name in the source")
    copied_at: str
    based_at: str = Field(description="when the base was last set: by clone, or by the last promotion")
    based_on: str = Field("clone", description="clone, promote, or `--base REF`")
    commit: Optional[str] = Field(None, description="the project's git commit when the base was set")
    source_declaration: dict[str, Any]
    copy_declaration: dict[str, Any]

    @property
    def base(self) -> str:
        return fingerprint(self.source_declaration, self.copy_declaration)


class LeftOut(BaseModel):
    """A change of the copy that is not promoted, and why."""

    field: str
    reason: str
    copy_old: Any = None
    copy_new: Any = None


class PromotedChange(PromotedField):
    """A promoted field, with the change the copy rehearsed (in the copy's own values)."""

    copy_old: Any = None
    copy_new: Any = None


class PromotionRecord(BaseModel):
    """The last promotion into a stack: what `review` shows beside the plan."""

    model_config = ConfigDict(extra="forbid")

    target: str
    source: str
    base: str
    based_on: str = "clone"
    base_commit: Optional[str] = None
    promoted_at: str
    promoted_by: Optional[str] = None
    commit: Optional[str] = None
    fields: list[PromotedChange] = Field(default_factory=list)
    left_out: list[LeftOut] = Field(default_factory=list)


# --- files ---------------------------------------------------------------------------------------------

COPY_HEADER = ("Written by `email-partners clone`: what stacks/Pulumi.{stack}.yaml was copied from (its base for\n"
               "`email-partners promote`). Keep it in git beside the stack file; secrets appear only as fingerprints.\n")
PROMOTION_HEADER = ("Written by `email-partners promote`: the last promotion into stacks/Pulumi.{stack}.yaml, which\n"
                    "`email-partners review` shows beside the plan. Commit it with the stack file.\n")


def _read(path: Path, model: type[BaseModel]) -> Optional[Any]:
    if not path.exists():
        return None
    shown = f"stacks/{path.parent.name}/{path.name}"
    try:
        return model.model_validate(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as exc:
        raise ProjectError(f"{shown}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProjectError(f"{shown}: {where}: {first['msg']} (rewrite it with `email-partners clone --force`, or "
                           f"promote with --base REF)") from None


def _write(path: Path, header: str, record: BaseModel) -> Path:
    """Written whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"# {line}\n" for line in header.splitlines())
    text += yaml.safe_dump(record.model_dump(mode="json", by_alias=True), sort_keys=False, allow_unicode=True,
                           width=120)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    temporary.replace(path)
    return path


def copy_record_file(project_dir: Path, stack: str) -> Path:
    return copies_dir(project_dir) / f"{stack}.yaml"


def read_copy_record(project_dir: Path, stack: str) -> Optional[CopyRecord]:
    return _read(copy_record_file(project_dir, stack), CopyRecord)


def write_copy_record(project_dir: Path, record: CopyRecord) -> Path:
    record = record.model_copy(update={"source_declaration": without_secrets(record.source_declaration),
                                       "copy_declaration": without_secrets(record.copy_declaration)})
    return _write(copy_record_file(project_dir, record.stack), COPY_HEADER.format(stack=record.stack), record)


def record_copy(project_dir: Path, copy: str, source: CustomerStack, environment: Environment,
                rewrites: list[tuple[str, Any, Any]]) -> Path:
    """`clone`'s record of the copy it just wrote (its declaration read back from the file, secrets as
    Pulumi re-encrypted them): the base of its promotions."""
    written = load_stack(project_dir, copy).declaration
    at = now_utc()

    def domains(declaration: dict[str, Any]) -> list[str]:
        return [str(s.get("domain") or "").lower() for s in declaration.get("sending_domains") or []]
    return write_copy_record(project_dir, CopyRecord(
        stack=copy, source=source.name, environment=environment.name, source_environment=source.environment,
        rules=environment.spec.copies, rewrites=[Rewritten(field=f, source=s, copy=c) for f, s, c in rewrites],
        copied_at=at, based_at=at, commit=git_commit(project_dir, os.environ), source_declaration=source.declaration,
        copy_declaration=written, domains=dict(zip(domains(written), domains(source.declaration)))))


def copy_records(project_dir: Path) -> list[CopyRecord]:
    """Every copy record of the project, by copy name."""
    folder = copies_dir(project_dir)
    return [r for path in sorted(folder.glob("*.yaml")) if (r := _read(path, CopyRecord)) is not None]


def promotion_record_file(project_dir: Path, stack: str) -> Path:
    return promotions_dir(project_dir) / f"{stack}.yaml"


def read_promotion_record(project_dir: Path, stack: str) -> Optional[PromotionRecord]:
    return _read(promotion_record_file(project_dir, stack), PromotionRecord)


def write_promotion_record(project_dir: Path, record: PromotionRecord) -> Path:
    return _write(promotion_record_file(project_dir, record.target), PROMOTION_HEADER.format(stack=record.target),
                  record)
