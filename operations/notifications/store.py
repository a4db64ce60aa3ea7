"""What each sink was told, kept in the run history's store (table `email_partners_notifications`,
migration 5 of operations/history/store.py), beside the runs: the same file or database, so a team
that shares state shares what it was told, and any machine's run knows what is new.

One row per event per delivery (a message to one sink), delivered or not, with the attempts and the
error: `email-partners history --notifications` lists them, the status page shows each sink's last.
Only delivered rows say what a sink was told (decide.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence

from pydantic import BaseModel, Field

from ..history.store import NOTIFICATIONS_TABLE, HistoryStore

if TYPE_CHECKING:  # the status page reads this module: it imports nothing of the decision
    from .decide import Event

NOTIFICATIONS_MIGRATION = 5
COLUMNS = ("delivery_id", "sent_at", "sink", "source", "kind", "subject", "event", "active", "fingerprint", "link",
           "delivered", "attempts", "error")
EVENTS_SHOWN = 50


class Told(NamedTuple):
    """What a sink was last told about one (kind, subject)."""

    active: bool
    fingerprint: str


class Delivered(BaseModel):
    """One message to one sink, as recorded: what it said and whether it arrived."""

    delivery: str
    sent_at: str
    sink: str
    source: str
    delivered: bool
    attempts: int
    error: Optional[str] = None
    event_count: int = 0
    events: list[dict[str, Optional[str]]] = Field(default_factory=list,
                                                   description=f"type, subject, link (the first {EVENTS_SHOWN})")


def last_told(store: HistoryStore, sinks: Sequence[str],
              subjects: Sequence[str]) -> dict[str, dict[tuple[str, str], Told]]:
    """Per sink, per (kind, subject) among `subjects`: what its newest delivered message said."""
    told: dict[str, dict[tuple[str, str], Told]] = {sink: {} for sink in sinks}
    if not sinks or not subjects:
        return told
    with store.transaction(create=False, needs=NOTIFICATIONS_MIGRATION) as conn:
        if conn is None:
            return told
        in_sinks, sinks_value = store.one_of("sink", sinks)
        in_subjects, subjects_value = store.one_of("subject", subjects)
        rows = store.rows(conn, f"SELECT sink, kind, subject, active, fingerprint FROM (SELECT sink, kind, subject, "
                                f"active, fingerprint, ROW_NUMBER() OVER (PARTITION BY sink, kind, subject ORDER BY id "
                                f"DESC) AS newest FROM {NOTIFICATIONS_TABLE} WHERE delivered = 1 AND {in_sinks} AND "
                                f"{in_subjects}) AS told WHERE newest = 1", (sinks_value, subjects_value))
    for sink, kind, subject, active, fingerprint in rows:
        told[sink][(kind, subject)] = Told(bool(active), fingerprint)
    return told


def record(store: HistoryStore, delivery: str, sent_at: str, sink: str, source: str, events: Sequence["Event"],
           delivered: bool, attempts: int, error: Optional[str]) -> None:
    """One delivery's events, in one transaction."""
    rows = [(delivery, sent_at, sink, source, e.kind, e.subject, e.type, int(e.active), e.fingerprint, e.link,
             int(delivered), attempts, error) for e in events]
    with store.transaction(create=True) as conn:
        store.execute_many(conn, f"INSERT INTO {NOTIFICATIONS_TABLE} ({', '.join(COLUMNS)}) "
                                 f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)


def copy_deliveries(source: HistoryStore, target: HistoryStore) -> int:
    """The deliveries the target lacks (by delivery id), oldest first, in one transaction; how many
    messages. `backend copy` carries them with the runs, so the team's new store knows what each sink
    was told and the next run announces only what is new."""
    with source.transaction(create=False, needs=NOTIFICATIONS_MIGRATION) as conn:
        rows = [] if conn is None else source.rows(conn, f"SELECT {', '.join(COLUMNS)} FROM {NOTIFICATIONS_TABLE} "
                                                         f"ORDER BY id")
    if not rows:
        return 0
    with target.transaction(create=True) as conn:
        known = {row[0] for row in target.rows(conn, f"SELECT DISTINCT delivery_id FROM {NOTIFICATIONS_TABLE}")}
        missing = [row for row in rows if row[0] not in known]
        target.execute_many(conn, f"INSERT INTO {NOTIFICATIONS_TABLE} ({', '.join(COLUMNS)}) "
                                  f"VALUES ({', '.join('?' * len(COLUMNS))})", missing)
    return len({row[0] for row in missing})


def _deliveries(rows: Sequence[tuple]) -> list[Delivered]:
    found: dict[str, Delivered] = {}
    for delivery, sent_at, sink, source, event, subject, link, delivered, attempts, error in rows:
        item = found.setdefault(delivery, Delivered(delivery=delivery, sent_at=sent_at, sink=sink, source=source,
                                                    delivered=bool(delivered), attempts=attempts, error=error))
        item.event_count += 1
        if len(item.events) < EVENTS_SHOWN:
            item.events.append({"type": event, "subject": subject, "link": link})
    return list(found.values())


SELECTED = "delivery_id, sent_at, sink, source, event, subject, link, delivered, attempts, error"


def last_per_sink(store: HistoryStore) -> list[Delivered]:
    """Each sink's newest message (delivered or not), newest first: what the status page shows."""
    with store.transaction(create=False, needs=NOTIFICATIONS_MIGRATION) as conn:
        if conn is None:
            return []
        rows = store.rows(conn, f"SELECT {SELECTED} FROM {NOTIFICATIONS_TABLE} WHERE delivery_id IN (SELECT "
                                f"delivery_id FROM (SELECT delivery_id, ROW_NUMBER() OVER (PARTITION BY sink ORDER BY "
                                f"id DESC) AS newest FROM {NOTIFICATIONS_TABLE}) AS last WHERE newest = 1) ORDER BY id")
    return list(reversed(_deliveries(rows)))  # rows in the order written: the newest delivery last


def recent(store: HistoryStore, last: int) -> list[Delivered]:
    """The newest `last` messages, newest first (`history --notifications`)."""
    with store.transaction(create=False, needs=NOTIFICATIONS_MIGRATION) as conn:
        if conn is None:
            return []
        rows = store.rows(conn, f"SELECT {SELECTED} FROM {NOTIFICATIONS_TABLE} WHERE delivery_id IN (SELECT "
                                f"delivery_id FROM (SELECT delivery_id, MAX(id) AS newest FROM {NOTIFICATIONS_TABLE} "
                                f"GROUP BY delivery_id ORDER BY newest DESC LIMIT {int(last)}) AS last) ORDER BY id")
    return list(reversed(_deliveries(rows)))  # rows in the order written: the newest delivery last
