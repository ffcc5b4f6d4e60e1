"""The ``cmsf`` command: demo, sync, simulate and diagnose on the embedded SQLite store.

Exit codes (stable, for scripts):

- 0: done; for ``sync`` every write went through; for ``diagnose`` nothing was flagged;
- 1: done, with something to look at: ``sync`` had refused writes (see the maintenance
  messages), ``diagnose`` flagged members, ``check`` found problems in the store;
- 2: bad usage or input: an unknown option, a bad settings file, a missing folder or
  store, unreadable platform data.  Nothing was changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cmsf_core.domain.errors import CmsfError

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm
    from cmsf_core.domain.diagnose import Finding
    from cmsf_core.domain.records import MemberRecord
    from cmsf_core.domain.settings import Settings
    from cmsf_core.ports.platform import EmailPlatform

__all__ = ["main"]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_BAD_INPUT = 2

_DEMO_MARK = "created by cmsf demo"


class UsageError(CmsfError, ValueError):
    """Bad command-line input: the message says what to fix."""


# ----------------------------------------------------------------------------- helpers


def load_settings(path: str | None, overrides: dict[str, object] | None = None) -> Settings:
    """Settings from a TOML or JSON file of product setting names, plus overrides."""
    from cmsf_core.domain.settings import Settings  # noqa: PLC0415 - keep --help fast

    values: dict[str, object] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"settings file {path!r} does not exist")
        text = file.read_text(encoding="utf-8")
        try:
            loaded = tomllib.loads(text) if file.suffix != ".json" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
            raise UsageError(f"settings file {path!r} is not valid: {error}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"settings file {path!r} must hold a table of setting names")
        values.update(loaded)
    values.update(overrides or {})
    try:
        return Settings.from_mapping(values)
    except CmsfError as error:
        where = f" in {path!r}" if path else ""
        raise UsageError(f"bad setting{where}: {error}") from None


def _progress(stream: TextIO) -> Callable[[str, int, int | None], None] | None:
    """A one-line progress bar on a terminal; nothing when output is not a terminal."""
    if not stream.isatty():
        return None

    def show(stage: str, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            stream.write(f"\r{stage[:28]:<28} [{bar}] {done:>7,}/{total:,}")
        else:
            stream.write(f"\r{stage[:28]:<28} {done:,}")
        stream.flush()
        if total and done >= total:
            stream.write("\r" + " " * 80 + "\r")

    return show


def _open_store(path: str, *, create: bool) -> SqliteCrm:
    """Open a store; ``create``: a missing one is made on its first write only (so that a
    dry run or a refused sync leaves no file).  Anything that is not a cmsf store is
    refused untouched.  ``CMSF_LOCK_WAIT`` (seconds) bounds the wait for another sync."""
    from cmsf_core.adapters.sqlite import DEFAULT_WAIT, SqliteCrm  # noqa: PLC0415 - fast --help

    if not create and not Path(path).exists():
        raise UsageError(f"store {path!r} does not exist (run 'cmsf sync' or 'cmsf demo' first)")
    text = os.environ.get("CMSF_LOCK_WAIT", "")
    try:
        wait = float(text) if text else DEFAULT_WAIT
    except ValueError:
        raise UsageError(f"CMSF_LOCK_WAIT must be a number of seconds (got {text!r})") from None
    if not 0 <= wait < float("inf"):
        raise UsageError(f"CMSF_LOCK_WAIT must be a number of seconds >= 0 (got {text!r})")
    return SqliteCrm(path, create=create, lazy=create, wait=wait)


Flagged = list[tuple["MemberRecord", tuple["Finding", ...]]]


def _findings(crm: SqliteCrm, settings: Settings, as_of: datetime) -> Flagged:
    from cmsf_core.domain.diagnose import diagnose  # noqa: PLC0415

    campaigns = crm.campaigns()
    flagged: Flagged = []
    for record in sorted(crm.all_members(), key=lambda m: (m.crm_campaign_id, m.email)):
        stored = crm.records_for([record.ref]).get(record.ref, ())
        campaign = campaigns.get(record.crm_campaign_id)
        default = campaign.default_status if campaign is not None else None
        found = diagnose(record.member, stored, settings, as_of=as_of, default_status=default)
        if found:
            flagged.append((record, found))
    return flagged


def _print_findings(flagged: Flagged, limit: int, out: TextIO) -> None:
    """A summary by finding and status, the remedies once, then the members."""
    by_code: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    remedies: dict[str, None] = {}
    for record, found in flagged:
        for finding in found:
            by_code[finding.code.value] += 1
            remedies.update(dict.fromkeys(finding.remedies))
        by_status[record.member.status or "(none)"] += 1
    for code, n in by_code.most_common():
        out.write(f"  {code:<26} {n:>7,}\n")
    if by_status:
        out.write("  by status: " + ", ".join(f"{s} {n:,}" for s, n in by_status.most_common()))
        out.write("\n")
    if remedies:
        out.write("Remedies:\n" + "".join(f"  - {r}\n" for r in remedies))
    shown = flagged if limit <= 0 else flagged[:limit]
    if shown:
        out.write("Flagged members:\n")
    for record, found in shown:
        for finding in found:
            out.write(f"  [{finding.code.value}] {record.crm_campaign_id}: {finding.message}\n")
    if len(shown) < len(flagged):
        out.write(f"  ... and {len(flagged) - len(shown):,} more (--limit 0 shows all)\n")


# ----------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Generate a platform history, sync it day by day into the store, report."""
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415
    from cmsf_core.demo import START, build_platform, seed_crm  # noqa: PLC0415
    from cmsf_core.sync import run_sync  # noqa: PLC0415

    settings = load_settings(
        args.settings,
        {"Campaign_Member_Refresh": args.refresh, "DaysToKeep_Email": args.days_to_keep},
    )
    path = Path(args.store)
    if path.exists():
        with SqliteCrm(path) as old:
            if old.get_meta("origin") != _DEMO_MARK:
                raise UsageError(
                    f"{path} exists and was not made by 'cmsf demo'; choose another --store"
                )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    platform = build_platform(recipients=args.recipients, campaigns=args.campaigns)
    out.write(
        f"Demo: {args.campaigns} weekly campaigns to {args.recipients:,} recipients (half of "
        f"them contacts in the CRM), synced once a day for {args.days} days into {path}\n"
        f"Settings: Campaign_Member_Refresh = {settings.refresh_mode.value}, "
        f"DaysToKeep_Email = {settings.days_to_keep}\n\n"
    )
    imported = purged = 0
    with SqliteCrm(path, origin=_DEMO_MARK) as crm:
        seed_crm(crm, platform, args.recipients)
        progress = _progress(sys.stderr)
        for day in range(1, args.days + 1):
            report = run_sync(crm, platform, settings, as_of=START + timedelta(days=day))
            imported += len(report.plan.records_to_insert)
            purged += report.plan.purged
            if progress:
                progress("syncing day by day", day, args.days)
        as_of = START + timedelta(days=args.days)
        crm.remember_run(settings, as_of)
        _report_store(crm, as_of, out, imported=imported, purged=purged)
        flagged = _findings(crm, settings, as_of)
        out.write(f"\nMembers that diagnose flags: {len(flagged):,}\n")
        _print_findings(flagged, args.limit, out)
    out.write(
        f"\nThe store is in {path}: try 'cmsf diagnose --store {path}' or "
        "'cmsf simulate --refresh Always --days-to-keep 180'.\n"
    )
    return EXIT_OK


