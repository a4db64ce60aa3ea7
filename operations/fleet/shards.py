"""`--shard K/N`: which customers one of N jobs runs, so that N jobs cover a selection exactly once.

A customer's shard depends on its stack name and N only: not on the machine, the Python process
(no `hash()`, whose seed changes per process), the order of the stack files, or which stacks
exist in the backend. Two jobs of one run therefore never touch the same customer, and a customer
added to the fleet moves no other one. The shard of a name is Lamping and Veach's jump consistent
hash of the name's SHA-256: balanced, and when N grows to N + 1 the only customers that move are
those that go to the new shard.

`--shard auto/N` takes K from the scheduler: Kubernetes Indexed Jobs, GitLab's `parallel:`,
Buildkite and CircleCI parallelism each put the job's index in a variable (see INDEX_VARIABLES).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, TypeVar

from ..errors import UsageError

# Where schedulers put a parallel job's index: (variable, first index, variable holding N).
INDEX_VARIABLES = (
    ("JOB_COMPLETION_INDEX", 0, None),          # Kubernetes Indexed Job
    ("CI_NODE_INDEX", 1, "CI_NODE_TOTAL"),       # GitLab CI `parallel:`
    ("BUILDKITE_PARALLEL_JOB", 0, "BUILDKITE_PARALLEL_JOB_COUNT"),
    ("CIRCLE_NODE_INDEX", 0, "CIRCLE_NODE_TOTAL"),
)
SPEC = re.compile(r"^\s*(\d+|auto)\s*/\s*(\d+)\s*$")


class ShardError(UsageError):
    """A --shard value that cannot be used, with the reason."""


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 1
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, stack_name: str) -> bool:
        return shard_of(stack_name, self.count) == self.index


def shard_of(stack_name: str, count: int) -> int:
    """The shard (1..count) of a stack name."""
    if count < 1:
        raise ValueError(f"the number of shards must be at least 1 (got {count})")
    return _jump_hash(int.from_bytes(hashlib.sha256(stack_name.encode("utf-8")).digest()[:8], "big"), count) + 1


def _jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): a bucket in 0..buckets-1 for a 64-bit key."""
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % (1 << 64)
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def parse_shard(value: str, environ: Optional[Mapping[str, str]] = None) -> Shard:
    """`K/N` (1 <= K <= N), or `auto/N` with K from the scheduler's variable (INDEX_VARIABLES)."""
    match = SPEC.match(value or "")
    if not match:
        raise ShardError(f"{value!r} is not K/N (for example 2/4) or auto/N")
    count = int(match.group(2))
    if count < 1:
        raise ShardError(f"{value!r}: N must be at least 1")
    if match.group(1) != "auto":
        index = int(match.group(1))
        if not 1 <= index <= count:
            raise ShardError(f"{value!r}: K must be between 1 and N ({count})")
        return Shard(index, count)
    return Shard(_index_from_scheduler(count, os.environ if environ is None else environ), count)


def _index_from_scheduler(count: int, environ: Mapping[str, str]) -> int:
    for variable, first, total_variable in INDEX_VARIABLES:
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        if not raw.strip().isdigit():
            raise ShardError(f"auto/{count}: {variable}={raw!r} is not a job index")
        index = int(raw) - first + 1
        total = environ.get(total_variable) if total_variable else None
        if total and total.strip().isdigit() and int(total) != count:
            raise ShardError(f"auto/{count}: {total_variable}={total} jobs, but N is {count}: they must agree")
        if not 1 <= index <= count:
            raise ShardError(f"auto/{count}: {variable}={raw} is outside the {count} shards "
                             f"(it counts from {first})")
        return index
    names = ", ".join(v for v, _, _ in INDEX_VARIABLES)
    raise ShardError(f"auto/{count}: no job index in the environment (looked for {names}); "
                     f"pass K/{count} explicitly")


Named = TypeVar("Named")


def shard_selection(stacks: Sequence[Named], shard: Optional[Shard], name=lambda s: s.name) -> list[Named]:
    """The stacks of `shard` (all of them without one), in their given order."""
    return list(stacks) if shard is None else [s for s in stacks if shard.owns(name(s))]
