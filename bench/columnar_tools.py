"""``diagnose`` and ``simulate`` through both engines on large stores: the pure rules member
by member, and the columnar path over polars frames.

    python bench/columnar_tools.py                      # 100,000 then 1,000,000 records
    python bench/columnar_tools.py --records 100000     # one size only
    python bench/columnar_tools.py --simulate-run 2000  # + a whole simulate() of that many
                                                        #   recipients per campaign, both engines
    python bench/columnar_tools.py --recompute 100000   # only columnar.recompute, CPU time

``--recompute N`` times ``cmsf_core.app.columnar.recompute`` on the frames of
``bench/run.py --only columnar`` (N records), 30 runs, in CPU seconds of the process
(all its threads): on a shared machine that moves less than the wall clock.  Set
``POLARS_MAX_THREADS=1`` to compare with pandas, which computes on one thread.

For each size, a SQLite store is built once with the store's public API (the workload of
``bench/run.py``: N records over N/10 members of 20 campaigns, the members as earlier syncs
left them; then the Clicked records of every 20th member deleted, so that diagnose has
members to explain) and kept in the temporary folder for the next run (``--rebuild``
builds it again).  Then, each engine in turn (``--repeat`` times, median):

- ``cmsf diagnose --store FILE --engine E`` in this process (open, read, find, print);
  the printed reports must be identical;
- one day's figures of ``simulate`` (``cmsf_core.app.simulate._figures``) on an in-memory
  store holding the same records; the figures must be identical.

The load average is printed first: the machine may be shared.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # the workload of bench/run.py

ENGINES = ("rules", "columnar")


def say(line: str) -> None:
    """One line of the report on stdout, at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """The median seconds of ``repeat`` runs, every run's seconds and the last result."""
    seconds = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), seconds, result


def damaged(crm: Any) -> int:
    """Delete the Clicked records of every 20th member (public API); how many."""
    from cmsf_core import ActivityType  # noqa: PLC0415

    members = sorted(crm.all_members(), key=lambda m: (m.crm_campaign_id, m.email))[::20]
    stored = crm.records_for([m.ref for m in members])
    keys = [a.key for found in stored.values() for a in found if a.type is ActivityType.CLICKED]
    crm.delete_records(keys)
    return len(keys)


def sqlite_store(n: int, rebuild: bool) -> Path:
    """The store of ``n`` records, built once with the store's public API."""
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415

    path = Path(tempfile.gettempdir()) / f"cmsf-columnar-tools-{n}.db"
    if path.exists() and not rebuild:
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    crm = SqliteCrm(str(path))
    bench.build_store(n, crm)
    deleted = damaged(crm)
    crm.remember_run(bench.settings(), bench.AS_OF)
    crm.close()
    say(f"  built {path} in {time.perf_counter() - started:.0f} s ({deleted:,} records deleted)")
    return path


def diagnose_both(path: Path, repeat: int) -> None:
    """``cmsf diagnose`` through each engine: seconds and the same report."""
    from cmsf_core.app.cli import main  # noqa: PLC0415

    reports = {}
    for engine in ENGINES:

        def run(engine: str = engine) -> tuple[int, str]:
            out = io.StringIO()
            status = main(["diagnose", "--store", str(path), "--engine", engine], out)
            return status, out.getvalue()

        median, runs, report = timed(run, repeat)
        reports[engine] = report
        first = report[1].splitlines()[0]
        say(
            f"  diagnose, {engine:<8} {median:>8.2f} s  (runs: "
            f"{', '.join(f'{s:.2f}' for s in runs)}; {first})"
        )
    if reports["rules"] != reports["columnar"]:
        raise SystemExit("diagnose: the engines disagree")


def figures_both(n: int, repeat: int) -> None:
    """One day's figures of ``simulate`` through each engine, on an in-memory store."""
    from cmsf_core.app.simulate import _figures  # noqa: PLC0415

    store = bench.build_store(n)
    damaged(store.crm)
    config = bench.settings()
    figures = {}
    for engine in ENGINES:
        median, runs, figures[engine] = timed(
            lambda engine=engine: _figures(store.crm, config, 1, engine), repeat
        )
        say(
            f"  simulate, one day's figures, {engine:<8} {median:>8.2f} s  (runs: "
            f"{', '.join(f'{s:.2f}' for s in runs)}; "
            f"{figures[engine].unsupported:,} unsupported statuses)"
        )
    if figures["rules"] != figures["columnar"]:
        raise SystemExit("simulate: the engines disagree")


def simulate_both(recipients: int) -> None:
    """A whole ``simulate`` (the FAQ pair of variants, 30 days, 4 campaigns) per engine."""
    from cmsf_core import RefreshMode, Settings  # noqa: PLC0415
    from cmsf_core.app.simulate import Variant, simulate  # noqa: PLC0415

    variants = [
        Variant("once", Settings(refresh_mode=RefreshMode.ONCE_ONLY, days_to_keep=7)),
        Variant("always", Settings(days_to_keep=180)),
    ]
    results = {}
    for engine in ENGINES:
        started = time.perf_counter()
        results[engine] = simulate(variants, recipients=recipients, engine=engine)
        elapsed = time.perf_counter() - started
        stored = max(r.final.records for r in results[engine])
        say(f"  simulate, whole run, {engine:<8} {elapsed:>8.1f} s  ({stored:,} records at most)")
    if results["rules"] != results["columnar"]:
        raise SystemExit("simulate: the engines disagree")


def recompute_cpu(n: int) -> None:
    """CPU time of ``columnar.recompute`` on the workload of ``bench/run.py``."""
    work = bench.generate(n, span_days=365, end_minute=bench.AS_OF_MINUTE, seed=bench.SEED)
    previous = bench.prior_state(work, bench.SEED + 2)
    cutoffs = bench.cutoff_minutes(bench.AS_OF_MINUTE)
    frames = bench.columnar_build(work.rows, work.n_members, previous)
    seconds = []
    for _ in range(30):
        started = time.process_time()
        bench.columnar_compute(frames, work.n_members, cutoffs, previous)
        seconds.append(time.process_time() - started)
    seconds.sort()
    say(
        f"columnar.recompute, {n:,} records: CPU {statistics.median(seconds) * 1000:.1f} ms "
        f"median, {seconds[0] * 1000:.1f} ms min (30 runs)"
    )


def main() -> None:
    """Parse the options and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--simulate-run", type=int, metavar="RECIPIENTS")
    parser.add_argument("--recompute", type=int, metavar="RECORDS")
    args = parser.parse_args()
    with open("/proc/loadavg") as file:
        say(f"load average at start: {' '.join(file.read().split()[:3])}")
    if args.recompute:
        recompute_cpu(args.recompute)
        return
    for n in args.records or (100_000, 1_000_000):
        say(f"{n:,} records")
        diagnose_both(sqlite_store(n, args.rebuild), args.repeat)
        figures_both(n, args.repeat)
    if args.simulate_run:
        simulate_both(args.simulate_run)
    with open("/proc/loadavg") as file:
        say(f"load average at the end: {' '.join(file.read().split()[:3])}")


if __name__ == "__main__":
    main()