def _report_store(
    crm: SqliteCrm,
    as_of: datetime,
    out: TextIO,
    *,
    imported: int,
    purged: int,
) -> None:
    members = crm.all_members()
    statuses = Counter(m.member.status or "(none)" for m in members)
    totals = Counter[str]()
    for m in members:
        e = m.member.engagement
        totals.update(
            sent=e.sent,
            opens=e.opens,
            clicks=e.clicks,
            bounces=e.bounces,
            unsubscribes=e.unsubscribes,
            spam_complaints=e.spam_complaints,
        )
    out.write(f"Imported {imported:,} tracking records; purged {purged:,} by retention; ")
    out.write(f"{crm.record_count():,} stored at {as_of:%Y-%m-%d %H:%M} UTC.\n")
    matched = sum(1 for m in members if m.person_id is not None)
    out.write(f"Campaign members: {len(members):,} ({matched:,} matched to contacts/leads)\n")
    out.write("Statuses: " + ", ".join(f"{s} {n:,}" for s, n in statuses.most_common()) + "\n")
    out.write("Rollups:  " + ", ".join(f"{k} {v:,}" for k, v in totals.items()) + "\n")


# ----------------------------------------------------------------------------- sync


def cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    """Sync a folder of exported platform data into the store."""
    from cmsf_core.sync import run_sync  # noqa: PLC0415

    settings = load_settings(args.settings)
    folder = Path(args.platform)
    if not folder.is_dir():
        raise UsageError(f"platform folder {args.platform!r} does not exist")
    try:
        from cmsf_core.adapters.files import FilePlatform  # noqa: PLC0415
    except ImportError as error:  # pragma: no cover - the adapter ships with the package
        raise UsageError(f"the file platform adapter is unavailable: {error}") from None
    platform: EmailPlatform = FilePlatform(folder)
    as_of = _parse_as_of(args.as_of)
    with _open_store(args.store, create=True) as crm:
        report = run_sync(
            crm,
            platform,
            settings,
            as_of=as_of,
            full=args.full,
            dry_run=args.dry_run,
            progress=_progress(sys.stderr),
        )
        if report.applied:
            crm.remember_run(settings, as_of)
        out.write(report.summary() + "\n")
    return EXIT_OK if report.ok else EXIT_ATTENTION


