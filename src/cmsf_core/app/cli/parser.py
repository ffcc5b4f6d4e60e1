"""The ``cmsf`` argument parser: every command and option (``docs/cli.md`` is held to it)."""

from __future__ import annotations

import argparse

from cmsf_core.app.cli.demo import cmd_demo
from cmsf_core.app.cli.diagnose import add_engine_option, cmd_check, cmd_diagnose
from cmsf_core.app.cli.exits import _Parser
from cmsf_core.app.cli.options import (
    _CAMPAIGNS,
    _DAYS,
    _DAYS_TO_KEEP,
    _LIMIT,
    _RECIPIENTS,
    _int_option,
)
from cmsf_core.app.cli.run import cmd_run
from cmsf_core.app.cli.simulate import cmd_simulate
from cmsf_core.app.cli.sync import cmd_sync

_AS_OF_HELP = (
    "{what}: a date (2024-04-09 = midnight UTC) or an ISO 8601 date-time with an offset "
    "(2024-04-09T12:00:00+02:00, or Z for UTC); default now"
)


def _add_history_options(
    parser: argparse.ArgumentParser, *, days: int, recipients: int, campaigns: int
) -> None:
    """The generated history's size (``demo`` and ``simulate``), with these defaults."""
    parser.add_argument(
        "--days", type=_DAYS, default=days, help=f"days of daily syncs, 1-3650 ({days})"
    )
    parser.add_argument(
        "--recipients",
        type=_RECIPIENTS,
        default=recipients,
        help=f"per campaign, 1-100000 ({recipients})",
    )
    parser.add_argument(
        "--campaigns",
        type=_CAMPAIGNS,
        default=campaigns,
        help=f"weekly campaigns, 1-520 ({campaigns})",
    )


def _add_time_zone_option(parser: argparse.ArgumentParser) -> None:
    """``--time-zone CLIENT_ID=Area/City`` (``sync`` and ``run``)."""
    parser.add_argument(
        "--time-zone",
        action="append",
        metavar="CLIENT_ID=Area/City",
        help="the IANA time zone of a client whose platform zone maps to none (repeatable)",
    )


def _add_run_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    """The ``cmsf run`` subcommand's options."""
    run = commands.add_parser(
        "run",
        help="run the sync on its schedule (Import_Frequency) until stopped",
        description="Run the primary sync of a folder of exported platform data into the "
        "store on the import schedule, with the daily full sync when "
        "Perform_Full_Daily_Sync is on, until SIGTERM (exit 0) or Ctrl-C (exit 130); the "
        "current sync finishes first. --turn-off / --turn-on set the store's sync switch.",
    )
    run.add_argument("--store", required=True, help="SQLite file (created if missing)")
    run.add_argument("--platform", help="folder of exported platform data")
    run.add_argument("--settings", help="a TOML or JSON settings file")
    run.add_argument(
        "--org-time-zone",
        default="UTC",
        metavar="Area/City",
        help="the org's IANA time zone: the schedule's hours and days (default UTC)",
    )
    _add_time_zone_option(run)
    run.add_argument("--max-runs", type=_int_option(1, 1_000_000), help="stop after this many runs")
    switch = run.add_mutually_exclusive_group()
    switch.add_argument("--turn-off", action="store_true", help="turn the store's sync off")
    switch.add_argument("--turn-on", action="store_true", help="turn the store's sync on")
    run.add_argument("--fake-clock", help=argparse.SUPPRESS)  # tests only: docs/cli.md
    run.add_argument("--fake-until", help=argparse.SUPPRESS)
    run.set_defaults(run=cmd_run)


