"""The cmsf_core benchmark: one command, one table, every figure measured in the same run.

    python bench/run.py                 # 1,000,000 records, 3 runs per figure
    python bench/run.py --quick         # 100,000 records, for iteration
    python bench/run.py --records 300000 --repeat 5
    python bench/run.py --only full     # one section: full, incremental, memory, import, sqlite
    python bench/run.py --profile       # cProfile of the full sync and of an incremental sync
    python bench/run.py --only columnar # floor, pandas, polars and cmsf_core.app.columnar only
    python bench/run.py --only columnar --dask   # + cmsf_core.app.distributed, 1e7 records

The workload is deterministic (seeded): N tracking records over N/10 campaign members of 20
campaigns, timestamps over a year, mix sent 40% / opened 35% / clicked 15% / bounced 4% /
unsubscribed 4% / spam complaint 2%, retention 180 days (the default) at ``as_of``, so about
half of the records are older than the cutoff.  Member ``m`` is subscriber ``m // 20`` in
campaign ``m % 20``.

Every path computes the same result (rollups per member, the candidate status under the
default "latest wins" policy with the tie rank, the Always date guard, the retention
cutoff); the harness checks that they agree before it prints anything.

The harness never leaves the garbage collector switched off; it measures some figures a
second time after ``gc.freeze()`` (then ``gc.unfreeze()``) to show what a long-running
service gains from freezing the history it has loaded.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import io
import json
import os
import platform as platform_module
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    MemberRecord,
    RefreshCause,
    Settings,
    TrackingEvent,
    apply_retention,
    number_occurrences,
    refresh_member,
)
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.planner import event_records
from cmsf_core.domain.records import Checkpoint, MemberRef
from cmsf_core.shell.sync import run_sync

# ----------------------------------------------------------------------------- workload

SEED = 9
CLIENT = "client-1"
N_CAMPAIGNS = 20
RECORDS_PER_MEMBER = 10
DAYS_TO_KEEP = 180
MINUTES_PER_DAY = 1440
#: ``as_of`` of the full recompute; the records span the year before it.
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AS_OF_MINUTE = (AS_OF - EPOCH) // timedelta(minutes=1)

#: Type codes are the positions in ActivityType: sent, opened, clicked, bounced,
#: unsubscribed, spam complaint.
TYPES = tuple(ActivityType)
MIX = (40, 35, 15, 4, 4, 2)
#: The tie rank of each type code (TIE_RANK): unsubscribed > spam > bounced > clicked > ...
RANK = (0, 1, 2, 3, 5, 4)
#: The type code of each rank (RANK inverted).
TYPE_OF_RANK = tuple(RANK.index(r) for r in range(6))
COUNT_NAMES = ("sent", "opens", "clicks", "bounces", "unsubscribes", "spam_complaints")
LABELS = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
URLS = tuple(f"https://example.com/offer/{i}" for i in range(5))
BOUNCES = ("Soft", "Hard")

#: The full workload's hard case (issue 16): each type has its own DaysToKeep (sent, opened,
#: clicked, bounced, unsubscribed, spam complaint), so the six retention cutoffs differ ...
DAYS_BY_TYPE = (60, 90, 120, 180, 270, 30)
#: ... and every other member (odd ``m``) starts with a prior status and Activity Date,
#: drawn uniformly over the last PRIOR_DAYS days before ``as_of``: older than the member's
#: latest record within retention for some, newer for others, so the Always guard's
#: "strictly later" branch decides both ways.
PRIOR_DAYS = 45

INCREMENTAL_EVENTS = 1000
#: The incremental events touch this many members (two events each), whatever the store size.
INCREMENTAL_MEMBERS = 500

#: Issue 9's targets.
TARGET_FLOOR_RATIO = 5.0  # issue 16: <= 5x now (1.5x is the standing goal)
TARGET_FLOOR_GOAL = 1.5
TARGET_PURE_RATIO = 2.0
TARGET_BUILD_US = 1.5
TARGET_PANDAS_RATIO = 1.0
TARGET_INCREMENTAL_RATIO = 1.5
TARGET_BYTES_PER_RECORD = 200
TARGET_SQLITE_INCREMENTAL_S = 0.150
TARGET_CLI_RECORDS_PER_S = 100_000
TARGET_SQLITE_LINEAR = 11.0  # 10x the records in at most 11x the time
TARGET_DISK_BYTES_PER_RECORD = 200
TARGET_HUGE_PEAK_BYTES = 2 * 1024**3  # a first sync of 10,000,000 records on SQLite
TARGET_IMPORT_MS = 150.0
#: Issue 16's import targets: the status and retention rules, and the sync shell.
TARGET_IMPORT_RULES_MS = 100.0
TARGET_IMPORT_SYNC_MS = 150.0
#: Incremental syncs run back to back, the collector as it runs, per store size.
SERVICE_SYNCS = 100

Row = tuple[int, int, int]  # (member, type code, minute since the epoch)


@dataclass(frozen=True)
class Workload:
    """N records as plain tuples of ints, and how to name their members."""

    rows: list[Row]
    n_members: int
    end_minute: int
    span_minutes: int

    @property
    def n_subscribers(self) -> int:
        return -(-self.n_members // N_CAMPAIGNS)


def generate(n_records: int, *, span_days: int, end_minute: int, seed: int) -> Workload:
    """The deterministic workload: uniform members, the issue's type mix, uniform minutes."""
    rng = random.Random(seed)
    n_members = max(N_CAMPAIGNS, n_records // RECORDS_PER_MEMBER)
    span = span_days * MINUTES_PER_DAY
    members = [rng.randrange(n_members) for _ in range(n_records)]
    types = rng.choices(range(6), weights=MIX, k=n_records)
    minutes = [end_minute - 1 - rng.randrange(span) for _ in range(n_records)]
    rows = list(zip(members, types, minutes, strict=True))
    return Workload(rows, n_members, end_minute, span)


def campaign_id(c: int) -> str:
    return f"cmp-{c:02d}"


def crm_campaign_id(c: int) -> str:
    return f"crm-{c:02d}"


def email_of(subscriber: int) -> str:
    return f"s{subscriber:06d}@example.com"


def detail_of(m: int, t: int, minute: int) -> str | None:
    if t == 2:
        return URLS[(m + minute) % len(URLS)]
    if t == 3:
        return BOUNCES[minute % 2]
    return None


def at_minute(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def minute_of(at: datetime) -> int:
    return (at - EPOCH) // timedelta(minutes=1)


def cutoff_minutes(as_of_minute: int) -> list[int]:
    """The retention cutoff of every type code, in minutes (its own DaysToKeep)."""
    return [as_of_minute - days * MINUTES_PER_DAY for days in DAYS_BY_TYPE]


@dataclass(frozen=True)
class Prior:
    """Each member's state before the recompute: the type code and minute of the activity
    that last set its status, or -1 and -1 (Activity Date empty)."""

    type: list[int]
    minute: list[int]

    @property
    def count(self) -> int:
        return sum(1 for minute in self.minute if minute >= 0)


def prior_state(work: Workload, seed: int) -> Prior:
    """Every other member (odd ``m``) with a prior status and Activity Date in the last
    PRIOR_DAYS days; the others with none."""
    rng = random.Random(seed)
    types = [-1] * work.n_members
    minutes = [-1] * work.n_members
    for m in range(1, work.n_members, 2):
        types[m] = rng.choices(range(6), weights=MIX)[0]
        minutes[m] = work.end_minute - 1 - rng.randrange(PRIOR_DAYS * MINUTES_PER_DAY)
    return Prior(types, minutes)


def prior_member(m: int, prior: Prior) -> CampaignMember:
    """Member ``m`` as the CRM holds it before the recompute (status Sent when it has no
    prior activity: the campaign's default)."""
    t = prior.type[m]
    if t < 0:
        return CampaignMember(
            campaign_id(m % N_CAMPAIGNS), email_of(m // N_CAMPAIGNS), status="Sent"
        )
    return CampaignMember(
        campaign_id(m % N_CAMPAIGNS),
        email_of(m // N_CAMPAIGNS),
        status=LABELS[t],
        activity=TYPES[t],
        activity_date=at_minute(prior.minute[m]),
    )


def tracking_events(work: Workload) -> dict[int, list[TrackingEvent]]:
    """The workload as the platform reports it: the events of each campaign."""
    emails = [email_of(s) for s in range(work.n_subscribers)]
    by_campaign: dict[int, list[TrackingEvent]] = defaultdict(list)
    for m, t, minute in work.rows:
        by_campaign[m % N_CAMPAIGNS].append(
            TrackingEvent(
                TYPES[t],
                emails[m // N_CAMPAIGNS],
                at_minute(minute),
                detail=detail_of(m, t, minute),
            )
        )
    return by_campaign


def activities_by_member(work: Workload, *, trusted: bool = False) -> dict[int, list[Activity]]:
    """The workload as the CRM stores it, grouped per member (what ``records_for`` gives).

    ``trusted``: built by ``Activity._trusted``, the constructor the hot paths use for
    values already checked (the datetimes are built once per distinct minute there, as a
    store's row reader or the sync's event conversion meets them)."""
    emails = [email_of(s) for s in range(work.n_subscribers)]
    grouped: dict[int, list[Activity]] = defaultdict(list)
    build: Any = Activity._trusted if trusted else Activity
    instants: dict[int, datetime] = {}
    for m, t, minute in work.rows:
        email = emails[m // N_CAMPAIGNS]
        at = instants.get(minute) if trusted else None
        if at is None:
            at = at_minute(minute)
            if trusted:
                instants[minute] = at
        grouped[m].append(
            build(
                campaign_id(m % N_CAMPAIGNS),
                email,
                TYPES[t],
                at,
                client_id=CLIENT,
                email=email,
                detail=detail_of(m, t, minute),
            )
        )
    return grouped


def settings() -> Settings:
    """The incremental and SQLite stores' settings: DaysToKeep for every type."""
    return Settings(days_to_keep=DAYS_TO_KEEP)


def full_settings() -> Settings:
    """The full workload's settings: a DaysToKeep of its own for each type."""
    return Settings(
        days_to_keep=DAYS_TO_KEEP, days_to_keep_by_type=dict(zip(TYPES, DAYS_BY_TYPE, strict=True))
    )


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Digest:
    """A summary every path must reproduce: rollup totals, members per candidate type,
    the sum of the candidates' minutes and a member-weighted checksum."""

    counts: tuple[int, ...]
    by_type: tuple[int, ...]
    minute_sum: int
    weighted: int


def digest_of(outcomes: Iterable[tuple[int, Sequence[int], int, int]]) -> Digest:
    """From (member, counts, candidate type code or -1, candidate minute or -1) per member."""
    counts = [0] * 6
    by_type = [0] * 6
    minute_sum = 0
    weighted = 0
    for m, member_counts, t, minute in outcomes:
        for i in range(6):
            counts[i] += member_counts[i]
        if t >= 0:
            by_type[t] += 1
            minute_sum += minute
            weighted += m * (t + 1)
    return Digest(tuple(counts), tuple(by_type), minute_sum, weighted)


def member_index(campaign: str, member_id: str) -> int:
    return int(member_id[1:7]) * N_CAMPAIGNS + int(campaign[4:])


def digest_of_members(members: Iterable[CampaignMember]) -> Digest:
    def outcomes() -> Iterator[tuple[int, Sequence[int], int, int]]:
        for member in members:
            e = member.engagement
            counts = (e.sent, e.opens, e.clicks, e.bounces, e.unsubscribes, e.spam_complaints)
            if member.activity is None or member.activity_date is None:
                t, minute = -1, -1
            else:
                t, minute = TYPES.index(member.activity), minute_of(member.activity_date)
            yield member_index(member.campaign_id, member.member_id), counts, t, minute

    return digest_of(outcomes())


@dataclass
class Stat:
    """Seconds of several runs (or any other repeated figure)."""

    values: list[float]
    gc_share: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)


@dataclass
class Report:
    """The table: rows of (label, figure, unit, note), and the targets."""

    header: list[str] = field(default_factory=list)
    rows: list[tuple[str, Stat | str | None, str, str]] = field(default_factory=list)
    targets: list[tuple[str, str, str, bool | None]] = field(default_factory=list)
    figures: dict[str, Stat] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # records behind a figure, where it varies

    def section(self, title: str) -> None:
        self.rows.append((title, None, "", ""))

    def add(self, key: str, label: str, stat: Stat | str, unit: str = "s", note: str = "") -> None:
        if isinstance(stat, Stat):
            self.figures[key] = stat
        self.rows.append((label, stat, unit, note))

    def target(self, name: str, measured: str, goal: str, met: bool | None) -> None:
        self.targets.append((name, measured, goal, met))


def emit(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def progress(text: str) -> None:
    sys.stderr.write(f"[bench] {text}\n")
    sys.stderr.flush()


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        if value >= 1:
            return f"{value:.2f} s"
        return f"{value * 1000:.1f} ms"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "B":
        return f"{value:.0f} B"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit == "records/s":
        return f"{value:,.0f}/s"
    return f"{value:.3g} {unit}".strip()


def render(report: Report) -> str:
    out = io.StringIO()
    out.writelines(line + "\n" for line in report.header)
    out.write("\n")
    width = max(len(label) for label, stat, *_ in report.rows if stat is not None) + 2
    out.write(f"{'figure':<{width}}{'median':>11}{'min':>11}{'max':>11}  note\n")
    out.write("-" * (width + 33 + 30) + "\n")
    for label, stat, unit, note in report.rows:
        if stat is None:
            out.write(f"{label}\n")
        elif isinstance(stat, str):
            out.write(f"{label:<{width}}{stat:>33}  {note}\n")
        else:
            cells = [fmt(stat.median, unit), fmt(min(stat.values), unit)]
            cells.append(fmt(max(stat.values), unit))
            extra = note
            if stat.gc_share is not None:
                extra = f"GC {stat.gc_share:.0%} of it" + (f"; {note}" if note else "")
            out.write(f"{label:<{width}}{cells[0]:>11}{cells[1]:>11}{cells[2]:>11}  {extra}\n")
    out.write("\ntargets (ratios of medians measured above)\n")
    out.write("-" * (width + 63) + "\n")
    for name, measured, goal, met in report.targets:
        mark = "n/a" if met is None else ("met" if met else "NOT met")
        out.write(f"{name:<{width}}{measured:>16}  {goal:<18}{mark}\n")
    return out.getvalue()


# ----------------------------------------------------------------------------- timing


class GcWatch:
    """Time spent in the cyclic garbage collector while the block runs (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


def measure(
    run: Callable[[Any], object],
    repeat: int,
    *,
    setup: Callable[[], Any] | None = None,
    check: Callable[[object], None] | None = None,
) -> Stat:
    """Time ``run(setup())`` ``repeat`` times (setup untimed), with its share of GC time."""
    seconds: list[float] = []
    shares: list[float] = []
    for _ in range(repeat):
        arg = setup() if setup is not None else None
        gc.collect()
        with GcWatch() as watch:
            started = time.perf_counter()
            result = run(arg)
            elapsed = time.perf_counter() - started
        seconds.append(elapsed)
        shares.append(watch.seconds / elapsed if elapsed else 0.0)
        if check is not None:
            check(result)
        del result
    return Stat(seconds, statistics.median(shares))


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move every object alive now to the permanent generation, for the block only."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# ----------------------------------------------------------------------------- the floor


def floor_recompute(
    rows: list[Row], n_members: int, cutoffs: list[int], previous: Prior
) -> list[tuple[int, tuple[int, ...], int, int]]:
    """Rollups, guarded status and retention over plain tuples of ints: no objects, no
    datetimes, no per-record allocation (flat lists indexed by member)."""
    counts = [0] * (n_members * 6)
    best_minute = [-1] * n_members
    best_rank = [-1] * n_members
    rank = RANK
    for m, t, minute in rows:
        if minute < cutoffs[t]:
            continue  # purged by retention
        counts[m * 6 + t] += 1
        b = best_minute[m]
        if minute > b or (minute == b and rank[t] > best_rank[m]):
            best_minute[m] = minute
            best_rank[m] = rank[t]
    out = []
    prior_type, prior_minute = previous.type, previous.minute
    for m in range(n_members):
        b = best_minute[m]
        p = prior_minute[m]
        if b >= 0 and (p < 0 or b > p):  # Always: set if Activity Date empty or older
            t, minute = TYPE_OF_RANK[best_rank[m]], b
        else:  # untouched: the prior activity and date (or none)
            t, minute = prior_type[m], p
        out.append((m, tuple(counts[m * 6 : m * 6 + 6]), t, minute))
    return out


# ----------------------------------------------------------------------------- baselines


def pandas_build(rows: list[Row]) -> Any:
    import pandas as pd  # noqa: PLC0415 - optional baseline

    return pd.DataFrame.from_records(rows, columns=["member", "type", "minute"])


def pandas_compute(df: Any, n_members: int, cutoffs: list[int], previous: Prior) -> Any:
    import numpy as np  # noqa: PLC0415 - optional baseline

    types = df["type"].to_numpy()
    kept = df[df["minute"].to_numpy() >= np.asarray(cutoffs)[types]]
    everyone = range(n_members)  # a member with a prior state and no record kept counts too
    counts = (
        kept.groupby(["member", "type"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=everyone, columns=range(6), fill_value=0)
    )
    order = kept["minute"] * 8 + np.asarray(RANK)[kept["type"].to_numpy()]
    best = order.groupby(kept["member"]).max().reindex(everyone, fill_value=-1).to_numpy()
    prev = np.asarray(previous.minute)
    minute = best // 8
    sets = (best >= 0) & ((prev < 0) | (minute > prev))
    candidate = np.asarray(TYPE_OF_RANK)[np.where(best >= 0, best % 8, 0)]
    out = counts.astype("int64")
    out["type"] = np.where(sets, candidate, np.asarray(previous.type))
    out["minute"] = np.where(sets, minute, prev)
    return out


def pandas_digest(out: Any) -> Digest:
    import numpy as np  # noqa: PLC0415 - optional baseline

    counts = tuple(int(out[i].sum()) for i in range(6))
    t = out["type"].to_numpy()
    chosen = t >= 0
    by_type = tuple(int((t == i).sum()) for i in range(6))
    minute_sum = int(out["minute"].to_numpy()[chosen].sum())
    members = out.index.to_numpy()
    weighted = int((members[chosen].astype(np.int64) * (t[chosen] + 1)).sum())
    return Digest(counts, by_type, minute_sum, weighted)


def polars_build(rows: list[Row]) -> Any:
    import polars as pl  # noqa: PLC0415 - optional baseline

    schema = [("member", pl.Int64), ("type", pl.Int64), ("minute", pl.Int64)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def polars_compute(df: Any, n_members: int, cutoffs: list[int], previous: Prior) -> Any:
    import polars as pl  # noqa: PLC0415 - optional baseline

    cut = dict(enumerate(cutoffs))
    rank = dict(enumerate(RANK))
    type_of_rank = dict(enumerate(TYPE_OF_RANK))
    prev = pl.DataFrame(
        {"member": range(n_members), "prev": previous.minute, "prev_type": previous.type}
    ).lazy()
    kept = df.lazy().filter(
        pl.col("minute") >= pl.col("type").replace_strict(cut, return_dtype=pl.Int64)
    )
    order = pl.col("minute") * 8 + pl.col("type").replace_strict(rank, return_dtype=pl.Int64)
    grouped = kept.group_by("member").agg(
        *[(pl.col("type") == i).sum().alias(str(i)) for i in range(6)],
        order.max().alias("order"),
    )
    sets = pl.col("order").is_not_null() & (
        (pl.col("prev") < 0) | (pl.col("order") // 8 > pl.col("prev"))
    )
    return (  # every member: one with a prior state and no record kept counts too
        prev.join(grouped, on="member", how="left")
        .with_columns(
            type=pl.when(sets)
            .then((pl.col("order") % 8).replace_strict(type_of_rank, return_dtype=pl.Int64))
            .otherwise(pl.col("prev_type")),
            minute=pl.when(sets).then(pl.col("order") // 8).otherwise(pl.col("prev")),
        )
        .collect()
    )


def polars_digest(out: Any) -> Digest:
    import polars as pl  # noqa: PLC0415 - optional baseline

    counts = tuple(int(out[str(i)].sum()) for i in range(6))
    chosen = out.filter(pl.col("type") >= 0)
    by_type = tuple(int((chosen["type"] == i).sum()) for i in range(6))
    minute_sum = int(chosen["minute"].sum())
    weighted = int((chosen["member"] * (chosen["type"] + 1)).sum())
    return Digest(counts, by_type, minute_sum, weighted)


def columnar_build(rows: list[Row], n_members: int, previous: Prior) -> Any:
    """The workload as cmsf_core.app.columnar reads it: integer ids (campaign m % 20, member m),
    integer type codes and minutes; members with their prior status, activity and Activity
    Date (status Sent and no activity when they have none)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    member, type_code, minute = pl.DataFrame(
        rows, schema=[("m", pl.Int64), ("t", pl.Int8), ("minute", pl.Int64)], orient="row"
    ).get_columns()
    records = pl.DataFrame(
        {
            "campaign_id": member % N_CAMPAIGNS,
            "member_id": member,
            "type": type_code,
            "occurred_at": minute,
        }
    )
    ids = pl.Series("member_id", range(n_members), dtype=pl.Int64)
    members = pl.DataFrame(
        {
            "campaign_id": ids % N_CAMPAIGNS,
            "member_id": ids,
            "status": [LABELS[t] if t >= 0 else "Sent" for t in previous.type],
            "activity": pl.Series([t if t >= 0 else None for t in previous.type], dtype=pl.Int8),
            "activity_date": pl.Series(
                [p if p >= 0 else None for p in previous.minute], dtype=pl.Int64
            ),
        }
    )
    return records, members


def columnar_compute(frames: Any, _n_members: int, _cutoffs: list[int], _prev: Prior) -> Any:
    """The library's columnar path: cmsf_core.app.columnar.recompute (retention, then refresh
    of every member under the same settings as the pure path)."""
    from cmsf_core.app import columnar  # noqa: PLC0415 - optional, behind the [polars] extra

    records, members = frames
    return columnar.recompute(
        members, records, full_settings(), as_of=AS_OF, default_statuses="Sent"
    )


def columnar_digest(out: Any) -> Digest:
    """The digest of cmsf_core.app.columnar's output (activity Enum codes = type codes)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    counts = tuple(int(out[name].sum()) for name in COUNT_NAMES)
    chosen = out.filter(pl.col("activity").is_not_null()).select(
        pl.col("member_id"),
        pl.col("activity").to_physical().cast(pl.Int64).alias("t"),
        (pl.col("activity_date").dt.epoch("us") // 60_000_000).alias("minute"),
    )
    by_type = tuple(int((chosen["t"] == i).sum()) for i in range(6))
    minute_sum = int(chosen["minute"].sum())
    weighted = int((chosen["member_id"] * (chosen["t"] + 1)).sum())
    return Digest(counts, by_type, minute_sum, weighted)


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# ----------------------------------------------------------------------------- library


def seed_platform(platform: InMemoryPlatform, *, sent_minute: int) -> None:
    platform.add_client(CLIENT, "Benchmark client")
    for c in range(N_CAMPAIGNS):
        sent_at = at_minute(sent_minute)
        platform.add_campaign(CLIENT, campaign_id(c), f"Campaign {c}", sent_at=sent_at)


def empty_crm(work: Workload) -> InMemoryCrm:
    """A CRM with the 20 linked campaigns (every label a status) and one contact per
    subscriber, and no records or members yet."""
    crm = InMemoryCrm()
    add_campaigns_and_people(crm, work.n_subscribers)
    return crm


def add_campaigns_and_people(crm: Any, n_subscribers: int) -> None:
    for c in range(N_CAMPAIGNS):
        crm.add_campaign(
            crm_campaign_id(c),
            f"Campaign {c}",
            statuses=LABELS,
            default="Sent",
            responded=("Opened", "Clicked"),
        )
        crm.link(CLIENT, campaign_id(c), crm_campaign_id(c))
    for s in range(n_subscribers):
        crm.add_person(email_of(s), person_id=f"003{s:08d}")


def pure_recompute(
    grouped: dict[int, list[Activity]], members: dict[int, CampaignMember], as_of: datetime
) -> list[CampaignMember]:
    """The library's pure path: apply_retention, then refresh_member, per member."""
    config = full_settings()
    out = []
    for m, member in members.items():
        kept = apply_retention(grouped.get(m, ()), config, as_of=as_of).kept
        out.append(
            refresh_member(member, kept, config, cause=RefreshCause.IMPORT, default_status="Sent")
        )
    return out


def full_platform(work: Workload) -> InMemoryPlatform:
    platform = InMemoryPlatform()
    seed_platform(platform, sent_minute=work.end_minute - work.span_minutes)
    for c, events in tracking_events(work).items():
        platform.add_events(campaign_id(c), events)
    return platform


def full_sync(crm: InMemoryCrm, platform: InMemoryPlatform, as_of: datetime) -> InMemoryCrm:
    report = run_sync(crm, platform, full_settings(), as_of=as_of, full=True)
    if not report.ok:
        raise RuntimeError(f"the full sync refused writes: {report.plan.refusals[:3]}")
    return crm


# ----------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class FullCase:
    """The full-recompute workload, its cutoffs, the members' previous state, and the
    result every path must reproduce (the floor's)."""

    work: Workload
    cutoffs: list[int]
    previous: Prior
    truth: Digest

    def agree(self, name: str, *, from_scratch: bool = False) -> Callable[[Digest], None]:
        """A check that a path's digest equals the floor's (``from_scratch``: the floor's
        with every prior state cleared, which is what a full sync computes)."""
        truth = self.truth
        if from_scratch:
            n = self.work.n_members
            empty = Prior([-1] * n, [-1] * n)
            truth = digest_of(floor_recompute(self.work.rows, n, self.cutoffs, empty))

        def check(found: Digest) -> None:
            if found != truth:
                raise AssertionError(f"{name} disagrees with the floor: {found} != {truth}")

        return check


def section_full(report: Report, n: int, repeat: int, *, freeze: bool) -> None:
    report.section(f"full recompute of {n:,} records (rollups + guarded status + retention)")
    progress(f"generating {n:,} records")
    work = generate(n, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
    cutoffs = cutoff_minutes(AS_OF_MINUTE)
    previous = prior_state(work, SEED + 2)
    describe_full_case(report, work, cutoffs, previous)
    progress("floor")
    digests: list[Digest] = []
    floor = measure(
        lambda _: floor_recompute(work.rows, work.n_members, cutoffs, previous),
        repeat,
        check=lambda result: digests.append(digest_of(result)),  # type: ignore[arg-type]
    )
    report.add("floor", "floor: plain tuples of ints", floor)
    case = FullCase(work, cutoffs, previous, digests[0])
    full_baselines(report, case, repeat)
    full_columnar(report, case, repeat)
    full_pure_path(report, case, repeat)
    full_run_sync(report, case, repeat, freeze=freeze)
    gc.collect()


def describe_full_case(report: Report, work: Workload, cutoffs: list[int], prior: Prior) -> None:
    """The header lines saying what the full workload holds and how often each branch of
    the Always guard runs."""
    kept = sum(1 for _m, t, minute in work.rows if minute >= cutoffs[t])
    latest = [-1] * work.n_members
    for m, t, minute in work.rows:
        if minute >= cutoffs[t] and minute > latest[m]:
            latest[m] = minute
    newer = older = nothing = 0
    for m, p in enumerate(prior.minute):
        if p < 0:
            continue
        if latest[m] < 0:
            nothing += 1
        elif latest[m] > p:
            newer += 1
        else:
            older += 1
    days = ", ".join(f"{t.value} {d}" for t, d in zip(TYPES, DAYS_BY_TYPE, strict=True))
    report.header.append(
        f"full recompute workload: {len(work.rows):,} records, {work.n_members:,} members, "
        f"{N_CAMPAIGNS} campaigns, {kept:,} within retention at as_of (DaysToKeep per type: "
        f"{days})"
    )
    report.header.append(
        f"  {prior.count:,} members start with a prior status and Activity Date (last "
        f"{PRIOR_DAYS} days): the guard replaces it for {newer:,} (a later record), keeps it "
        f"for {older:,} (records not later) and {nothing:,} have no record within retention"
    )


def full_baselines(report: Report, case: FullCase, repeat: int) -> None:
    rows, n_members = case.work.rows, case.work.n_members
    for name, build, compute, digest in (
        ("pandas", pandas_build, pandas_compute, pandas_digest),
        ("polars", polars_build, polars_compute, polars_digest),
    ):
        if not installed(name):
            report.add(name, f"{name}: not installed", "skipped", note=f"pip install {name}")
            continue
        progress(name)
        frame = build(rows)  # also warms the import up
        report.add(
            f"{name}_build",
            f"{name}: build the frame from the tuples",
            measure(lambda _, b=build: b(rows), repeat),
        )
        check = case.agree(name)
        report.add(
            name,
            f"{name}: compute",
            measure(
                lambda _, c=compute, f=frame: c(f, n_members, case.cutoffs, case.previous),
                repeat,
                check=lambda out, d=digest, ch=check: ch(d(out)),
            ),
        )


def full_columnar(report: Report, case: FullCase, repeat: int) -> None:
    if not installed("polars"):
        report.add("columnar", "library columnar path: polars not installed", "skipped")
        return
    progress("library: columnar path")
    rows, n_members = case.work.rows, case.work.n_members
    frames = columnar_build(rows, n_members, case.previous)
    report.add(
        "columnar_build",
        "library columnar: build the frames from the tuples",
        measure(lambda _: columnar_build(rows, n_members, case.previous), repeat),
    )
    check = case.agree("cmsf_core.app.columnar")
    report.add(
        "columnar",
        "library columnar path: columnar.recompute",
        measure(
            lambda _: columnar_compute(frames, n_members, case.cutoffs, case.previous),
            repeat,
            check=lambda out: check(columnar_digest(out)),
        ),
        note="retention + refresh, Always, latest wins",
    )


def full_pure_path(report: Report, case: FullCase, repeat: int) -> None:
    progress("library: building Activity objects")
    built: list[dict[int, list[Activity]]] = []
    report.add(
        "build_activities",
        f"library: build {len(case.work.rows):,} Activity objects",
        measure(lambda _: activities_by_member(case.work), repeat, check=built.append),  # type: ignore[arg-type]
        note="attrs + datetime per record",
    )
    grouped = built[-1]
    built.clear()
    progress("library: building Activity objects, trusted")
    trusted = measure(
        lambda _: activities_by_member(case.work, trusted=True),
        repeat,
        check=lambda out: (built.clear(), built.append(out)),  # type: ignore[arg-type,func-returns-value]
    )
    if built[-1] != grouped:
        raise AssertionError("Activity._trusted built other values than Activity(...)")
    built.clear()
    report.add(
        "build_trusted",
        f"library: build {len(case.work.rows):,} Activity objects, trusted",
        trusted,
        note="Activity._trusted, the hot paths' constructor (values already checked)",
    )
    report.figures["build_trusted_us"] = Stat(
        [v / len(case.work.rows) * 1e6 for v in trusted.values]
    )
    members = {m: prior_member(m, case.previous) for m in range(case.work.n_members)}
    progress("library: pure path")
    check = case.agree("the pure path")
    report.add(
        "pure",
        "library pure path: apply_retention + refresh_member",
        measure(
            lambda _: pure_recompute(grouped, members, AS_OF),
            repeat,
            check=lambda out: check(digest_of_members(out)),  # type: ignore[arg-type]
        ),
        note="per member, Activity objects prebuilt",
    )


def full_run_sync(report: Report, case: FullCase, repeat: int, *, freeze: bool) -> None:
    n = len(case.work.rows)
    progress("library: loading the in-memory platform")
    started = time.perf_counter()
    platform = full_platform(case.work)
    report.add(
        "load_platform",
        f"InMemoryPlatform: load {n:,} events (once)",
        Stat([time.perf_counter() - started]),
    )
    progress("library: run_sync(full=True)")
    # A full sync rebuilds every member from its records (Always: refreshed as after a
    # deletion, then as after an import; docs/sync.md), so the prior states do not survive
    # it: its digest is the floor's with no prior state.
    check = case.agree("run_sync(full=True)", from_scratch=True)

    def check_crm(crm: object) -> None:
        assert isinstance(crm, InMemoryCrm)
        check(digest_of_members(r.member for r in crm.all_members()))

    def fresh_crm() -> InMemoryCrm:
        crm = empty_crm(case.work)
        save_prior_members(crm, case.previous)
        return crm

    report.add(
        "sync_full",
        "library public API: run_sync(full=True), in-memory",
        measure(
            lambda crm: full_sync(crm, platform, AS_OF), repeat, setup=fresh_crm, check=check_crm
        ),
        note="20 linked campaigns, the prior members, no records",
    )
    if freeze:
        with frozen_heap():
            report.add(
                "sync_full_frozen",
                "  the same after gc.freeze() of the loaded platform",
                measure(lambda crm: full_sync(crm, platform, AS_OF), repeat, setup=fresh_crm),
            )


def save_prior_members(crm: Any, prior: Prior) -> None:
    """The members that start with a prior status and Activity Date, saved in the CRM."""
    crm.save_members(
        [
            MemberRecord(
                crm_campaign_id(m % N_CAMPAIGNS),
                prior_member(m, prior),
                email_of(m // N_CAMPAIGNS),
                f"003{m // N_CAMPAIGNS:08d}",
            )
            for m, minute in enumerate(prior.minute)
            if minute >= 0
        ]
    )


@dataclass
class Store:
    """A CRM as after earlier syncs, and the watermark its checkpoint holds."""

    crm: Any
    watermark: int
    batch: int = 0


def seed_crm(crm: Any, work: Workload) -> None:
    """Fill a CRM (any CrmStore with the InMemoryCrm seeding helpers) with the workload's
    records and the members they give, as earlier syncs would have left them."""
    add_campaigns_and_people(crm, work.n_subscribers)
    config = settings()
    grouped = activities_by_member(work)
    per_campaign: dict[int, list[Activity]] = defaultdict(list)
    for m, records in grouped.items():
        per_campaign[m % N_CAMPAIGNS].extend(records)
    for records in per_campaign.values():
        crm.insert_records(number_occurrences(records))
    del per_campaign
    saved = []
    for m, records in grouped.items():
        c = m % N_CAMPAIGNS
        email = email_of(m // N_CAMPAIGNS)
        member = refresh_member(
            CampaignMember(campaign_id(c), email, status="Sent"),
            records,
            config,
            cause=RefreshCause.IMPORT,
            default_status="Sent",
        )
        saved.append(MemberRecord(crm_campaign_id(c), member, email, f"003{m // N_CAMPAIGNS:08d}"))
    crm.save_members(saved)
    crm.save_checkpoints([Checkpoint(CLIENT, at_minute(work.end_minute))])


def build_store(n: int, crm: Any = None) -> Store:
    """A CRM holding n records (within retention, over n/10 members) and their members."""
    work = generate(n, span_days=150, end_minute=AS_OF_MINUTE, seed=SEED + n)
    crm = InMemoryCrm() if crm is None else crm
    seed_crm(crm, work)
    return Store(crm, work.end_minute)


@dataclass
class Batch:
    platform: InMemoryPlatform
    as_of: datetime
    members: list[tuple[str, str]]


def next_batch(store: Store) -> Batch:
    """A platform holding only 1,000 new events after the watermark (two for each of the
    first 500 members), so that every timed sync reads, plans and writes the same amount."""
    rng = random.Random(SEED * 1000 + store.batch)
    start = store.watermark + 1 + store.batch * 120
    store.batch += 1
    platform = InMemoryPlatform()
    seed_platform(platform, sent_minute=store.watermark - 1)
    types = rng.choices(range(6), weights=MIX, k=INCREMENTAL_EVENTS)
    for i, t in enumerate(types):
        m = i % INCREMENTAL_MEMBERS
        minute = start + i % 50
        platform.add_event(
            campaign_id(m % N_CAMPAIGNS),
            TYPES[t],
            email_of(m // N_CAMPAIGNS),
            at_minute(minute),
            detail=detail_of(m, t, minute),
        )
    members = [
        (campaign_id(m % N_CAMPAIGNS), email_of(m // N_CAMPAIGNS))
        for m in range(INCREMENTAL_MEMBERS)
    ]
    return Batch(platform, at_minute(start + 50), members)


def incremental_sync(store: Store, batch: Batch) -> Any:
    report = run_sync(store.crm, batch.platform, settings(), as_of=batch.as_of)
    if not report.ok or len(report.plan.records_to_insert) < INCREMENTAL_EVENTS // 2:
        raise RuntimeError("the incremental sync imported too little or refused writes")
    return report


def undo(store: Store, report: Any, before: Any) -> None:
    """Put the store back to its size and its members' state (the watermark stays)."""
    store.crm.delete_records([a.key for a in report.plan.records_to_insert])
    store.crm.save_members(list(before.values()))


def time_incremental(store: Store, repeat: int) -> Stat:
    """Sync 1,000 new events ``repeat`` times; after each, undo its inserts and member
    updates, so every run meets the same N records and the same member state."""
    seconds: list[float] = []
    shares: list[float] = []
    for _ in range(repeat + 1):
        batch = next_batch(store)
        before = store.crm.members([MemberRef(c, e) for c, e in batch.members])
        gc.collect()
        with GcWatch() as watch:
            started = time.perf_counter()
            report = incremental_sync(store, batch)
            elapsed = time.perf_counter() - started
        undo(store, report, before)
        seconds.append(elapsed)
        shares.append(watch.seconds / elapsed)
    # the first sync of a store is a warm-up
    return Stat(seconds[1:], statistics.median(shares[1:]))


@dataclass
class ServiceRun:
    """Back-to-back syncs with the collector as it runs: each sync's seconds (including
    any collection it triggered) and the full collections met."""

    stat: Stat
    full_in_syncs: int
    full_elsewhere: int
    longest_pause: float
    #: Collector seconds spent in the untimed undo steps: pauses the syncs' garbage caused.
    gc_elsewhere: float

    @property
    def amortised(self) -> float:
        """Seconds per sync with every collection met in the loop charged to the syncs."""
        return (sum(self.stat.values) + self.gc_elsewhere) / len(self.stat.values)


def time_incremental_as_service(store: Store, syncs: int) -> ServiceRun:
    """Sync 1,000 new events ``syncs`` times back to back, as a long-running service does:
    no gc.collect() before a run, no frozen heap, so each figure includes the collections
    (young and full) the sync itself triggered.  The undo between runs is not timed, but
    the collections it triggers are counted."""
    seconds: list[float] = []
    in_syncs = 0
    gc_seconds = 0.0
    longest = 0.0
    gc.collect()  # once: the state after the store was loaded
    with GcWatch() as everywhere:
        for _ in range(syncs):
            batch = next_batch(store)
            before = store.crm.members([MemberRef(c, e) for c, e in batch.members])
            with GcWatch() as watch:
                started = time.perf_counter()
                report = incremental_sync(store, batch)
                elapsed = time.perf_counter() - started
            undo(store, report, before)
            seconds.append(elapsed)
            in_syncs += watch.collections[2]
            gc_seconds += watch.seconds
            if watch.collections[2]:
                longest = max(longest, watch.seconds)
    stat = Stat(seconds, gc_seconds / sum(seconds))
    return ServiceRun(
        stat,
        in_syncs,
        everywhere.collections[2] - in_syncs,
        longest,
        everywhere.seconds - gc_seconds,
    )


def full_collection(repeat: int) -> Stat:
    """How long one full collection of the current heap takes."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect()
        seconds.append(time.perf_counter() - started)
    return Stat(seconds)


def incremental_sizes(n: int) -> list[int]:
    """10,000, n/10 and n stored records (sizes under 10,000 are left out)."""
    return sorted({size for size in (10_000, n // 10, n) if size >= 10_000})


def section_incremental(report: Report, n: int, repeat: int, service_syncs: int) -> None:
    report.section(
        f"incremental run_sync of {INCREMENTAL_EVENTS:,} new events "
        f"({INCREMENTAL_MEMBERS} members touched, about 10 records each), in-memory"
    )
    runs = max(7 * repeat, 21)
    for size in incremental_sizes(n):
        progress(f"incremental: seeding {size:,} stored records")
        started = time.perf_counter()
        store = build_store(size)
        seeded = time.perf_counter() - started
        progress(f"incremental: {size:,}")
        report.add(
            f"incr_{size}",
            f"against {size:,} stored records",
            time_incremental(store, runs),
            note=f"store seeded in {seeded:.1f} s",
        )
        if store.crm.record_count() != size:
            raise AssertionError("the undo step did not restore the store")
        report.add(
            f"gc_{size}",
            "  one full gc.collect() with this store loaded",
            full_collection(repeat),
            note="the pause a long-running service meets now and then",
        )
        progress(f"incremental: {size:,}, {service_syncs} syncs back to back")
        service = time_incremental_as_service(store, service_syncs)
        report.add(
            f"incr_{size}_service",
            f"  {service_syncs} syncs back to back, the collector as it runs",
            service.stat,
            note=f"{service.full_in_syncs} full collections in the syncs (longest "
            f"{service.longest_pause * 1000:.0f} ms), {service.full_elsewhere} in the untimed "
            "undo steps",
        )
        report.add(
            f"incr_{size}_service_mean",
            "    per sync, every collection in the loop charged to the syncs",
            Stat([service.amortised]),
            note=f"mean; {service.gc_elsewhere * 1000:.0f} ms of collection in the undo steps",
        )
        with frozen_heap():
            report.add(
                f"incr_{size}_frozen",
                "  the same sync after gc.freeze() of the loaded store",
                time_incremental(store, runs),
            )
            report.add(
                f"gc_{size}_frozen",
                "  one full gc.collect() after gc.freeze()",
                full_collection(repeat),
            )
        del store
        gc.collect()


def section_memory(report: Report, n: int) -> None:
    report.section("memory held by InMemoryCrm per stored record")
    progress(f"memory: {n:,} records")
    work = generate(n, span_days=150, end_minute=AS_OF_MINUTE, seed=SEED + 1)
    events = tracking_events(work)
    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    crm = InMemoryCrm()
    for c, stream in events.items():
        crm.insert_records(event_records(CLIENT, campaign_id(c), stream))
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    count = crm.record_count()
    del events
    gc.collect()
    rss_after = rss_bytes()
    report.add(
        "bytes_per_record",
        f"tracemalloc: records inserted by the sync path ({count:,})",
        Stat([traced / count]),
        unit="B",
        note="Activity + key + indexes; members excluded",
    )
    if rss_before and rss_after:
        report.add(
            "rss_per_record",
            "RSS delta, same store (platform events freed)",
            Stat([(rss_after - rss_before) / count]),
            unit="B",
            note="includes allocator slack",
        )
    del crm
    gc.collect()


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def interpreter_ms(codes: Sequence[str], runs: int) -> list[Stat]:
    """Wall time of a fresh interpreter running each snippet, the snippets interleaved
    run by run so that a load spike on the machine hits all of them alike."""
    seconds: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for i, code in enumerate(codes):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            seconds[i].append((time.perf_counter() - started) * 1000)
    return [Stat(values) for values in seconds]


def importtime_ms(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        capture_output=True,
        text=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if parts[2] == module:
            total = int(parts[1])
    return total / 1000


def section_import(report: Report) -> None:
    report.section("import time (fresh interpreter; minus a bare interpreter)")
    progress("import time")
    bare, pkg, rules, shell = interpreter_ms(
        [
            "pass",
            "import cmsf_core",
            "from cmsf_core import refresh_member, apply_retention",
            "from cmsf_core.sync import run_sync",
        ],
        runs=21,
    )
    delta = Stat([p - bare.median for p in pkg.values])
    report.add("import", "import cmsf_core", delta, unit="ms", note=f"bare {bare.median:.1f} ms")
    report.add(
        "import_rules",
        "from cmsf_core import refresh_member, apply_retention",
        Stat([p - bare.median for p in rules.values]),
        unit="ms",
        note="the status and retention rules (attrs, settings, activity, member)",
    )
    report.add(
        "import_xtime",
        "  -X importtime, cumulative for cmsf_core",
        Stat([importtime_ms("cmsf_core")]),
        unit="ms",
    )
    report.add(
        "import_sync",
        "from cmsf_core.sync import run_sync",
        Stat([p - bare.median for p in shell.values]),
        unit="ms",
        note="the sync shell and planner; subscriber sync and field mappings load on first use",
    )
    heavy = ("pandas", "polars", "phonenumbers", "createsend", "simple_salesforce", "pendulum")
    code = (
        "import sys, cmsf_core; from cmsf_core.sync import run_sync; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = done.stdout.strip()
    report.add(
        "heavy",
        "  heavy modules loaded",
        loaded or "none",
        note=", ".join(heavy),
    )


def section_sqlite(report: Report, n: int, repeat: int, *, huge: int | None = None) -> None:
    report.section(f"SQLite store, {n:,} records: the API and the cmsf sync command")
    try:
        sqlite_module = importlib.import_module("cmsf_core.adapters.sqlite")
        sqlite_crm = sqlite_module.SqliteCrm
    except (ImportError, AttributeError):
        report.add("sqlite", "cmsf sync, 1,000 new events", "n/a (no SQLite adapter yet)")
        return
    progress(f"sqlite: seeding {n:,} records")
    try:
        with tempfile.TemporaryDirectory() as folder:
            stat, seeded = sqlite_incremental(sqlite_crm, Path(folder) / "bench.db", n, repeat)
        report.add(
            "sqlite",
            "incremental run_sync, 1,000 events (API)",
            stat,
            note=f"store seeded in {seeded:.0f} s",
        )
    except Exception as error:  # report the failure, go on
        report.add("sqlite", "incremental sync, 1,000 events", "n/a", note=f"error: {error!r}")
    tenth = max(N_CAMPAIGNS * RECORDS_PER_MEMBER, n // 10)
    sqlite_cli_row(report, sqlite_crm, tenth, max(1, min(repeat, 3)), "sqlite_cli_full_tenth")
    sqlite_cli_row(report, sqlite_crm, n, max(1, min(repeat, 3)), "sqlite_cli_full")
    if huge:
        sqlite_cli_row(report, sqlite_crm, huge, 1, "sqlite_cli_full_huge")


def sqlite_cli_row(report: Report, sqlite_crm: Any, size: int, runs: int, key: str) -> None:
    """``cmsf sync --full`` of ``size`` records: time, the child's peak memory, the bytes the
    store spends on disk per tracking record; the store's members digest-checked."""
    progress(f"sqlite: cmsf sync --full of {size:,} records")
    report.sizes[key] = size
    try:
        with tempfile.TemporaryDirectory() as folder:
            run = sqlite_cli_full_sync(sqlite_crm, Path(folder), size, runs)
        work = generate(size, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
        empty = Prior([-1] * work.n_members, [-1] * work.n_members)
        truth = digest_of(
            floor_recompute(work.rows, work.n_members, cutoff_minutes(AS_OF_MINUTE), empty)
        )
        del work
        if run.digest != truth:
            raise AssertionError(
                f"cmsf sync --full disagrees with the floor: {run.digest} != {truth}"
            )
    except Exception as error:  # report the failure, go on
        report.add(key, f"cmsf sync --full, {size:,}", "n/a", note=f"error: {error!r}"[:200])
        return
    report.add(
        key,
        f"cmsf sync --full, {size:,} records from an export",
        run.seconds,
        note=f"the full workload; a fresh interpreter per run; export and store "
        f"prepared in {run.prepared:.0f} s; digest checked",
    )
    report.add(
        f"{key}_rate",
        "  records per second",
        Stat([size / v for v in run.seconds.values]),
        unit="records/s",
    )
    report.add(
        f"{key}_peak",
        "  peak memory of the command (its VmHWM)",
        Stat([v / 1024**2 for v in run.peaks]),
        unit="MiB",
        note=f"{min(run.peaks) / size:.0f} B per record at the least",
    )
    report.add(
        f"{key}_disk",
        "  bytes on disk per tracking record",
        Stat([run.record_bytes / run.records]),
        unit="B",
        note=f"the records' table and indexes, {run.records:,} records "
        f"(whole file: {run.file_bytes / run.records:.0f} B per record)",
    )


def sqlite_targets(report: Report) -> None:
    """The SQLite and command targets of issue 16."""
    f = report.figures
    if "sqlite" in f:
        value = f["sqlite"].median
        report.target(
            "SQLite incremental 1,000 events (API)",
            fmt(value, "s"),
            f"<= {TARGET_SQLITE_INCREMENTAL_S * 1000:.0f} ms",
            value <= TARGET_SQLITE_INCREMENTAL_S,
        )
    if "sqlite_cli_full_rate" in f:
        value = f["sqlite_cli_full_rate"].median
        report.target(
            "cmsf sync --full, records per second",
            f"{value:,.0f}/s",
            f">= {TARGET_CLI_RECORDS_PER_S:,}/s",
            value >= TARGET_CLI_RECORDS_PER_S,
        )
    tenth, main = "sqlite_cli_full_tenth", "sqlite_cli_full"
    if tenth in f and main in f:
        scale = report.sizes[main] / report.sizes[tenth]
        value = f[main].median / f[tenth].median
        goal = TARGET_SQLITE_LINEAR * scale / 10
        report.target(
            f"cmsf sync --full, {report.sizes[main]:,} / {report.sizes[tenth]:,} records: time",
            f"{value:.2f}x",
            f"<= {goal:.0f}x (linear)",
            value <= goal,
        )
        grown = f[f"{main}_peak"].median / f[f"{tenth}_peak"].median
        report.target("  the same: peak memory", f"{grown:.2f}x", "bounded", None)
    if "sqlite_cli_full_huge_peak" in f:
        peak = f["sqlite_cli_full_huge_peak"].median * 1024**2
        report.target(
            f"cmsf sync --full of {report.sizes['sqlite_cli_full_huge']:,}: peak memory",
            f"{peak / 1024**3:.2f} GiB",
            "< 2 GiB",
            peak < TARGET_HUGE_PEAK_BYTES,
        )
    if "sqlite_cli_full_disk" in f:
        value = f["sqlite_cli_full_disk"].median
        report.target(
            "SQLite bytes on disk per tracking record",
            f"{value:.0f} B",
            f"<= {TARGET_DISK_BYTES_PER_RECORD} B",
            value <= TARGET_DISK_BYTES_PER_RECORD,
        )


#: The file names of each stream in a Campaign Monitor export (docs/file-platform.md).
STREAM_FILES = ("recipients", "opens", "clicks", "bounces", "unsubscribes", "spam")
#: Rows per page file of an exported stream.
EXPORT_PAGE_ROWS = 100_000


def envelope(rows: list[dict[str, Any]], page: int, pages: int, total: int) -> dict[str, Any]:
    """A paged API v3.3 response holding ``rows``."""
    return {
        "Results": rows,
        "ResultsOrderedBy": "date",
        "OrderDirection": "asc",
        "PageNumber": page,
        "PageSize": EXPORT_PAGE_ROWS,
        "RecordsOnThisPage": len(rows),
        "TotalNumberOfRecords": total,
        "NumberOfPages": pages,
    }


def local_text(minute: int) -> str:
    """A minute as the export writes it: naive local time of a UTC client."""
    return at_minute(minute).strftime("%Y-%m-%d %H:%M:%S")


def write_export(work: Workload, folder: Path) -> None:
    """The workload as a Campaign Monitor export that ``cmsf sync --platform`` reads: one
    client in UTC, 20 campaigns sent at the start of the span, every record a row of its
    stream (recipients rows carry their Date), page files of EXPORT_PAGE_ROWS rows."""
    sent_minute = work.end_minute - work.span_minutes

    def dump(path: Path, value: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")

    dump(folder / "clients.json", [{"ClientID": CLIENT, "Name": "Benchmark client"}])
    dump(
        folder / "clients" / CLIENT / "details.json",
        {
            "BasicDetails": {
                "ClientID": CLIENT,
                "CompanyName": "Benchmark client",
                "TimeZone": "(GMT) Coordinated Universal Time",
            }
        },
    )
    campaigns = [
        {"CampaignID": campaign_id(c), "Name": f"Campaign {c}", "SentDate": local_text(sent_minute)}
        for c in range(N_CAMPAIGNS)
    ]
    dump(
        folder / "clients" / CLIENT / "campaigns.json",
        envelope(campaigns, 1, 1, len(campaigns)),
    )
    rows: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for m, t, minute in sorted(work.rows, key=lambda row: row[2]):
        row: dict[str, Any] = {"EmailAddress": email_of(m // N_CAMPAIGNS)}
        row["Date"] = local_text(minute)
        detail = detail_of(m, t, minute)
        if t == 2:
            row["URL"] = detail
        elif t == 3:
            row["BounceType"] = detail
        rows[m % N_CAMPAIGNS, t].append(row)
    for c in range(N_CAMPAIGNS):
        for t, stem in enumerate(STREAM_FILES):
            stream = rows.pop((c, t), [])
            pages = max(1, -(-len(stream) // EXPORT_PAGE_ROWS))
            for page in range(pages):
                chunk = stream[page * EXPORT_PAGE_ROWS : (page + 1) * EXPORT_PAGE_ROWS]
                name = f"{stem}.json" if pages == 1 else f"{stem}.{page + 1}.json"
                dump(
                    folder / "campaigns" / campaign_id(c) / name,
                    envelope(chunk, page + 1, pages, len(stream)),
                )


def settings_file(path: Path) -> None:
    """The full workload's settings, by the product's names, as ``--settings`` reads them."""
    values: dict[str, object] = {"DaysToKeep_Email": DAYS_TO_KEEP}
    for t, days in zip(TYPES, DAYS_BY_TYPE, strict=True):
        values[f"DaysToKeep_Email_{t.name.title().replace('_', '')}"] = days
    path.write_text(json.dumps(values), encoding="utf-8")


@dataclass
class CliRun:
    """What ``cmsf sync --full`` runs measured."""

    seconds: Stat
    peaks: list[float]  # the child's max RSS per run, bytes
    prepared: float
    digest: Digest
    records: int
    record_bytes: int  # pages of the tracking records' table and its indexes
    file_bytes: int


#: Runs ``python -m cmsf_core ARGS...`` and, as the interpreter exits, writes the process's
#: own peak resident size (``VmHWM`` of /proc/self/status) to the file named first.  The
#: child's ``ru_maxrss`` cannot be used: on Linux it starts from the parent's resident size
#: at the fork (the harness holds the workload), whatever the child itself uses.
_PEAK_WRAPPER = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status", encoding="ascii") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    with open(out, "w", encoding="ascii") as sink:
        sink.write(hwm.split()[1])
atexit.register(peak)
sys.argv[0] = "cmsf"
runpy.run_module("cmsf_core", run_name="__main__", alter_sys=True)
"""


def run_child(arguments: list[str], log: Path) -> tuple[float, int]:
    """Run ``python -m cmsf_core ARGUMENTS``; return its wall seconds and its own peak
    resident size in bytes."""
    peak_file = log.with_suffix(".peak")
    peak_file.unlink(missing_ok=True)
    command = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), *arguments]
    with open(log, "w", encoding="utf-8") as out:
        begun = time.perf_counter()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - begun
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-500:]
        raise RuntimeError(f"cmsf sync exited {done.returncode}: {tail}")
    return seconds, int(peak_file.read_text(encoding="ascii")) * 1024  # kB in /proc


def record_bytes_on_disk(path: Path) -> tuple[int, int, int]:
    """(tracking records, bytes of the pages of their table and its indexes, file bytes)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name == "records" or name.startswith("records_")
        ]
        count = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        marks = ",".join("?" * len(tables))
        objects = [
            name
            for (name,) in db.execute(
                f"SELECT name FROM sqlite_master WHERE tbl_name IN ({marks})", tables
            )
        ]
        marks = ",".join("?" * len(objects))
        query = f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({marks})"
        used = int(db.execute(query, objects).fetchone()[0])
    return count, used, path.stat().st_size


def sqlite_cli_full_sync(sqlite_crm: Any, folder: Path, n: int, repeat: int) -> CliRun:
    """``cmsf sync --full`` of the full workload (n records as an export) into a SQLite
    store holding the 20 linked campaigns, the contacts and the prior members; each run on
    a fresh copy of that store.  Returns the runs, the child's peak memory, the seconds
    spent preparing, the digest of the store after the last run and its size on disk."""
    started = time.perf_counter()
    work = generate(n, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
    write_export(work, folder / "export")
    settings_file(folder / "settings.json")
    seeded = folder / "seeded.db"
    crm = sqlite_crm(str(seeded))
    try:
        add_campaigns_and_people(crm, work.n_subscribers)
        save_prior_members(crm, prior_state(work, SEED + 2))
    finally:
        crm.close()
    del work
    gc.collect()
    prepared = time.perf_counter() - started
    store = folder / "store.db"
    command = [
        "sync",
        "--store",
        str(store),
        "--platform",
        str(folder / "export"),
        "--settings",
        str(folder / "settings.json"),
        "--as-of",
        AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--full",
    ]
    seconds: list[float] = []
    peaks: list[float] = []
    for _ in range(repeat):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(seeded, store)
        wall, peak = run_child(command, folder / "sync.log")
        seconds.append(wall)
        peaks.append(peak)
    crm = sqlite_crm(str(store))
    try:
        found = digest_of_members(r.member for r in crm.all_members())
    finally:
        crm.close()
    records, used, size = record_bytes_on_disk(store)
    return CliRun(Stat(seconds), peaks, prepared, found, records, used, size)


def sqlite_incremental(sqlite_crm: Any, path: Path, n: int, repeat: int) -> tuple[Stat, float]:
    started = time.perf_counter()
    crm = sqlite_crm(str(path))
    store = build_store(n, crm)
    seeded = time.perf_counter() - started
    try:
        return time_incremental(store, max(repeat, 3)), seeded
    finally:
        close = getattr(crm, "close", None)
        if close is not None:
            close()


# ----------------------------------------------------------------------------- targets


def section_columnar(report: Report, n: int, repeat: int) -> None:
    """The floor, the dataframe baselines and the columnar path only (no Activity objects)."""
    report.section(
        f"columnar recompute of {n:,} records (floor, baselines, cmsf_core.app.columnar)"
    )
    progress(f"generating {n:,} records")
    work = generate(n, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
    cutoffs = cutoff_minutes(AS_OF_MINUTE)
    previous = prior_state(work, SEED + 2)
    describe_full_case(report, work, cutoffs, previous)
    digests: list[Digest] = []
    progress("floor")
    floor = measure(
        lambda _: floor_recompute(work.rows, work.n_members, cutoffs, previous),
        repeat,
        check=lambda result: digests.append(digest_of(result)),  # type: ignore[arg-type]
    )
    report.add("floor", "floor: plain tuples of ints", floor)
    case = FullCase(work, cutoffs, previous, digests[0])
    full_baselines(report, case, repeat)
    full_columnar(report, case, repeat)


def dask_workload(n: int, directory: Path, files: int) -> tuple[list[str], list[str]]:
    """n records (the same mix, span and member count as ``generate``, drawn by numpy) as
    ``files`` parquet files of records and one of members; returns both path lists."""
    import numpy as np  # noqa: PLC0415 - optional, behind the [dask] extra
    import polars as pl  # noqa: PLC0415 - optional, behind the [dask] extra

    rng = np.random.default_rng(SEED)
    n_members = max(N_CAMPAIGNS, n // RECORDS_PER_MEMBER)
    member = rng.integers(0, n_members, n, dtype=np.int64)
    records = pl.DataFrame(
        {
            "campaign_id": member % N_CAMPAIGNS,
            "member_id": member,
            "type": rng.choice(6, size=n, p=np.array(MIX) / sum(MIX)).astype(np.int8),
            "occurred_at": AS_OF_MINUTE - 1 - rng.integers(0, 365 * MINUTES_PER_DAY, n),
        }
    )
    paths = []
    for i, part in enumerate(records.iter_slices(-(-n // files))):
        path = directory / f"records-{i:03d}.parquet"
        part.write_parquet(path)
        paths.append(str(path))
    ids = pl.Series(range(n_members), dtype=pl.Int64)
    members = pl.DataFrame(
        {
            "campaign_id": ids % N_CAMPAIGNS,
            "member_id": ids,
            "status": pl.repeat("Sent", n_members, eager=True),
            "activity": pl.Series([None] * n_members, dtype=pl.Int8),
            "activity_date": pl.Series([None] * n_members, dtype=pl.Int64),
        }
    )
    member_path = directory / "members.parquet"
    members.write_parquet(member_path)
    return paths, [str(member_path)]


def dask_digest_part(frame: Any) -> Any:
    """One partition's share of the digest, computed where the partition lives."""
    import numpy as np  # noqa: PLC0415 - optional, behind the [dask] extra
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra

    t = frame["activity"].map({label.value: i for i, label in enumerate(TYPES)})
    chosen = t.notna().to_numpy()
    codes = t[chosen].astype("int64").to_numpy()
    minutes = frame["activity_date"][chosen].astype("int64").to_numpy() // 60_000_000
    members = frame["member_id"][chosen].astype("int64").to_numpy()
    row = {name: int(frame[name].sum()) for name in COUNT_NAMES}
    row.update({f"t{i}": int((codes == i).sum()) for i in range(6)})
    row["minute_sum"] = int(minutes.sum())
    row["weighted"] = int((members * (codes + 1)).sum())
    return pd.DataFrame({k: np.array([v], dtype="int64") for k, v in row.items()})


def dask_digest(result: Any) -> Digest:
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra

    columns = [*COUNT_NAMES, *(f"t{i}" for i in range(6)), "minute_sum", "weighted"]
    meta = pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    total = result.map_partitions(dask_digest_part, meta=meta).compute().sum()
    return Digest(
        tuple(int(total[c]) for c in COUNT_NAMES),
        tuple(int(total[f"t{i}"]) for i in range(6)),
        int(total["minute_sum"]),
        int(total["weighted"]),
    )


def section_dask(report: Report, n: int, repeat: int, files: int) -> None:
    """cmsf_core.app.distributed on a 2-worker LocalCluster, checked against one process."""
    if not all(installed(name) for name in ("dask", "distributed", "polars", "pyarrow")):
        report.add("dask", "dask: not installed", "skipped", note="pip install 'cmsf_core[dask]'")
        return
    import polars as pl  # noqa: PLC0415 - optional, behind the [dask] extra
    from distributed import Client, LocalCluster  # noqa: PLC0415 - optional

    from cmsf_core.app import columnar  # noqa: PLC0415 - optional, behind the [polars] extra
    from cmsf_core.app import distributed as cmsf_distributed  # noqa: PLC0415 - optional

    report.section(
        f"Dask: full recompute of {n:,} records partitioned by member "
        f"(LocalCluster, 2 workers x 1 thread, {files} parquet files)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        progress(f"dask: writing {n:,} records as parquet")
        started = time.perf_counter()
        paths, member_paths = dask_workload(n, Path(tmp), files)
        report.add(
            "dask_write",
            f"numpy workload written as parquet ({n:,} records, once)",
            Stat([time.perf_counter() - started]),
        )
        progress("dask: one process (cmsf_core.app.columnar)")
        one: list[Digest] = []
        report.add(
            "dask_one_process",
            "one process: read parquet + columnar.recompute",
            measure(
                lambda _: columnar.recompute(
                    pl.read_parquet(member_paths),
                    pl.read_parquet(paths),
                    settings(),
                    as_of=AS_OF,
                    default_statuses="Sent",
                ),
                1,
                check=lambda out: one.append(columnar_digest(out)),
            ),
            note="polars, both cores",
        )
        truth = one[0]
        progress("dask: starting a 2-worker LocalCluster")
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
            ) as cluster,
            Client(cluster),
        ):

            def run(_: object) -> Digest:
                result = cmsf_distributed.recompute(
                    paths,
                    member_paths,
                    settings(),
                    as_of=AS_OF,
                    default_statuses="Sent",
                    npartitions=files,
                )
                return dask_digest(result)

            def check(found: object) -> None:
                if found != truth:
                    raise AssertionError(f"Dask disagrees with one process: {found} != {truth}")

            progress("dask: distributed.recompute")
            report.add(
                "dask",
                "cmsf_core.app.distributed.recompute on the cluster",
                measure(run, repeat, check=check),
                note="read parquet, shuffle by member, columnar per partition, digest",
            )


def add_targets(report: Report, n: int) -> None:
    f = report.figures

    def ratio(name: str, top: str, bottom: str, goal: float, text: str) -> None:
        if top not in f or bottom not in f:
            report.target(name, "n/a", text, None)
            return
        value = f[top].median / f[bottom].median
        report.target(name, f"{value:.2f}x", text, value <= goal)

    ratio("run_sync(full) / floor", "sync_full", "floor", TARGET_FLOOR_RATIO, "<= 5x")
    ratio("  (the standing goal)", "sync_full", "floor", TARGET_FLOOR_GOAL, "<= 1.5x")
    ratio("pure path / floor", "pure", "floor", TARGET_PURE_RATIO, "<= 2x")
    if "build_trusted_us" in f:
        value = f["build_trusted_us"].median
        report.target(
            "Activity built on a hot path (trusted), per object",
            f"{value:.2f} us",
            f"<= {TARGET_BUILD_US} us",
            value <= TARGET_BUILD_US,
        )
    ratio("columnar path / pandas", "columnar", "pandas", TARGET_PANDAS_RATIO, "<= 1.0x")
    if "polars" in f and "pandas" in f:
        value = f["polars"].median / f["pandas"].median
        report.target("  (polars baseline / pandas, for scale)", f"{value:.2f}x", "", None)
    sizes = incremental_sizes(n)
    if len(sizes) > 1:
        ratio(
            f"incremental {sizes[-1]:,} / {sizes[0]:,}",
            f"incr_{sizes[-1]}",
            f"incr_{sizes[0]}",
            TARGET_INCREMENTAL_RATIO,
            "<= 1.5x",
        )
        ratio(
            "  the same after gc.freeze()",
            f"incr_{sizes[-1]}_frozen",
            f"incr_{sizes[0]}_frozen",
            TARGET_INCREMENTAL_RATIO,
            "<= 1.5x",
        )
        ratio(
            "  back to back, collector as it runs (means)",
            f"incr_{sizes[-1]}_service_mean",
            f"incr_{sizes[0]}_service_mean",
            TARGET_INCREMENTAL_RATIO,
            "<= 1.5x",
        )
    if "bytes_per_record" in f:
        value = f["bytes_per_record"].median
        report.target(
            "bytes per stored record",
            f"{value:.0f} B",
            f"<= {TARGET_BYTES_PER_RECORD} B",
            value <= TARGET_BYTES_PER_RECORD,
        )
    sqlite_targets(report)
    for key, name, goal in (
        ("import", "import cmsf_core", TARGET_IMPORT_MS),
        (
            "import_rules",
            "from cmsf_core import refresh_member, apply_retention",
            TARGET_IMPORT_RULES_MS,
        ),
        ("import_sync", "from cmsf_core.sync import run_sync", TARGET_IMPORT_SYNC_MS),
    ):
        if key in f:
            value = f[key].median
            report.target(name, f"{value:.1f} ms", f"< {goal:.0f} ms", value < goal)


# ----------------------------------------------------------------------------- profile


def profile(n: int, top: int) -> None:
    """cProfile of the pure path and of run_sync(full=True) on n records, and of one
    incremental sync of 1,000 events against n stored records."""
    work = generate(n, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
    grouped = activities_by_member(work)
    prior = prior_state(work, SEED + 2)
    members = {m: prior_member(m, prior) for m in range(work.n_members)}
    gc.collect()
    emit(f"== cProfile: pure path (apply_retention + refresh_member), {n:,} records ==")
    profiled(top, pure_recompute, grouped, members, AS_OF)
    del grouped, members
    platform = full_platform(work)
    crm = empty_crm(work)
    save_prior_members(crm, prior)
    gc.collect()
    emit(f"== cProfile: run_sync(full=True), {n:,} records, in-memory ==")
    profiled(top, full_sync, crm, platform, AS_OF)
    del platform, crm, work
    gc.collect()
    store = build_store(n)
    incremental_sync(store, next_batch(store))
    batch = next_batch(store)
    gc.collect()
    emit(f"== cProfile: incremental run_sync of 1,000 events against {n:,} records ==")
    profiled(top, incremental_sync, store, batch)


def profiled(top: int, run: Callable[..., object], *args: object) -> None:
    profiler = cProfile.Profile()
    with GcWatch() as watch:
        started = time.perf_counter()
        profiler.runcall(run, *args)
        elapsed = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    emit(
        f"wall {elapsed:.2f} s under the profiler; GC {watch.seconds:.2f} s "
        f"({watch.seconds / elapsed:.0%}), collections per generation {watch.collections}"
    )
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    emit("by own time (tottime):")
    profile_rows(rows[:top], total)
    emit("by cumulative time, cmsf_core functions only:")
    ours = [row for row in stats.stats.items() if "cmsf_core" in row[0][0]]  # type: ignore[attr-defined]
    ours.sort(key=lambda item: item[1][3], reverse=True)
    profile_rows(ours[:top], total)
    emit()


def profile_rows(rows: list[Any], total: float) -> None:
    emit(f"{'tottime':>8} {'share':>6} {'cumtime':>8} {'cum %':>6} {'calls':>10}  function")
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in rows:
        where = filename.split("/src/")[-1].split("site-packages/")[-1]
        emit(
            f"{tottime:8.2f} {tottime / total:6.1%} {cumtime:8.2f} {cumtime / total:6.1%} "
            f"{calls:>10,}  {name} ({where}:{line})"
        )


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=None, help="records (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="100,000 records")
    parser.add_argument(
        "--only",
        action="append",
        choices=("full", "columnar", "incremental", "memory", "import", "sqlite"),
        help="run only these sections (repeatable)",
    )
    parser.add_argument(
        "--freeze-full",
        action="store_true",
        help="also time run_sync(full=True) after gc.freeze() (adds a few minutes at 1M)",
    )
    parser.add_argument(
        "--dask",
        action="store_true",
        help="also run cmsf_core.app.distributed on a 2-worker LocalCluster (10,000,000 records)",
    )
    parser.add_argument(
        "--dask-records", type=int, default=10_000_000, help="records of the Dask run"
    )
    parser.add_argument(
        "--dask-files", type=int, default=20, help="parquet files (and member buckets)"
    )
    parser.add_argument(
        "--service-syncs",
        type=int,
        default=SERVICE_SYNCS,
        help="incremental syncs run back to back per store size, collector as it runs (100)",
    )
    parser.add_argument(
        "--huge",
        type=int,
        nargs="?",
        const=10_000_000,
        default=None,
        help="also time cmsf sync --full of this many records on SQLite (10,000,000 if no "
        "number; its peak memory against the 2 GiB target; long)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile summaries only")
    parser.add_argument("--top", type=int, default=25, help="functions per profile (default 25)")
    args = parser.parse_args(argv)
    n = args.records or (100_000 if args.quick else 1_000_000)
    if args.profile:
        profile(n, args.top)
        return 0
    sections = args.only or ["full", "incremental", "memory", "import", "sqlite"]
    report = Report()
    cpus = os.cpu_count()
    report.header.append(
        f"cmsf_core benchmark: {n:,} records, seed {SEED}, {args.repeat} runs per figure "
        f"(median, min, max); Python {platform_module.python_version()} on "
        f"{platform_module.machine()}, {cpus} CPUs"
    )
    started = time.perf_counter()
    if "full" in sections:
        section_full(report, n, args.repeat, freeze=args.freeze_full)
    if "columnar" in sections:
        section_columnar(report, n, args.repeat)
    if args.dask:
        section_dask(report, args.dask_records, args.repeat, args.dask_files)
    if "incremental" in sections:
        section_incremental(report, n, args.repeat, args.service_syncs)
    if "memory" in sections:
        section_memory(report, n)
    if "import" in sections:
        section_import(report)
    if "sqlite" in sections:
        section_sqlite(report, n, args.repeat, huge=args.huge)
    add_targets(report, n)
    report.header.append(f"harness wall time {time.perf_counter() - started:.0f} s")
    emit(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
