"""``python -m cmsf_core``: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cmsf_core",
        description=(
            "Campaign Monitor for Salesforce sync semantics. "
            "'demo' syncs a generated platform history day by day under the three "
            "Campaign_Member_Refresh modes and reports statuses, rollups, purges and "
            "what diagnose flags."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the self-contained demonstration")
    demo.add_argument("--days", type=int, default=20, help="days of daily syncs (default 20)")
    demo.add_argument("--days-to-keep", type=int, default=7, help="DaysToKeep_Email (default 7)")
    demo.add_argument(
        "--recipients", type=int, default=2000, help="recipients per campaign (default 2000)"
    )
    args = parser.parse_args(argv)

    from cmsf_core.demo import format_results, run_demo  # noqa: PLC0415 - keep --help fast

    print(
        f"Syncing 3 weekly campaigns to {args.recipients:,} recipients (half of them contacts "
        f"in the CRM), once a day for {args.days} days, DaysToKeep_Email = "
        f"{args.days_to_keep}, under four variants of the settings.\n"
    )
    results = run_demo(days=args.days, days_to_keep=args.days_to_keep, recipients=args.recipients)
    print(format_results(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
