"""The in-memory CRM store's tracking records: bytes per record, full collections, reads.

    python bench/memory_store.py                    # 100,000 records
    python bench/memory_store.py --records 1000000  # the issue's size (needs ~2 GB)
    python bench/memory_store.py --no-before        # the store only

Stores the workload of ``bench/run.py`` (one ``insert_records`` per campaign, the records
``event_records`` builds) and prints, for ``InMemoryCrm`` and for the layout it had before
(a dict of ``Activity`` by key, sets of keys by member and by client, a heap of
``(occurred_at, n, key)`` per type; rebuilt here for the comparison):

- bytes per record: tracemalloc of the inserts over the records stored (the measure of
  ``bench/run.py --only memory``);
- objects the garbage collector tracks, and the time of one full ``gc.collect()`` with the
  store alive (what every full collection of a process holding the store pays);
- the time of the inserts, of ``records_for`` of 1,000 members, of ``existing_keys`` of
  10,000 keys, and of ``expired_records`` for a cutoff that expires ~1 % of the records
  and for one that expires none (its cost follows what expired, not the store's size).

Times are one run each, on whatever else the machine runs: report the load beside them.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # the workload of bench/run.py

from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.planner import event_records
from cmsf_core.domain.records import MemberRef


class BeforeStore:
    """The record layout ``InMemoryCrm`` had before its compact rows (records only)."""

    def __init__(self) -> None:
        self.records: dict[ActivityKey, Activity] = {}
        self.by_member: defaultdict[MemberRef, set[ActivityKey]] = defaultdict(set)
        self.by_client: defaultdict[str, set[ActivityKey]] = defaultdict(set)
        self.expiry: dict[ActivityType, list[tuple[datetime, int, ActivityKey]]] = {
            t: [] for t in ActivityType
        }
        self.sequence = itertools.count()

    def insert_records(self, records: Sequence[Activity]) -> None:
        """Store the records whose key is not stored yet."""
        for record in records:
            key = record.key
            if key in self.records:
                continue
            self.records[key] = record
            self.by_member[MemberRef(record.campaign_id, record.member_id)].add(key)
            self.by_client[record.client_id].add(key)
            heapq.heappush(self.expiry[record.type], (record.occurred_at, next(self.sequence), key))

    def records_for(self, refs: Collection[MemberRef]) -> dict[MemberRef, tuple[Activity, ...]]:
        """The records of each member."""
        return {
            ref: tuple(self.records[k] for k in self.by_member[ref])
            for ref in refs
            if ref in self.by_member
        }

    def existing_keys(self, keys: Collection[ActivityKey]) -> set[ActivityKey]:
        """Which keys are stored."""
        return {k for k in keys if k in self.records}

    def expired_records(self, cutoffs: dict[ActivityType, datetime]) -> list[Activity]:
        """The records before their type's cutoff (popped then pushed back)."""
        expired = []
        for activity_type, cutoff in cutoffs.items():
            heap = self.expiry[activity_type]
            due = []
            while heap and heap[0][0] < cutoff:
                entry = heapq.heappop(heap)
                due.append(entry)
                expired.append(self.records[entry[2]])
            for entry in due:
                heapq.heappush(heap, entry)
        return expired

    def record_count(self) -> int:
        """How many records are stored."""
        return len(self.records)


class Store(Protocol):
    """What the bench calls on a store."""

    def insert_records(self, records: Sequence[Activity]) -> object: ...
    def records_for(
        self, refs: Collection[MemberRef]
    ) -> Mapping[MemberRef, tuple[Activity, ...]]: ...
    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]: ...
    def expired_records(self, cutoffs: dict[ActivityType, datetime]) -> Sequence[Activity]: ...
    def record_count(self) -> int: ...


def say(line: str) -> None:
    """One line of the report on stdout."""
    sys.stdout.write(line + "\n")


def measure(name: str, make: Callable[[], Store], n: int) -> None:
    """Print the figures of one store holding the workload's ``n`` records."""
    work = bench.generate(n, span_days=150, end_minute=bench.AS_OF_MINUTE, seed=bench.SEED + 1)
    events = bench.tracking_events(work)
    gc.collect()
    tracemalloc.start()
    traced_store = make()
    for c, stream in events.items():
        traced_store.insert_records(event_records(bench.CLIENT, bench.campaign_id(c), stream))
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    count = traced_store.record_count()
    # The inserts again, timed without tracemalloc, into a new store: records built first.
    batches = [event_records(bench.CLIENT, bench.campaign_id(c), s) for c, s in events.items()]
    del events, traced_store
    gc.collect()
    store = make()
    started = time.perf_counter()
    for batch in batches:
        store.insert_records(batch)
    inserted = time.perf_counter() - started
    del batches
    gc.collect()
    tracked = len(gc.get_objects())
    started = time.perf_counter()
    gc.collect()
    full_gc = time.perf_counter() - started

    step = max(1, n // 10_000)
    members = range(0, work.n_subscribers * bench.N_CAMPAIGNS, step)
    refs = [
        MemberRef(bench.campaign_id(m % bench.N_CAMPAIGNS), bench.email_of(m // bench.N_CAMPAIGNS))
        for m in members
    ][:1000]
    started = time.perf_counter()
    found = store.records_for(refs)
    read = time.perf_counter() - started
    held = [a.key for records in found.values() for a in records][:10_000]
    started = time.perf_counter()
    store.existing_keys(held)
    keyed = time.perf_counter() - started
    first = bench.at_minute(work.end_minute - work.span_minutes)
    started = time.perf_counter()
    listed = store.expired_records(dict.fromkeys(ActivityType, first + timedelta(days=1.5)))
    expire_some = time.perf_counter() - started
    started = time.perf_counter()
    store.expired_records(dict.fromkeys(ActivityType, first - timedelta(days=1)))
    expire_none = time.perf_counter() - started

    say(f"{name}: {count:,} records")
    say(f"  bytes per record (tracemalloc)       {traced / count:10.0f} B")
    say(f"  gc-tracked objects in the process    {tracked:10,}")
    say(f"  one full gc.collect()                {full_gc * 1000:10.1f} ms")
    say(f"  insert_records (records built)       {inserted:10.2f} s")
    say(f"  records_for, {len(refs):>6,} members        {read * 1000:10.1f} ms")
    say(f"  existing_keys, {len(held):>6,} keys         {keyed * 1000:10.1f} ms")
    say(f"  expired_records, {len(listed):>6,} expire     {expire_some * 1000:10.1f} ms")
    say(f"  expired_records, none expire         {expire_none * 1000:10.3f} ms")


def main() -> None:
    """Measure the store (and the layout before it) at the size asked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--no-before", action="store_true", help="skip the layout before")
    args = parser.parse_args()
    measure("InMemoryCrm (compact rows)", InMemoryCrm, args.records)
    if not args.no_before:
        measure("the layout before (Activity objects)", BeforeStore, args.records)


if __name__ == "__main__":
    main()
