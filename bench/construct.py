"""Micro benchmark: the cost of building an :class:`Activity` and of reading its key.

    python bench/construct.py            # 1,000,000 objects, 5 runs per figure
    python bench/construct.py --quick    # 100,000 objects

Prints the median microseconds per object of the validated constructor ``Activity(...)``,
the internal trusted constructor ``Activity._trusted(...)`` (values already checked), and
of ``key`` access (first access, which computes and keeps it, then a repeat access).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cmsf_core.domain.activity import Activity, ActivityType

_TYPES = tuple(ActivityType)
_START = datetime(2024, 1, 1, tzinfo=UTC)


def _values(n: int) -> list[tuple[str, str, ActivityType, datetime, str, str, str | None]]:
    return [
        (
            f"cmp-{i % 20}",
            f"m{i // 10}@example.com",
            _TYPES[i % len(_TYPES)],
            _START + timedelta(seconds=i * 7),
            "client-1",
            f"m{i // 10}@example.com",
            "list-1" if i % 3 else None,
        )
        for i in range(n)
    ]


def _median_us(run: Callable[[], object], n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / n * 1e6


def main() -> None:
    """Measure and print the three figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 objects")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    values = _values(n)

    def validated() -> list[Activity]:
        return [
            Activity(c, m, t, at, client_id=cl, email=e, list_id=li)
            for c, m, t, at, cl, e, li in values
        ]

    def trusted() -> list[Activity]:
        build = Activity._trusted
        return [build(c, m, t, at, cl, e, li) for c, m, t, at, cl, e, li in values]

    built: list[list[Activity]] = []

    def first_key() -> None:
        for a in built[-1]:
            a.key  # noqa: B018

    def kept_key() -> None:
        for a in built[-1]:
            a.key  # noqa: B018

    rows = [
        ("Activity(...) validated", _median_us(validated, n, args.repeat)),
        ("Activity._trusted(...)", _median_us(trusted, n, args.repeat)),
    ]
    first = []
    for _ in range(args.repeat):
        built[:] = [trusted()]
        first.append(_median_us(first_key, n, 1))
    rows.append(("key, first access", statistics.median(first)))
    rows.append(("key, kept (repeat access)", _median_us(kept_key, n, args.repeat)))
    lines = [f"{n:,} objects, median of {args.repeat} runs, us per object"]
    lines += [f"  {name:<28} {us:8.3f}" for name, us in rows]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