def build_parser() -> argparse.ArgumentParser:
    """The ``cmsf`` argument parser."""
    parser = _Parser(
        prog="cmsf",
        description=(
            "Campaign Monitor for Salesforce sync semantics on an embedded SQLite store. "
            "Email tracking records become activity records, roll up onto campaign "
            "members, set their Status by the Always / Once Only / Never rules and are "
            "purged after DaysToKeep_Email days."
        ),
        epilog=(
            "Exit codes: 0 done; 1 done with refused writes or skipped clients or rows (sync) or "
            "flagged members (diagnose) or problems (check); 2 bad usage or input, nothing "
            "changed; 3 internal error; 130 interrupted; 141 output closed early; run stops "
            "with 0 on SIGTERM. Every error is one line on stderr. "
            "Settings files (TOML or JSON) use the product's setting names, e.g. "
            'Campaign_Member_Refresh = "Update Once" and DaysToKeep_Email = 7.'
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="generate a sample platform, sync it day by day into ./cmsf.db, and report",
        description="Generate a realistic sample platform history and sync it day by day "
        "into a SQLite store, then report imports, statuses, rollups, purges and what "
        "diagnose flags. Defaults reproduce the FAQ: Update Once with 7 days kept.",
    )
    demo.add_argument("--store", default="cmsf.db", help="SQLite file (default ./cmsf.db)")
    demo.add_argument("--refresh", default="Update Once", help="Campaign_Member_Refresh")
    demo.add_argument(
        "--days-to-keep", type=_DAYS_TO_KEEP, default=7, help="DaysToKeep_Email, 0-36500 (7)"
    )
    _add_history_options(demo, days=20, recipients=2000, campaigns=3)
    demo.add_argument("--settings", help="a TOML or JSON settings file")
    demo.add_argument("--limit", type=_LIMIT, default=10, help="flagged members shown (0: all; 10)")
    demo.set_defaults(run=cmd_demo)

    sync = commands.add_parser(
        "sync",
        help="sync a folder of exported Campaign Monitor data into a store",
        description="Read Campaign Monitor data as its API returns it from a folder (see "
        "docs/file-platform.md) and sync it into the SQLite store.",
    )
    sync.add_argument("--store", required=True, help="SQLite file (created if missing)")
    sync.add_argument("--platform", required=True, help="folder of exported platform data")
    sync.add_argument("--full", action="store_true", help="a full sync instead of incremental")
    sync.add_argument("--dry-run", action="store_true", help="plan and report; write nothing")
    sync.add_argument("--settings", help="a TOML or JSON settings file")
    sync.add_argument("--as-of", help=_AS_OF_HELP.format(what="the sync's instant"))
    _add_time_zone_option(sync)
    sync.set_defaults(run=cmd_sync)

    simulate = commands.add_parser(
        "simulate",
        help="what-if: one history under several settings, side by side",
        description="Sync the same generated history under each pair of --refresh and "
        "--days-to-keep (given in order), and compare unsupported statuses, storage and "
        "purges.",
    )
    simulate.add_argument(
        "--refresh",
        action="append",
        help="Campaign_Member_Refresh (repeat: one variant each; as many times as "
        "--days-to-keep, or leave one of the two out)",
    )
    simulate.add_argument(
        "--days-to-keep",
        action="append",
        type=_DAYS_TO_KEEP,
        help="DaysToKeep_Email, 0-36500 (repeat, paired in order with --refresh)",
    )
    _add_history_options(simulate, days=30, recipients=1000, campaigns=4)
    simulate.add_argument("--settings", help="a TOML or JSON settings file for the rest")
    simulate.add_argument(
        "--plot", help="write a PNG of status vs. rollups over time (the folder must exist)"
    )
    add_engine_option(simulate)
    simulate.set_defaults(run=cmd_simulate)

    diagnose = commands.add_parser(
        "diagnose",
        help="list members whose status and rollups disagree, with remedies",
    )
    diagnose.add_argument("--store", required=True, help="SQLite file")
    diagnose.add_argument(
        "--settings", help="a TOML or JSON settings file (default: the store's last run's)"
    )
    diagnose.add_argument(
        "--as-of",
        help=_AS_OF_HELP.format(what="the instant for the retention check").replace(
            "default now", "default: the store's last run, or now"
        ),
    )
    diagnose.add_argument("--limit", type=_LIMIT, default=50, help="members shown (0: all; 50)")
    add_engine_option(diagnose)
    diagnose.set_defaults(run=cmd_diagnose)

    check = commands.add_parser(
        "check",
        help="scan a store and list every row it cannot read (exit 0 clean, 1 problems)",
        description="Scan the whole store: unreadable rows (table, row, column), members "
        "whose status or rollups disagree with their campaign and records. Exit 0 when "
        "consistent, 1 when problems are listed, 2 when the file is not a cmsf store.",
    )
    check.add_argument("--store", required=True, help="SQLite file")
    check.set_defaults(run=cmd_check)

    _add_run_parser(commands)
    return parser
