"""``cmsf demo``: a generated platform history synced day by day into a store, reported."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import attrs

from cmsf_core.app.cli.exits import EXIT_OK, UsageError
from cmsf_core.app.cli.options import load_settings
from cmsf_core.app.cli.store import _needs_attention, _print_findings, _progress

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm


_DEMO_MARK = "created by cmsf demo"


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Generate a platform history, sync it day by day into the store, report."""
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415
    from cmsf_core.app.columnar.stores import diagnose_store  # noqa: PLC0415
    from cmsf_core.app.demo import START, build_platform, seed_crm  # noqa: PLC0415
    from cmsf_core.shell.sync import run_sync  # noqa: PLC0415

    settings = load_settings(
        args.settings,
        {"Campaign_Member_Refresh": args.refresh, "DaysToKeep_Email": args.days_to_keep},
    )
    path = Path(args.store)
    if not path.parent.is_dir():
        raise UsageError(f"--store {args.store!r}: folder {str(path.parent)!r} does not exist")
    if path.exists():
        with SqliteCrm(path) as old:  # anything but a cmsf store is refused, untouched
            if old.get_meta("origin") != _DEMO_MARK:
                raise UsageError(
                    f"{path} exists and was not made by 'cmsf demo'; choose another --store"
                )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    platform = build_platform(recipients=args.recipients, campaigns=args.campaigns)
    imported = purged = 0
    with SqliteCrm(path, origin=_DEMO_MARK) as crm:
        out.write(
            f"Demo: {args.campaigns} weekly campaigns to {args.recipients:,} recipients (half of "
            f"them contacts in the CRM), synced once a day for {args.days} days into {path}\n"
            f"Settings: Campaign_Member_Refresh = {settings.refresh_mode.value}, "
            f"DaysToKeep_Email = {settings.days_to_keep} ({_kept_for(settings.days_to_keep)})\n\n"
        )
        out.flush()  # shown before the work starts, also through a pipe
        seed_crm(crm, platform, args.recipients)
        progress = _progress(sys.stderr)
        for day in range(1, args.days + 1):
            report = run_sync(
                crm,
                platform,
                settings,
                as_of=START + timedelta(days=day),
                keep_changes=False,  # the report needs the counts only
            )
            imported += report.plan.counts()["records inserted"]
            purged += report.plan.purged
            if progress:
                progress("syncing day by day", day, args.days)
        as_of = START + timedelta(days=args.days)
        crm.remember_run(settings, as_of)
        _report_store(crm, as_of, out, imported=imported, purged=purged)
        flagged = diagnose_store(crm, settings, as_of=as_of)
        out.write(f"\nMembers that diagnose flags: {len(_needs_attention(flagged)):,}\n")
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
        totals.update(attrs.asdict(m.member.engagement))
    out.write(f"Imported {imported:,} tracking records; purged {purged:,} by retention; ")
    out.write(f"{crm.record_count():,} stored at {as_of:%Y-%m-%d %H:%M} UTC.\n")
    matched = sum(1 for m in members if m.person_id is not None)
    out.write(f"Campaign members: {len(members):,} ({matched:,} matched to contacts/leads)\n")
    out.write("Statuses: " + ", ".join(f"{s} {n:,}" for s, n in statuses.most_common()) + "\n")
    out.write("Rollups:  " + ", ".join(f"{k} {v:,}" for k, v in totals.items()) + "\n")


def _kept_for(days: int) -> str:
    """What ``DaysToKeep_Email`` means, in words: "records purged after 1 week"."""
    from cmsf_core.app.humanize import duration  # noqa: PLC0415 - pendulum only when needed

    if days == 0:
        return "no tracking record is kept"
    return f"records purged after {duration(timedelta(days=days))}"
