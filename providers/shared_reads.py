"""One GET per remote object per engine pass, shared by the resources that live on that object.

A Cakemail account backs both SubAccount and AccountFeatures; the one Ciirus sub-account backs all
three resources. During a refresh each resource reads its object, so without sharing the same
object is fetched two or three times. All resources of a program share one provider process (and
one client per endpoint and identity, see settings.py), so the client can hand one answer to each.

What keeps a shared answer from being stale:
- each reader (a resource kind) is served an answer at most once: the first reader of a pass
  fetches, every other kind takes that answer, and a reader that comes back (a later pass in the
  same process) fetches again;
- any write to the object through the client drops its entry, and a fetch that was in flight
  while a write landed is not kept;
- an entry is never served after `max_age` seconds, whatever happened.
Only refresh reads go through here: create, update and delete always read the server.

A bulk job (`fleet drift`) may `prime` answers from a listing that carries every field a single
GET does: each reader kind is then served that answer once, as if one of them had fetched it.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Optional, TypeVar

T = TypeVar("T")


@dataclass
class _Entry:
    value: Any
    fetched_at: float
    served: set[str] = field(default_factory=set)
    max_age: Optional[float] = None  # a primed answer's own window (None: the SharedReads' max_age)


@dataclass
class _Fetch:
    generation: int
    done: threading.Event = field(default_factory=threading.Event)


class SharedReads:
    """Answers of reads, shared across resource kinds within one pass (see the module docstring)."""

    def __init__(self, max_age: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._fetching: dict[Hashable, _Fetch] = {}
        self._generations: dict[Hashable, int] = {}

    def get(self, key: Hashable, reader: str, fetch: Callable[[], T]) -> T:
        """The object's answer for `reader`: shared if another reader fetched it this pass, else fetched."""
        while True:
            with self._lock:
                entry = self._entries.get(key)
                max_age = self.max_age if entry is None or entry.max_age is None else entry.max_age
                if entry is not None and reader not in entry.served \
                        and self._clock() - entry.fetched_at <= max_age:
                    entry.served.add(reader)
                    return entry.value
                running = self._fetching.get(key)
                if running is None:
                    mine = self._fetching[key] = _Fetch(self._generations.get(key, 0))
                    break
            running.done.wait()  # one fetch at a time per object: concurrent readers share its answer
        try:
            value = fetch()
        except BaseException:
            with self._lock:
                del self._fetching[key]
            mine.done.set()
            raise
        with self._lock:
            del self._fetching[key]
            if self._generations.get(key, 0) == mine.generation:  # no write landed meanwhile
                self._entries[key] = _Entry(value, self._clock(), {reader})
            else:
                self._entries.pop(key, None)
        mine.done.set()
        return value

    def prime(self, key: Hashable, value: Any, max_age: Optional[float] = None) -> None:
        """Store an answer fetched by other means (a listing), unserved: the next reader of each kind
        takes it, within `max_age` seconds (default: this SharedReads' own). Not kept if a fetch of the
        object is under way."""
        with self._lock:
            if key not in self._fetching:
                self._entries[key] = _Entry(value, self._clock(), max_age=max_age)

    def forget(self, key: Hashable) -> None:
        """After a write (failed or not) to the object: its next read goes to the server."""
        with self._lock:
            self._entries.pop(key, None)
            self._generations[key] = self._generations.get(key, 0) + 1


def writes(key_of: Callable[..., Hashable]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Mark a client method as a write to the object `key_of(*args, **kwargs)` names: once it returns
    or fails, the client's `shared_reads` forget that object."""
    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def write(self, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            finally:
                self.shared_reads.forget(key_of(*args, **kwargs))
        return write
    return decorate