def _parse_as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise UsageError(f"--as-of {text!r} needs a UTC offset, e.g. {text}+00:00")
    return parsed


# ----------------------------------------------------------------------------- diagnose


def cmd_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    """List members whose status and rollups disagree, with explanations and remedies."""
    with _open_store(args.store, create=False) as crm:
        settings, as_of, source = _diagnose_inputs(crm, args)
        flagged = _findings(crm, settings, as_of)
        total = len(crm.all_members())
    out.write(f"{len(flagged):,} of {total:,} campaign members flagged.\n")
    out.write(source)
    _print_findings(flagged, args.limit, out)
    return EXIT_ATTENTION if flagged else EXIT_OK


def _diagnose_inputs(crm: SqliteCrm, args: argparse.Namespace) -> tuple[Settings, datetime, str]:
    """The settings and as-of to diagnose with: those given, else those of the store's
    last sync or demo run, else the defaults and now; and a line saying which."""
    last = crm.last_run()
    if args.settings is not None or last is None:
        settings, settings_from = load_settings(args.settings), args.settings or "defaults"
    else:
        settings, settings_from = last[0], "the store's last run"
    if args.as_of is not None or last is None:
        as_of, as_of_from = _parse_as_of(args.as_of), "--as-of" if args.as_of else "now"
    else:
        as_of, as_of_from = last[1], "the store's last run"
    source = (
        f"  settings: {settings_from} (Campaign_Member_Refresh = {settings.refresh_mode.value}, "
        f"DaysToKeep_Email = {settings.days_to_keep}); "
        f"as of {as_of:%Y-%m-%d %H:%M} UTC ({as_of_from}).\n"
    )
    return settings, as_of, source


# ----------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """Scan a whole store and list every row it cannot read or that disagrees."""
    with _open_store(args.store, create=False) as crm:
        problems = crm.problems()
    if not problems:
        out.write(f"{args.store}: consistent, no problems found.\n")
        return EXIT_OK
    out.write(f"{args.store}: {len(problems):,} problems found.\n")
    out.writelines(f"  {problem}\n" for problem in problems)
    return EXIT_ATTENTION


