"""How fast the file platform reads a Campaign Monitor export, and how much memory it holds.

    python bench/files_read.py                  # 100,000 records
    python bench/files_read.py --n 1000000      # 1,000,000 records
    python bench/files_read.py --profile        # and the 25 costliest functions
    python bench/files_read.py --reference      # every row read by the checking reader

The export is the one ``bench/run.py`` writes for ``cmsf sync --full`` (one UTC client,
20 campaigns, page files of 100,000 rows), kept in ``--folder`` (default: a folder under
the system's temporary folder named after ``--n``) so that it is written once.  The read
runs in a fresh interpreter: every tracking page of every stream of every campaign, as
the sync reads them (``cmsf_core.shell.reads``: pages of 1,000 until the last), campaign
after campaign.  It prints the records read per second and the peak RSS of that
interpreter (which holds, at any time, the campaign being read; the pages are counted
and dropped, as a streaming sync would).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def emit(text: str) -> None:
    """One line of the report."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def write(n: int, folder: Path) -> None:
    """The export of ``n`` records (bench/run.py's workload and writer), once."""
    from run import AS_OF_MINUTE, SEED, generate, write_export  # noqa: PLC0415 - bench only

    marker = folder / ".complete"
    if marker.exists():
        return
    work = generate(n, span_days=365, end_minute=AS_OF_MINUTE, seed=SEED)
    write_export(work, folder)
    marker.write_text("ok", encoding="utf-8")


def read(folder: Path, reference: bool = False) -> tuple[int, int, float, float]:
    """Every page of the export, as the sync reads it: (records, skipped rows, seconds,
    CPU seconds: the machine may be shared)."""
    from cmsf_core.adapters.files import FilePlatform  # noqa: PLC0415
    from cmsf_core.domain.activity import ActivityType  # noqa: PLC0415
    from cmsf_core.shell.reads import PAGE_SIZE  # noqa: PLC0415

    start = time.perf_counter()  # the modules are loaded: the read only is timed
    cpu = time.process_time()
    platform = FilePlatform(folder)
    platform._fast_rows = not reference  # the checking reader on every row
    records = skipped = 0
    for client in platform.clients():
        for campaign in platform.sent_campaigns(client.client_id):
            for stream in ActivityType:
                page = 1
                while True:
                    result = platform.tracking_page(
                        campaign.campaign_id, stream, since=None, page=page, page_size=PAGE_SIZE
                    )
                    records += len(result.results)
                    skipped += len(result.skipped)
                    if page >= result.number_of_pages:
                        break
                    page += 1
    return records, skipped, time.perf_counter() - start, time.process_time() - cpu


def child(folder: Path, profile: bool, reference: bool) -> None:
    """Run in the fresh interpreter: read, print one JSON line."""
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    records, skipped, seconds, cpu = read(folder, reference)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = {"records": records, "skipped": skipped, "s": seconds, "cpu": cpu, "rss_kib": peak_kib}
    emit(json.dumps(found))


def main() -> None:
    """Write the export if needed, read it in a fresh interpreter, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--reference", action="store_true", help="every row through the checking reader"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.profile, args.reference)
        return
    folder = args.folder or Path(tempfile.gettempdir()) / f"cmsf-files-read-{args.n}"
    started = time.perf_counter()
    write(args.n, folder)
    emit(f"export of {args.n:,} records in {folder} ({time.perf_counter() - started:.0f} s)")
    command = [sys.executable, __file__, "--child", str(folder)]
    command += ["--profile"] * args.profile + ["--reference"] * args.reference
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    if out.stderr:
        sys.stderr.write(out.stderr)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    rate = found["records"] / found["s"]
    emit(
        f"read {found['records']:,} records ({found['skipped']} skipped) in {found['s']:.2f} s "
        f"({found['cpu']:.2f} s of CPU): {rate:,.0f} records/s "
        f"({found['records'] / found['cpu']:,.0f} per CPU second); "
        f"peak RSS {found['rss_kib'] / 1024:,.0f} MiB; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
