"""The SQLite store at scale: bytes on disk per record, insert time, incremental sync, peak RSS.

    python bench/sqlite_scale.py                   # 100,000 then 1,000,000 records
    python bench/sqlite_scale.py --records 100000  # one size only
    python bench/sqlite_scale.py --full-sync       # run_sync(full=True) into a new store instead

Each size runs in a fresh interpreter (so that its peak RSS is its own) and prints one
block: the time ``insert_records`` takes to store the N records (the workload of
``bench/run.py``, one call per campaign, each one transaction), the time the whole seed
takes (records, members, checkpoint), the file's bytes per stored record after a WAL
checkpoint (and the records' tables and their indexes alone - ``records``,
``record_members`` - from SQLite's ``dbstat`` when the library has it), the median of 3
incremental ``run_sync`` of 1,000 new events against the N records (after one warm-up),
and the process's peak RSS.  With
``--full-sync``: the time of one ``run_sync(full=True)`` of the N events into a new store
holding only the CRM campaigns and people, and the peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # the workload of bench/run.py


def say(line: str, *, flush: bool = False) -> None:
    """One line of the report on stdout."""
    sys.stdout.write(line + "\n")
    if flush:
        sys.stdout.flush()


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes of each table and index of the file (``dbstat``), empty when unavailable."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return {str(name): int(size) for name, size in rows}


def _of_records(name: str) -> bool:
    """Whether a table or index holds tracking records: the records, their members
    (``record_members``, schema 3) and their indexes."""
    return name.startswith(("records", "record_members", "sqlite_autoindex_record_members"))


def one_size(n: int) -> None:
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.db"
        crm = SqliteCrm(str(path))
        work = bench.generate(n, span_days=150, end_minute=bench.AS_OF_MINUTE, seed=bench.SEED + n)
        inserted = 0.0
        original = crm.insert_records

        def timed_insert(records: Any) -> Any:
            nonlocal inserted
            started = time.perf_counter()
            try:
                return original(records)
            finally:
                inserted += time.perf_counter() - started

        crm.insert_records = timed_insert  # type: ignore[method-assign]
        started = time.perf_counter()
        bench.seed_crm(crm, work)
        seeded = time.perf_counter() - started
        crm.insert_records = original  # type: ignore[method-assign]
        store = bench.Store(crm, work.end_minute)
        del work
        gc.collect()
        stored = crm.record_count()
        stat = bench.time_incremental(store, 3)
        crm.close()
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        size = path.stat().st_size
        parts = table_bytes(path)
    records_part = sum(v for k, v in parts.items() if _of_records(k))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(f"records stored                       {stored:>12,}")
    say(f"insert_records, all {n:,} records {inserted:>10.1f} s")
    say(f"seed (records, members, checkpoint)  {seeded:>10.1f} s")
    say(f"file bytes per record                {size / stored:>10.0f} B")
    if parts:
        detail = ", ".join(
            f"{k} {v / stored:.0f}" for k, v in sorted(parts.items()) if _of_records(k)
        )
        say(f"records table + indexes per record   {records_part / stored:>10.0f} B ({detail})")
    say(
        f"incremental run_sync, 1,000 events   {stat.median * 1000:>10.1f} ms"
        f" (runs: {', '.join(f'{s * 1000:.0f}' for s in stat.values)})"
    )
    say(f"peak RSS                             {peak:>10.0f} MiB")


def full_sync_size(n: int) -> None:
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        crm = SqliteCrm(str(Path(folder) / "full.db"))
        work = bench.generate(n, span_days=150, end_minute=bench.AS_OF_MINUTE, seed=bench.SEED + n)
        bench.add_campaigns_and_people(crm, work.n_subscribers)
        platform = bench.full_platform(work)
        as_of = bench.at_minute(work.end_minute)
        del work
        gc.collect()
        started = time.perf_counter()
        bench.full_sync(crm, platform, as_of)
        elapsed = time.perf_counter() - started
        stored = crm.record_count()
        crm.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(f"run_sync(full=True), {stored:,} records  {elapsed:>10.1f} s")
    say(f"peak RSS                             {peak:>10.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, action="append")
    parser.add_argument("--full-sync", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        (full_sync_size if args.full_sync else one_size)(args.one)
        return
    with open("/proc/loadavg") as file:
        say(f"load average at start: {' '.join(file.read().split()[:3])}", flush=True)
    for n in args.records or [100_000, 1_000_000]:
        say(f"-- {n:,} records", flush=True)
        full = ["--full-sync"] if args.full_sync else []
        subprocess.run([sys.executable, __file__, *full, "--one", str(n)], check=True)


if __name__ == "__main__":
    main()