# ----------------------------------------------------------------------------- simulate


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """The same platform history under several settings, side by side."""
    from cmsf_core.simulate import Variant, format_comparison, simulate  # noqa: PLC0415

    refreshes = args.refresh or ["Update Once", "Always"]
    days = args.days_to_keep or [7, 180]
    if len(days) == 1:
        days = days * len(refreshes)
    if len(refreshes) == 1:
        refreshes = refreshes * len(days)
    if len(refreshes) != len(days):
        raise UsageError("give --refresh and --days-to-keep the same number of times")
    variants = [
        Variant(
            f"{r} / {d} days",
            load_settings(args.settings, {"Campaign_Member_Refresh": r, "DaysToKeep_Email": d}),
        )
        for r, d in zip(refreshes, days, strict=True)
    ]
    results = simulate(
        variants, days=args.days, recipients=args.recipients, campaigns=args.campaigns
    )
    out.write(format_comparison(results) + "\n")
    if args.plot:
        from cmsf_core.simulate import plot  # noqa: PLC0415

        plot(results, args.plot)
        out.write(f"plot written to {args.plot}\n")
    return EXIT_OK


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The ``cmsf`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="cmsf",
        description=(
            "Campaign Monitor for Salesforce sync semantics on an embedded SQLite store. "
            "Email tracking records become activity records, roll up onto campaign "
            "members, set their Status by the Always / Once Only / Never rules and are "
            "purged after DaysToKeep_Email days."
        ),
        epilog=(
            "Exit codes: 0 done; 1 done with refused writes (sync) or flagged members "
            "(diagnose); 2 bad usage or input, nothing changed. "
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
    demo.add_argument("--days-to-keep", type=int, default=7, help="DaysToKeep_Email")
    demo.add_argument("--days", type=int, default=20, help="days of daily syncs (20)")
    demo.add_argument("--recipients", type=int, default=2000, help="per campaign (2000)")
    demo.add_argument("--campaigns", type=int, default=3, help="weekly campaigns (3)")
    demo.add_argument("--settings", help="a TOML or JSON settings file")
    demo.add_argument("--limit", type=int, default=10, help="flagged members shown (0: all)")
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
    sync.add_argument("--as-of", help="the sync's instant, ISO 8601 with offset (default now)")
    sync.set_defaults(run=cmd_sync)

    simulate = commands.add_parser(
        "simulate",
        help="what-if: one history under several settings, side by side",
        description="Sync the same generated history under each pair of --refresh and "
        "--days-to-keep (given in order), and compare unsupported statuses, storage and "
        "purges.",
    )
    simulate.add_argument("--refresh", action="append", help="Campaign_Member_Refresh (repeat)")
    simulate.add_argument(
        "--days-to-keep", action="append", type=int, help="DaysToKeep_Email (repeat)"
    )
    simulate.add_argument("--days", type=int, default=30, help="days of daily syncs (30)")
    simulate.add_argument("--recipients", type=int, default=1000, help="per campaign (1000)")
    simulate.add_argument("--campaigns", type=int, default=4, help="weekly campaigns (4)")
    simulate.add_argument("--settings", help="a TOML or JSON settings file for the rest")
    simulate.add_argument("--plot", help="write a PNG of status vs. rollups over time")
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
        "--as-of", help="instant for the retention check (default: the store's last run, or now)"
    )
    diagnose.add_argument("--limit", type=int, default=50, help="members shown (0: all)")
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
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``cmsf``; returns the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its message
        return EXIT_OK if exit_.code == 0 else EXIT_BAD_INPUT
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, out)
    except CmsfError as error:
        sys.stderr.write(f"cmsf {args.command}: {error}\n")
        return EXIT_BAD_INPUT


def main_exit() -> None:
    """The ``cmsf`` console script."""
    sys.exit(main())
