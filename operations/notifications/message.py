"""What a sink receives: one message per run and sink, holding every event of that run.

The generic webhook gets the JSON body below, versioned (`"version": 1`; a change that breaks a
receiver is a new version, fields are only added within one). A Slack-compatible incoming webhook
gets `{"text": ...}`: a line per event with the customer, what changed and a link to its row of
the status page, or, past `digest_over` events, one digest (counts per event type, the first
customers, the link). Nothing secret is in either: the events carry masked values only.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Optional, Sequence

from pydantic import BaseModel, Field

from .decide import TITLES, Event

BODY_VERSION = 1
DIGEST_NAMES = 10  # customers named in a digest


class Source(BaseModel):
    """The run that observed the events."""

    command: str = Field(description="e.g. `fleet drift`, `fleet up`, `fleet report`, `review`")
    project: str
    run_at: str = Field(description="when the run started (ISO 8601, UTC)")
    commit: Optional[str] = None
    actor: Optional[str] = None


class WebhookBody(BaseModel):
    """The generic webhook's JSON body, version 1."""

    version: int = BODY_VERSION
    delivery: str = Field(description="this message's id (also the X-Email-Partners-Delivery header)")
    sent_at: str
    source: Source
    status_page: Optional[str] = None
    digest: bool = Field(description="more events than the sink's digest_over: chat gets one summary")
    counts: dict[str, int] = Field(description="events per type")
    events: list[Event]


def webhook_body(delivery: str, sent_at: str, source: Source, events: Sequence[Event], status_page: Optional[str],
                 digest_over: int) -> bytes:
    body = WebhookBody(delivery=delivery, sent_at=sent_at, source=source, status_page=status_page,
                       digest=len(events) > digest_over, counts=dict(Counter(e.type for e in events)),
                       events=list(events))
    return body.model_dump_json().encode()


def _escape(text: str) -> str:
    """Slack's three control characters in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: Optional[str], text: str) -> str:
    return f"<{url}|{_escape(text)}>" if url else _escape(text)


def _who(event: Event) -> str:
    if event.customer is None:
        return _escape(event.subject)
    where = ", ".join(x for x in (event.subject, event.platform) if x)
    return f"*{_escape(event.customer)}* ({_escape(where)})"


def slack_text(events: Sequence[Event], source: Source, status_page: Optional[str], digest_over: int) -> str:
    head = f"email-partners `{_escape(source.command)}` on {_escape(source.project)}"
    if len(events) > digest_over:
        counts = Counter(e.type for e in events)
        lines = [f"{head}: {len(events)} changes of state (digest)"]
        for kind, count in counts.items():
            named = [e.customer or e.subject for e in events if e.type == kind]
            shown = ", ".join(_escape(n) for n in named[:DIGEST_NAMES])
            more = f" and {len(named) - DIGEST_NAMES} more" if len(named) > DIGEST_NAMES else ""
            lines.append(f"• {TITLES[kind]}: {count} ({shown}{more})")
        lines.append(_link(status_page, "the status page") if status_page
                     else "Run `email-partners status` for details.")
        return "\n".join(lines)
    lines = [f"{head}:"]
    for e in events:
        first = e.details[0] if e.details else ""
        text = f"• {TITLES[e.type]}: {_who(e)}: {_escape(e.summary)}"
        if first and e.active:
            text += f" — {_escape(first)}" + (f" (+{len(e.details) - 1} more)" if len(e.details) > 1 else "")
        if e.link:
            text += f" {_link(e.link, 'status')}"
        lines.append(text)
    return "\n".join(lines)


def slack_body(events: Sequence[Event], source: Source, status_page: Optional[str], digest_over: int) -> bytes:
    return json.dumps({"text": slack_text(events, source, status_page, digest_over)}).encode()
