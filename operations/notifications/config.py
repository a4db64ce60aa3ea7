"""`notifications.yaml`: where the team hears of the fleet, kept in the project beside `Pulumi.yaml`.

A sink's address and secret are credentials (a Slack incoming-webhook URL is one): they are named as
`{env: VARIABLE}` and read from the environment of the run (a CI secret), never written in the file.
A plain `url:` is accepted for a generic webhook only (its secret signs the body; the URL alone lets
nobody forge a message). `--notify` chooses, per run, which sinks hear of it: `all` (the default:
every sink whose settings this environment has), `none`, or sink names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping, Optional, Sequence, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import UsageError

FILE_NAME = "notifications.yaml"
KINDS = ("drift", "failure", "danger", "dns", "lock", "shard")
ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SINK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class NotificationsError(UsageError):
    """notifications.yaml or --notify is wrong: named precisely, before anything runs (exit 2)."""


class FromEnv(BaseModel):
    """A value read from this environment variable when the run notifies."""

    model_config = ConfigDict(extra="forbid")
    env: str

    @field_validator("env")
    @classmethod
    def _variable(cls, value: str) -> str:
        if not ENV_VAR.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
        return value


class Delivery(BaseModel):
    """How hard a sink is tried: `attempts` within `deadline_seconds` in all, whatever the sink does."""

    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(3, ge=1, le=10)
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="one attempt's connect and read timeout")
    backoff_seconds: float = Field(1.0, ge=0, le=60, description="before the second attempt; doubled after")
    deadline_seconds: float = Field(20.0, gt=0, le=300, description="the bound on one sink's delivery")


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dns_pending_days: float = Field(3, ge=0, description="a sending domain's records unvalidated this long")
    lock_held_minutes: float = Field(60, ge=0, description="a stack locked this long (a killed run's lock)")


class Sink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["webhook", "slack"]
    url: Union[str, FromEnv]
    secret: Optional[FromEnv] = Field(None, description="webhook: the shared secret that signs the body")
    events: list[str] = Field(default_factory=lambda: list(KINDS), description="the kinds this sink hears of")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SINK_NAME.match(value):
            raise ValueError(f"{value!r}: a sink's name is lower-case letters, digits and dashes")
        return value

    @field_validator("events")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
        return value

    @model_validator(mode="after")
    def _credentials_from_the_environment(self) -> "Sink":
        if self.type == "slack" and isinstance(self.url, str):
            raise ValueError("a Slack incoming-webhook URL is a credential: name its variable, "
                             "e.g. url: {env: SLACK_WEBHOOK_URL}")
        if self.type == "webhook" and self.secret is None:
            raise ValueError("a webhook needs secret: {env: VARIABLE}, the shared secret that signs its body")
        if self.type == "slack" and self.secret is not None:
            raise ValueError("a Slack sink takes no secret (its URL is the credential)")
        if isinstance(self.url, str) and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"url {self.url!r} is not an http(s) URL")
        return self


class NotificationsFile(BaseModel):
    """The document of notifications.yaml."""

    model_config = ConfigDict(extra="forbid")
    status_page: Optional[Union[str, FromEnv]] = Field(
        None, description="where the status page is published: messages link to its customer rows")
    digest_over: int = Field(10, ge=1, description="more events than this in one run: one summary in chat")
    delivery: Delivery = Field(default_factory=Delivery)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    sinks: list[Sink] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> "NotificationsFile":
        seen = [s.name for s in self.sinks]
        twice = sorted({n for n in seen if seen.count(n) > 1})
        if twice:
            raise ValueError(f"sink name(s) given twice: {', '.join(twice)}")
        return self


@dataclass(frozen=True)
class ReadySink:
    """A sink with its address and secret read from the environment. Never printed: repr shows the name."""

    name: str
    type: str
    events: tuple[str, ...]
    url: str = field(repr=False)
    secret: Optional[str] = field(default=None, repr=False)


@dataclass
class NotificationPlan:
    """What a run will notify, decided before it runs: the sinks ready, and those skipped (and why)."""

    settings: NotificationsFile
    sinks: list[ReadySink]
    skipped: list[str] = field(default_factory=list)
    status_page: Optional[str] = None

    @property
    def active(self) -> bool:
        return bool(self.sinks)


def load(project_dir: Path) -> Optional[NotificationsFile]:
    """The project's notifications.yaml, or None when it has none."""
    path = project_dir / FILE_NAME
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise NotificationsError(f"{path}: not valid YAML: {exc}") from None
    try:
        return NotificationsFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise NotificationsError(f"{path}: {problems}") from None


def _value(value: Union[str, FromEnv, None], env: Mapping[str, str]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return env.get(value.env) or None


def plan(project_dir: Path, notify: Sequence[str], env: Mapping[str, str]) -> NotificationPlan:
    """The sinks this run notifies. `notify`: the --notify values (`all`, `none`, sink names, comma lists).
    A sink named explicitly must be ready (its variables set); with `all`, one that is not is skipped."""
    settings = load(project_dir)
    wanted = [w.strip() for value in (notify or ["all"]) for w in value.split(",") if w.strip()] or ["all"]
    if "none" in wanted:
        if len(wanted) > 1:
            raise NotificationsError("--notify none cannot be combined with sinks")
        return NotificationPlan(settings or NotificationsFile(), [])
    if settings is None:
        if wanted != ["all"]:
            raise NotificationsError(f"--notify {','.join(wanted)}: the project has no {FILE_NAME}")
        return NotificationPlan(NotificationsFile(), [])
    known = {s.name: s for s in settings.sinks}
    explicit = wanted != ["all"]
    unknown = [w for w in wanted if w != "all" and w not in known]
    if unknown:
        raise NotificationsError(f"--notify {', '.join(unknown)}: no such sink in {FILE_NAME} "
                                 f"(sinks: {', '.join(known) or 'none'})")
    chosen = list(known.values()) if "all" in wanted else [known[w] for w in wanted]
    ready, skipped = [], []
    for sink in chosen:
        url, secret = _value(sink.url, env), _value(sink.secret, env)
        missing = [ref.env for ref, got in ((sink.url, url), (sink.secret, secret))
                   if isinstance(ref, FromEnv) and not got]
        if missing:
            reason = f"sink {sink.name}: {' and '.join(missing)} not set"
            if explicit:
                raise NotificationsError(f"{reason} (asked for with --notify {sink.name})")
            skipped.append(f"{reason}: skipped")
            continue
        ready.append(ReadySink(sink.name, sink.type, tuple(sink.events), url, secret))
    return NotificationPlan(settings, ready, skipped, _value(settings.status_page, env))
