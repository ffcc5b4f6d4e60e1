"""Peak memory of a first full sync, streamed one campaign at a time.

    python bench/stream_memory.py                 # 100,000 events
    python bench/stream_memory.py --sizes 100000 1000000

For each size, in a fresh subprocess: an in-memory platform with one client, 20 campaigns
and the events (the issue's type mix over 30 days, ten events per member), a SQLite store
(a file in a temporary folder) with the 20 campaigns linked and no records yet; then
``run_sync(..., full=True, keep_changes=False)``.  Reported: the process's peak resident
set (``ru_maxrss``) above what it held once the platform was loaded (its resident set
then), and the tracemalloc
peak of the sync itself (Python allocations only, traced: that run is slower), both in MB
and in bytes per event.  The two are measured in two subprocesses (tracing changes the
first).  Run it on a quiet machine: other processes do not change these figures much,
but they change how long it takes.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmsf_core import ActivityType, Settings
from cmsf_core.adapters.memory import InMemoryPlatform
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.domain.records import TrackingEvent
from cmsf_core.shell.sync import run_sync

CLIENT = "client-1"
N_CAMPAIGNS = 20
EVENTS_PER_MEMBER = 10
SPAN_DAYS = 30
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
TYPES = tuple(ActivityType)
MIX = (40, 35, 15, 4, 4, 2)
LABELS = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
MB = 1024 * 1024


def _rss_bytes() -> int:
    """The process's peak resident set so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # kB on Linux


def _current_rss_bytes() -> int:
    """The process's resident set now (Linux), else its peak so far."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize()
    return _rss_bytes()


def _platform(n_events: int, seed: int = 7) -> InMemoryPlatform:
    rng = random.Random(seed)
    platform = InMemoryPlatform()
    platform.add_client(CLIENT, "Benchmark client")
    sent = AS_OF - timedelta(days=SPAN_DAYS)
    for c in range(N_CAMPAIGNS):
        platform.add_campaign(CLIENT, f"cmp-{c:02d}", f"Campaign {c}", sent_at=sent)
    n_members = max(N_CAMPAIGNS, n_events // EVENTS_PER_MEMBER)
    span = SPAN_DAYS * 24 * 60
    by_campaign: dict[int, list[TrackingEvent]] = {c: [] for c in range(N_CAMPAIGNS)}
    types = rng.choices(range(len(TYPES)), weights=MIX, k=n_events)
    for t in types:
        m = rng.randrange(n_members)
        at = AS_OF - timedelta(minutes=1 + rng.randrange(span))
        kind = TYPES[t]
        detail = "https://example.com/offer" if kind is ActivityType.CLICKED else None
        if kind is ActivityType.BOUNCED:
            detail = "Soft"
        email = f"s{m // N_CAMPAIGNS:06d}@example.com"
        by_campaign[m % N_CAMPAIGNS].append(TrackingEvent(kind, email, at, detail=detail))
    for c, events in by_campaign.items():
        platform.add_events(f"cmp-{c:02d}", events)
    return platform


def _store(folder: Path) -> SqliteCrm:
    crm = SqliteCrm(str(folder / "store.db"))
    for c in range(N_CAMPAIGNS):
        crm.add_campaign(
            f"crm-{c:02d}",
            f"Campaign {c}",
            statuses=LABELS,
            default="Sent",
            responded=("Opened", "Clicked"),
        )
        crm.link(CLIENT, f"cmp-{c:02d}", f"crm-{c:02d}")
    return crm


def measure(n_events: int, *, trace: bool) -> dict[str, float]:
    """One first full sync of ``n_events`` events (call it in a fresh process)."""
    platform = _platform(n_events)
    with tempfile.TemporaryDirectory() as folder:
        crm = _store(Path(folder))
        gc.collect()
        loaded = _current_rss_bytes()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        report = run_sync(crm, platform, Settings(), as_of=AS_OF, full=True, keep_changes=False)
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        peak = _rss_bytes()
        inserted = report.plan.counts()["records inserted"]
        crm.close()
    if not report.ok or inserted != n_events:
        raise RuntimeError(f"the sync did not import every event: {report.summary()}")
    return {
        "events": n_events,
        "loaded_mb": loaded / MB,
        "rss_mb": (peak - loaded) / MB,
        "traced_mb": traced / MB,
        "seconds": seconds,
    }


def _in_subprocess(n_events: int, *, trace: bool) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(n_events)] + (["--trace"] if trace else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    """Measure each size in fresh subprocesses and print MB and bytes per event."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _emit(json.dumps(measure(args.child, trace=args.trace)))
        return
    _emit("first full sync into SQLite, keep_changes=False (peaks above the loaded platform)")
    _emit(
        f"{'events':>10} {'platform MB':>12} {'RSS MB':>8} {'B/event':>8} "
        f"{'traced MB':>10} {'B/event':>8} {'sync s':>7}"
    )
    for n in args.sizes:
        rss = _in_subprocess(n, trace=False)
        traced = _in_subprocess(n, trace=True)
        _emit(
            f"{n:>10,} {rss['loaded_mb']:>12.1f} {rss['rss_mb']:>8.1f} "
            f"{rss['rss_mb'] * MB / n:>8,.0f} {traced['traced_mb']:>10.1f} "
            f"{traced['traced_mb'] * MB / n:>8,.0f} {rss['seconds']:>7.1f}"
        )


if __name__ == "__main__":
    main()
