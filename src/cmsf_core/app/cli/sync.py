"""``cmsf sync``: a folder of exported platform data synced into the store, with notes on
why a sync imported nothing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cmsf_core.app.cli.exits import EXIT_ATTENTION, EXIT_OK, UsageError
from cmsf_core.app.cli.options import _is_date, _parse_as_of, _time_zones, load_settings
from cmsf_core.app.cli.store import _open_store, _progress, _removed_on_failure

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm
    from cmsf_core.domain.planner import SyncPlan
    from cmsf_core.domain.records.platform import PlatformCampaign
    from cmsf_core.domain.settings import Settings
    from cmsf_core.ports.platform import EmailPlatform
    from cmsf_core.shell.sync import SyncReport


def cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    """Sync a folder of exported platform data into the store."""
    from cmsf_core.shell.sync import run_sync  # noqa: PLC0415

    settings = load_settings(args.settings)
    folder = Path(args.platform)
    if not folder.exists():
        raise UsageError(f"platform folder {args.platform!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"platform folder {args.platform!r} is not a folder")
    try:
        from cmsf_core.adapters.files import FilePlatform  # noqa: PLC0415
    except ImportError as error:  # pragma: no cover - the adapter ships with the package
        raise UsageError(f"the file platform adapter is unavailable: {error}") from None
    platform: EmailPlatform = FilePlatform(folder, time_zones=_time_zones(args.time_zone))
    as_of = _parse_as_of(args.as_of)
    with _open_store(args.store, create=True) as crm, _removed_on_failure(crm):
        report = run_sync(
            crm,
            platform,
            settings,
            as_of=as_of,
            full=args.full,
            dry_run=args.dry_run,
            progress=_progress(sys.stderr),
            keep_changes=False,  # the summary and the notes need the counts only
        )
        if report.applied:
            crm.remember_run(settings, as_of)
        out.write(report.summary() + "\n")
        if _is_date(args.as_of):
            out.write(f"  --as-of {args.as_of} is read as {as_of:%Y-%m-%d %H:%M} UTC\n")
        for note in _why_nothing(crm, report, settings):
            out.write(f"  note: {note}\n")
    return EXIT_OK if report.ok else EXIT_ATTENTION


def _why_nothing(crm: SqliteCrm, report: SyncReport, settings: Settings) -> list[str]:
    """Why a sync imported no records or left the store without members, from its plan."""
    plan = report.plan
    counts = plan.counts()
    members = bool(counts["members saved"]) or bool(crm.all_members())
    if counts["records inserted"] and members:
        return []
    notes: list[str] = []
    skipped = plan.skipped
    campaigns = {c.campaign_id: c for c in crm.platform_campaigns().values()}
    campaigns.update((c.campaign_id, c) for c in plan.platform_campaigns)
    filtered = skipped.get("campaigns filtered out", 0)
    if filtered:
        notes.append(
            f"{filtered:,} campaign(s) left out by the campaign filter "
            f"(Campaign_Filter_Start_Date {_when(settings.campaign_filter_start)}, "
            f"Campaign_Filter_Tags {sorted(settings.campaign_filter_tags) or 'none'})"
        )
    if not campaigns and not filtered:
        notes.append("the export holds no sent campaigns")
    if not counts["records inserted"]:
        notes.extend(_why_no_records(plan, settings, applied=report.applied))
    links = bool(crm.links()) or bool(plan.links_to_create)
    if campaigns and not links and not members:
        notes.append(_why_no_members(campaigns.values(), settings))
    return notes


def _why_no_records(plan: SyncPlan, settings: Settings, *, applied: bool) -> list[str]:
    from cmsf_core.domain.activity import ActivityType  # noqa: PLC0415 - keep --help fast

    notes: list[str] = []
    skipped = plan.skipped
    if not settings.import_tracking:
        notes.append("Import_Email_Tracking is off: no tracking records are imported")
    old = skipped.get("older than retention", 0)
    if old:
        marks = [c.watermark for c in plan.checkpoints if c.watermark is not None]
        hint = ""
        if marks:
            latest = max(marks)
            hint = (
                f"; the latest event read is {latest:%Y-%m-%d %H:%M} UTC: give an --as-of "
                f"close to it (e.g. --as-of {(latest + timedelta(days=1)):%Y-%m-%d}) or a "
                "larger DaysToKeep_Email"
            )
        moved = "; the watermark has moved past them: re-read them with --full" if applied else ""
        notes.append(
            f"{old:,} event(s) are older than DaysToKeep_Email ({settings.days_to_keep} days) "
            f"before the sync's instant {plan.as_of:%Y-%m-%d %H:%M} UTC{hint}{moved}"
        )
    later = skipped.get("events after as_of", 0)
    if later:
        notes.append(
            f"{later:,} event(s) are after the sync's instant {plan.as_of:%Y-%m-%d %H:%M} UTC "
            "(--as-of): they are imported by a later sync"
        )
    not_imported = skipped.get("types not imported", 0)
    if not_imported:
        notes.append(f"{not_imported:,} event(s) are of types Email_Types_To_Import leaves out")
    if plan.events_read and not (old or later or not_imported):
        notes.append("every event read is already stored: nothing new to import")
    if not plan.events_read and settings.import_tracking:
        types = ", ".join(
            t.value for t in sorted(settings.imported_types, key=list(ActivityType).index)
        )
        notes.append(
            f"no tracking event was read (Email_Types_To_Import: {types or 'none'}); an "
            "incremental sync reads only what is newer than each client's watermark"
        )
    return notes


def _why_no_members(campaigns: Iterable[PlatformCampaign], settings: Settings) -> str:
    sent = sorted(c.sent_at for c in campaigns)
    span = f"sent {sent[0]:%Y-%m-%d}" + (f" to {sent[-1]:%Y-%m-%d}" if len(sent) > 1 else "")
    start = f"no campaign members: none of the {len(sent):,} platform campaign(s) ({span}) is "
    start += "linked to a CRM campaign, and "
    since = settings.auto_create_campaigns_since
    if not settings.auto_create_campaigns or since is None:
        return start + (
            "Auto_Create_Campaigns is off: turn it on with an Auto_Create_Campaigns_Since "
            "before the send dates in a --settings file (docs/cli.md shows one)"
        )
    return start + (
        f"Auto_Create_Campaigns_Since ({since:%Y-%m-%d %H:%M} UTC) is after their send dates "
        "(creation is not retrospective)"
    )


def _when(value: datetime | None) -> str:
    return "none" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"
