"""SharedReads: one fetch per object per pass, never a stale answer after a write or a new pass."""

from __future__ import annotations

import threading

import pytest

from providers.shared_reads import SharedReads


class Remote:
    def __init__(self):
        self.value, self.fetches = 1, 0

    def fetch(self):
        self.fetches += 1
        return self.value


def test_each_other_reader_of_a_pass_shares_the_first_fetch():
    reads, remote = SharedReads(), Remote()
    assert [reads.get("a", kind, remote.fetch) for kind in ("SubAccount", "AccountFeatures", "SendingDomain")] == [1, 1, 1]
    assert remote.fetches == 1


def test_a_reader_coming_back_starts_a_new_pass_and_fetches_again():
    reads, remote = SharedReads(), Remote()
    reads.get("a", "SubAccount", remote.fetch)
    reads.get("a", "AccountFeatures", remote.fetch)
    remote.value = 2  # changed between passes
    assert reads.get("a", "SubAccount", remote.fetch) == 2
    assert reads.get("a", "AccountFeatures", remote.fetch) == 2
    assert remote.fetches == 2


def test_a_write_drops_the_shared_answer():
    reads, remote = SharedReads(), Remote()
    reads.get("a", "SubAccount", remote.fetch)
    remote.value = 2
    reads.forget("a")
    assert reads.get("a", "AccountFeatures", remote.fetch) == 2 and remote.fetches == 2


def test_objects_are_kept_apart():
    reads, remote = SharedReads(), Remote()
    reads.get("a", "SubAccount", remote.fetch)
    reads.get("b", "AccountFeatures", remote.fetch)
    assert remote.fetches == 2


def test_an_answer_is_never_served_after_max_age():
    now = [0.0]
    reads, remote = SharedReads(max_age=5, clock=lambda: now[0]), Remote()
    reads.get("a", "SubAccount", remote.fetch)
    now[0] = 5.1
    reads.get("a", "AccountFeatures", remote.fetch)
    assert remote.fetches == 2


def test_a_failed_fetch_is_not_kept():
    reads, remote = SharedReads(), Remote()

    def failing():
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        reads.get("a", "SubAccount", failing)
    assert reads.get("a", "AccountFeatures", remote.fetch) == 1 and remote.fetches == 1


def test_concurrent_readers_share_one_fetch_in_flight():
    reads, started, release = SharedReads(), threading.Event(), threading.Event()
    fetches = []

    def slow():
        fetches.append(1)
        started.set()
        release.wait(5)
        return "answer"

    results = {}
    first = threading.Thread(target=lambda: results.setdefault("sub", reads.get("a", "SubAccount", slow)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: results.setdefault("features", reads.get("a", "AccountFeatures", slow)))
    second.start()
    release.set()
    first.join(5), second.join(5)
    assert results == {"sub": "answer", "features": "answer"} and len(fetches) == 1


def test_a_fetch_overtaken_by_a_write_is_not_shared():
    reads, remote = SharedReads(), Remote()

    def fetch_while_written():
        value = remote.fetch()
        remote.value = 2
        reads.forget("a")  # a write landed while the answer was on its way
        return value

    assert reads.get("a", "SubAccount", fetch_while_written) == 1
    assert reads.get("a", "AccountFeatures", remote.fetch) == 2


def test_a_primed_answer_serves_each_reader_once_within_its_own_window():
    clock = [0.0]
    shared = SharedReads(max_age=30, clock=lambda: clock[0])
    shared.prime("acct-1", "listed", max_age=600)
    clock[0] = 100.0  # past the SharedReads' own max_age, within the primed window
    fetch = lambda: "fetched"  # noqa: E731
    assert shared.get("acct-1", "SubAccount", fetch) == "listed"
    assert shared.get("acct-1", "AccountFeatures", fetch) == "listed"
    assert shared.get("acct-1", "SubAccount", fetch) == "fetched"  # a reader coming back: a new pass
    shared.prime("acct-2", "listed")
    clock[0] = 200.0
    assert shared.get("acct-2", "SubAccount", fetch) == "fetched"  # default window: expired
