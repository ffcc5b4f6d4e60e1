"""Micro benchmark: the pure rules per member, against the plain-tuple floor.

    python bench/rules.py                    # 10,000 members x 10 records, 5 runs
    python bench/rules.py --members 100000   # the full workload's size

The workload is ``bench/run.py``'s full recompute (its generator, settings with a DaysToKeep
of each type's own, every other member with a prior status and Activity Date): the
``Activity`` objects and members are built first, then the pure path (``apply_retention``
then ``refresh_member`` per member, Always, latest wins) is timed and its digest checked
against ``bench/run.py``'s ``floor_recompute``.  Prints the median microseconds per member
of both and their ratio.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness  # bench/run.py, found through the path set above


def _median_s(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Build the workload, time the floor and the pure path, print per-member figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n_records = args.members * harness.RECORDS_PER_MEMBER
    work = harness.generate(
        n_records, span_days=365, end_minute=harness.AS_OF_MINUTE, seed=harness.SEED
    )
    cutoffs = harness.cutoff_minutes(harness.AS_OF_MINUTE)
    previous = harness.prior_state(work, harness.SEED + 2)
    grouped = harness.activities_by_member(work)
    members = {m: harness.prior_member(m, previous) for m in range(work.n_members)}
    truth = harness.digest_of(harness.floor_recompute(work.rows, work.n_members, cutoffs, previous))
    found = harness.digest_of_members(harness.pure_recompute(grouped, members, harness.AS_OF))
    if found != truth:
        raise AssertionError(f"the pure path disagrees with the floor: {found} != {truth}")

    n = work.n_members
    floor = _median_s(lambda: harness.floor_recompute(work.rows, n, cutoffs, previous), args.repeat)
    pure = _median_s(lambda: harness.pure_recompute(grouped, members, harness.AS_OF), args.repeat)
    lines = [
        f"{n:,} members x {harness.RECORDS_PER_MEMBER} records, median of {args.repeat} runs",
        f"  floor (plain tuples of ints)  {floor / n * 1e6:8.2f} us per member",
        f"  pure path                     {pure / n * 1e6:8.2f} us per member",
        f"  ratio                         {pure / floor:8.1f}x",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
