"""The ``cmsf`` command: demo, sync, run, simulate, diagnose and check on the embedded
SQLite store.

Exit codes (stable, for scripts; ``docs/cli.md`` has the details):

- 0: done; for ``sync`` every write went through; for ``diagnose`` nothing was flagged;
  for ``run``, stopped by SIGTERM after finishing its current sync;
- 1: done, with something to look at: ``sync`` had refused writes or skipped a client or
  a platform row (see the maintenance messages), ``diagnose`` flagged members, ``check``
  found problems in the store;
- 2: bad usage or input: an unknown option, a bad number, a bad settings file, a missing
  folder or store, a file that is not a cmsf store, another sync holding the store,
  unreadable platform data.  Nothing was changed;
- 3: an internal error (a bug): one line on stderr, the traceback only with ``CMSF_DEBUG=1``;
- 130: interrupted (Ctrl-C); the store holds what the last committed transaction left;
- 141: standard output was closed early (``cmsf diagnose | head -2``); nothing more is written.

Every error is one line on stderr, ``cmsf COMMAND: message``; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from cmsf_core.domain.errors import CmsfError

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm
    from cmsf_core.app.simulate import Variant
    from cmsf_core.domain.diagnose import Finding
    from cmsf_core.domain.planner import SyncPlan
    from cmsf_core.domain.records import MemberRecord, PlatformCampaign
    from cmsf_core.domain.settings import Settings
    from cmsf_core.ports.platform import EmailPlatform
    from cmsf_core.shell.sync import SyncReport

__all__ = ["main"]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as shells report it

MAX_SETTINGS_BYTES = 1_000_000
"""A settings file larger than this is refused unread (real ones are a few KB)."""

_MAX_MESSAGE = 500

_DEMO_MARK = "created by cmsf demo"


class UsageError(CmsfError, ValueError):
    """Bad command-line input: the message says what to fix."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        raise _ParseError(self.prog, f"{message} (see '{self.prog} --help')")


class _ParseError(Exception):
    """An argparse error: the parser's ``prog`` and the message."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


# ----------------------------------------------------------------------------- option types

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def _int_option(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        expected = f"a whole number from {minimum:,} to {maximum:,}"
        if not _INTEGER.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {_shown(text)}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


_DAYS = _int_option(1, 3_650)
_RECIPIENTS = _int_option(1, 100_000)
_CAMPAIGNS = _int_option(1, 520)
_LIMIT = _int_option(0, 1_000_000_000)
_DAYS_TO_KEEP = _int_option(0, 36_500)


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when long."""
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text):,} characters)"
    return repr(text)


def _one_line(text: str) -> str:
    """A message as one line of reasonable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."


# ----------------------------------------------------------------------------- helpers


def load_settings(path: str | None, overrides: dict[str, object] | None = None) -> Settings:
    """Settings from a TOML or JSON file of product setting names, plus overrides.

    A file that is missing, not a regular file, larger than :data:`MAX_SETTINGS_BYTES`,
    not UTF-8, not valid TOML or JSON (including nesting too deep or numbers too long to
    read) or holding a bad setting is refused with one :class:`UsageError`.
    """
    from cmsf_core.domain.settings import Settings  # noqa: PLC0415 - keep --help fast

    values: dict[str, object] = {}
    if path is not None:
        values.update(_read_settings_file(path))
    values.update(overrides or {})
    try:
        return Settings.from_mapping(values)
    except CmsfError as error:
        where = f" in {path!r}" if path else ""
        raise UsageError(f"bad setting{where}: {error}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        where = f" in {path!r}" if path else ""
        raise UsageError(f"bad setting{where}: {type(error).__name__}: {error}") from None


def _read_settings_file(path: str) -> dict[str, object]:
    file = Path(path)
    if not file.exists():
        raise UsageError(f"settings file {path!r} does not exist")
    if not file.is_file():
        raise UsageError(f"settings file {path!r} is not a regular file")
    try:
        size = file.stat().st_size
        if size > MAX_SETTINGS_BYTES:
            raise UsageError(
                f"settings file {path!r} is too big: expected at most "
                f"{MAX_SETTINGS_BYTES:,} bytes, got {size:,}"
            )
        data = file.read_bytes()
    except OSError as error:
        raise UsageError(f"settings file {path!r} cannot be read: {error.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as some editors write
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"settings file {path!r} is not UTF-8 text: byte 0x{data[error.start]:02x} "
            f"at offset {error.start:,}"
        ) from None
    kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
    try:
        loaded: object = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except RecursionError:
        raise UsageError(f"settings file {path!r} is not valid {kind}: nested too deep") from None
    except ValueError as error:  # TOMLDecodeError, JSONDecodeError, a number too long
        problem = str(error)
        if "integer string conversion" in problem:
            problem = f"a number has more than {sys.get_int_max_str_digits():,} digits"
        raise UsageError(f"settings file {path!r} is not valid {kind}: {problem}") from None
    if not isinstance(loaded, dict):
        raise UsageError(f"settings file {path!r} must hold a table of setting names")
    return loaded


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


def _needs_attention(flagged: Flagged) -> Flagged:
    """The members with a real mismatch: an informational finding alone (a status behind a
    later activity under Once Only or Never, as designed) does not flag a member."""
    return [(record, found) for record, found in flagged if any(not f.informational for f in found)]


def _print_findings(flagged: Flagged, limit: int, out: TextIO) -> None:
    """A summary by finding and status, the remedies once, then the members.

    Informational findings are counted apart, as expected behaviour: they flag no member
    and bring no remedy.
    """
    attention = _needs_attention(flagged)
    by_code: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    remedies: dict[str, None] = {}
    for _record, found in flagged:
        for finding in found:
            if finding.informational:
                expected[finding.code.value] += 1
            else:
                by_code[finding.code.value] += 1
                remedies.update(dict.fromkeys(finding.remedies))
    for record, _found in attention:
        by_status[record.member.status or "(none)"] += 1
    for code, n in by_code.most_common():
        out.write(f"  {code:<26} {n:>7,}\n")
    for code, n in expected.most_common():
        out.write(f"  {code:<26} {n:>7,}  (expected under the refresh mode; not flagged)\n")
    if by_status:
        out.write("  by status: " + ", ".join(f"{s} {n:,}" for s, n in by_status.most_common()))
        out.write("\n")
    if remedies:
        out.write("Remedies:\n" + "".join(f"  - {r}\n" for r in remedies))
    shown = attention if limit <= 0 else attention[:limit]
    if shown:
        out.write("Flagged members:\n")
    for record, found in shown:
        for finding in found:
            if not finding.informational:
                out.write(f"  [{finding.code.value}] {record.crm_campaign_id}: {finding.message}\n")
    if len(shown) < len(attention):
        out.write(f"  ... and {len(attention) - len(shown):,} more (--limit 0 shows all)\n")


# ----------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Generate a platform history, sync it day by day into the store, report."""
    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415
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
            report = run_sync(crm, platform, settings, as_of=START + timedelta(days=day))
            imported += len(report.plan.records_to_insert)
            purged += report.plan.purged
            if progress:
                progress("syncing day by day", day, args.days)
        as_of = START + timedelta(days=args.days)
        crm.remember_run(settings, as_of)
        _report_store(crm, as_of, out, imported=imported, purged=purged)
        flagged = _findings(crm, settings, as_of)
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
        )
        if report.applied:
            crm.remember_run(settings, as_of)
        out.write(report.summary() + "\n")
        if _is_date(args.as_of):
            out.write(f"  --as-of {args.as_of} is read as {as_of:%Y-%m-%d %H:%M} UTC\n")
        for note in _why_nothing(crm, report, settings):
            out.write(f"  note: {note}\n")
    return EXIT_OK if report.ok else EXIT_ATTENTION


@contextmanager
def _removed_on_failure(crm: SqliteCrm) -> Iterator[None]:
    """Remove the store again if this sync created it and then failed or was interrupted,
    so that exit 2 keeps meaning "nothing changed".  A store another process created
    meanwhile (two first syncs racing) is never this sync's to remove."""
    try:
        yield
    except BrokenPipeError:  # the work went through; only its report was not read
        raise
    except BaseException:
        if crm.made_here:
            crm.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{crm.path}{suffix}").unlink(missing_ok=True)
        raise


def _time_zones(values: Sequence[str] | None) -> dict[str, str]:
    """``--time-zone CLIENT_ID=Area/City`` options as client id -> IANA zone."""
    from cmsf_core.adapters.files import zone_for_time_zone  # noqa: PLC0415

    zones: dict[str, str] = {}
    for value in values or ():
        client_id, sep, zone = (part.strip() for part in value.partition("="))
        if not sep or not client_id or not zone:
            raise UsageError(f"--time-zone {value!r} must be CLIENT_ID=Area/City")
        if zone_for_time_zone(zone) != zone:  # an IANA name, not a display name
            raise UsageError(
                f"--time-zone {value!r}: {zone!r} is not an IANA time zone "
                "(e.g. Australia/Sydney, Europe/London, UTC)"
            )
        if zones.get(client_id, zone) != zone:
            raise UsageError(f"--time-zone gives client {client_id!r} two zones")
        zones[client_id] = zone
    return zones


def _why_nothing(crm: SqliteCrm, report: SyncReport, settings: Settings) -> list[str]:
    """Why a sync imported no records or left the store without members, from its plan."""
    plan = report.plan
    members = bool(plan.members_to_save) or bool(crm.all_members())
    if plan.records_to_insert and members:
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
    if not plan.records_to_insert:
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


def _is_date(text: str | None) -> bool:
    return (
        text is not None and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()) is not None
    )


_AS_OF_FORMS = (
    "a date (2024-04-09, read as midnight UTC) or an ISO 8601 date-time with an offset "
    "(2024-04-09T12:00:00+00:00 or 2024-04-09T12:00:00Z)"
)
_AS_OF_YEARS = (1970, 2999)


def _parse_as_of(text: str | None) -> datetime:
    """``--as-of``: now, a date (midnight UTC) or an ISO 8601 date-time with an offset."""
    if text is None:
        return datetime.now(UTC)
    try:
        if _is_date(text):
            day = date.fromisoformat(text.strip())
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--as-of: expected {_AS_OF_FORMS}, got {_shown(text)}") from None
    if parsed.tzinfo is None:
        raise UsageError(
            f"--as-of {_shown(text)} needs a UTC offset: e.g. --as-of {parsed.isoformat()}+00:00"
        )
    low, high = _AS_OF_YEARS
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not low <= utc.year <= high:
        raise UsageError(f"--as-of: expected a year from {low} to {high}, got {_shown(text)}")
    return utc


# ----------------------------------------------------------------------------- diagnose


def cmd_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    """List members whose status and rollups disagree, with explanations and remedies."""
    with _open_store(args.store, create=False) as crm:
        settings, as_of, source = _diagnose_inputs(crm, args)
        flagged = _findings(crm, settings, as_of)
        total = len(crm.all_members())
    attention = _needs_attention(flagged)
    out.write(f"{len(attention):,} of {total:,} campaign members flagged.\n")
    out.write(source)
    _print_findings(flagged, args.limit, out)
    return EXIT_ATTENTION if attention else EXIT_OK


def _ago(instant: datetime) -> str:
    """How long ago ``instant`` was, in words ("3 hours ago"), seen from the real now."""
    from cmsf_core.app.humanize import relative  # noqa: PLC0415 - pendulum only when needed

    return relative(instant, datetime.now(UTC))


def _kept_for(days: int) -> str:
    """What ``DaysToKeep_Email`` means, in words: "records purged after 1 week"."""
    from cmsf_core.app.humanize import duration  # noqa: PLC0415 - pendulum only when needed

    if days == 0:
        return "no tracking record is kept"
    return f"records purged after {duration(timedelta(days=days))}"


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
        as_of_from += f", {_ago(as_of)}"
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
    from cmsf_core.app.simulate import format_comparison, simulate  # noqa: PLC0415

    variants = _variants(args.settings, args.refresh, args.days_to_keep)
    plot_path = _plot_target(args.plot) if args.plot else None
    out.write(
        f"Simulating {len(variants)} variant(s): {args.campaigns} weekly campaigns to "
        f"{args.recipients:,} recipients, synced once a day for {args.days} days\n\n"
    )
    out.flush()  # the header shows before the work starts, also through a pipe
    results = simulate(
        variants, days=args.days, recipients=args.recipients, campaigns=args.campaigns
    )
    out.write(format_comparison(results) + "\n")
    if plot_path is not None:
        from cmsf_core.app.simulate import plot  # noqa: PLC0415

        plot(results, plot_path)
        out.write(f"plot written to {args.plot}\n")
    return EXIT_OK


_FAQ_PAIRS = (("Update Once", 7), ("Always", 180))


def _variants(
    settings: str | None, refreshes: list[str] | None, days: list[int] | None
) -> list[Variant]:
    """The variants to simulate: ``--refresh`` and ``--days-to-keep`` paired in order.

    Neither given: the FAQ pair (Update Once / 7 days, Always / 180 days).  One given: the
    other comes from ``--settings`` (or the product default) for every variant.  Both
    given: the same number of times each, or refused.
    """
    from cmsf_core.app.simulate import Variant  # noqa: PLC0415

    load_settings(settings)  # the file on its own: a bad value is refused even if overridden
    pairs: list[tuple[str | None, int | None]]
    if refreshes is None and days is None:
        pairs = list(_FAQ_PAIRS)
    elif refreshes is None:
        pairs = [(None, d) for d in days or ()]
    elif days is None:
        pairs = [(r, None) for r in refreshes]
    elif len(refreshes) != len(days):
        raise UsageError(
            f"--refresh is given {len(refreshes)} time(s) and --days-to-keep "
            f"{len(days)} time(s): give them the same number of times (paired in order), "
            "or leave one out to take it from --settings for every variant"
        )
    else:
        pairs = list(zip(refreshes, days, strict=True))
    variants = []
    for refresh, keep in pairs:
        overrides: dict[str, object] = {}
        if refresh is not None:
            overrides["Campaign_Member_Refresh"] = refresh
        if keep is not None:
            overrides["DaysToKeep_Email"] = keep
        chosen = load_settings(settings, overrides)
        name = f"{chosen.refresh_mode.value} / {chosen.days_to_keep} days"
        variants.append(Variant(name, chosen))
    return variants


def _plot_target(text: str) -> Path:
    """The ``--plot`` file, checked before the simulation runs."""
    import importlib.util  # noqa: PLC0415

    target = Path(text)
    if target.suffix.lower() != ".png":
        raise UsageError(f"--plot: expected a file name ending in .png, got {_shown(text)}")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"--plot {_shown(text)}: folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise UsageError(f"--plot {_shown(text)} is a folder")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"--plot {_shown(text)} cannot be written (permission denied)")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib: pip install 'cmsf_core[plot]'")
    return target


# ----------------------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """Run the primary sync on its schedule until stopped (SIGTERM: 0, SIGINT: 130)."""
    from cmsf_core.app import service_lines  # noqa: PLC0415 - keep --help fast
    from cmsf_core.domain.service import ServiceDecision  # noqa: PLC0415
    from cmsf_core.shell import service  # noqa: PLC0415 - keep --help fast

    if args.turn_on or args.turn_off:
        return _turn_sync(args, out)
    if args.platform is None:
        raise UsageError("--platform FOLDER is required (or --turn-on / --turn-off)")
    settings = load_settings(args.settings)
    zone = _org_zone(args.org_time_zone)
    folder = Path(args.platform)
    if not folder.is_dir():
        raise UsageError(f"platform folder {args.platform!r} does not exist or is not a folder")
    from cmsf_core.adapters.files import FilePlatform  # noqa: PLC0415

    platform: EmailPlatform = FilePlatform(folder, time_zones=_time_zones(args.time_zone))
    fake = _fake_clock(args.fake_clock, args.fake_until, out)
    signals = _StopSignals()
    clock = fake.now if fake else service.system_clock
    sleep = fake.sleeper(signals.stopped) if fake else service.real_sleep(signals.stopped)
    shown: list[object] = [None]

    def on_wait(decision: ServiceDecision, now: datetime) -> None:
        key = (decision.next_check, decision.reason)
        if key != shown[0]:
            shown[0] = key
            hint = ""
            if not decision.runs and decision.reason == "the sync is turned off":
                hint = f" (turn it on with 'cmsf run --store {args.store} --turn-on')"
            _say(out, service_lines.wait_line(decision, now, zone) + hint)

    def on_run(run: service.ServiceRun) -> None:
        shown[0] = None
        if run.report is not None:  # 'cmsf diagnose' takes its defaults from the last run
            try:
                crm.remember_run(settings, run.started)
            except Exception as error:
                if not service.is_store_busy(error):
                    raise
        _say(out, service_lines.run_line(run, zone))

    with service.hold_service_lock(args.store), _open_store(args.store, create=True) as crm:
        _, clients = service.load_service_state(crm)
        schedule = settings.import_schedule
        full = ", full daily sync on" if settings.perform_full_daily_sync else ""
        _say(
            out,
            f"serving {args.store} from {args.platform}: {schedule} in {zone}{full}; "
            "stop with Ctrl-C or SIGTERM",
        )
        for line in service_lines.clients_lines(clients, clock()):
            _say(out, f"  {line}")
        with signals:
            outcome = service.run_service(
                crm,
                platform,
                settings,
                clock=clock,
                sleep=sleep,
                stop=signals.stopped,
                tz=zone,
                max_runs=args.max_runs,
                on_run=on_run,
                on_wait=on_wait,
            )
    runs = f"{outcome.runs:,} run(s), {outcome.failures:,} failed"
    if signals.received == "SIGINT":
        return _fail("cmsf run", f"interrupted after {runs}; the last sync finished first", 130)
    if signals.received is not None:
        _say(out, f"stopped on {signals.received} after {runs}; the store is consistent")
        return EXIT_OK
    _say(out, f"done: {runs}")
    return EXIT_ATTENTION if outcome.not_ok else EXIT_OK


def _turn_sync(args: argparse.Namespace, out: TextIO) -> int:
    """``cmsf run --turn-on`` / ``--turn-off``: set the store's sync switch."""
    from cmsf_core.shell import service  # noqa: PLC0415

    if args.platform is not None:
        raise UsageError("--turn-on and --turn-off take no --platform: they only set the switch")
    with _open_store(args.store, create=False) as crm:
        service.set_sync_enabled(crm, bool(args.turn_on))
    state = "on" if args.turn_on else "off"
    out.write(f"the sync of {args.store} is turned {state}\n")
    return EXIT_OK


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


def _org_zone(text: str) -> str:
    from cmsf_core.domain.schedule import resolve_zone  # noqa: PLC0415

    try:
        resolve_zone(text, "--org-time-zone")
    except CmsfError:
        raise UsageError(
            f"--org-time-zone: expected an IANA time zone such as Europe/London, got {_shown(text)}"
        ) from None
    return text.strip()


class _StopSignals:
    """While entered, SIGTERM and SIGINT ask the service to stop (after the current sync)."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def stopped(self) -> bool:
        return self.received is not None

    def _handle(self, number: int, _frame: object) -> None:
        import signal  # noqa: PLC0415

        self.received = signal.Signals(number).name

    def __enter__(self) -> _StopSignals:
        import signal  # noqa: PLC0415

        for number in (signal.SIGTERM, signal.SIGINT):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        import signal  # noqa: PLC0415

        for number, handler in self._previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]  # as signal() gave it


class _FakeClock:
    """For tests only: a clock that a sleep moves forward at once, up to ``until``; there
    it stops, and sleeping waits for real (in short slices) until a stop is asked."""

    def __init__(self, start: datetime, until: datetime | None, out: TextIO) -> None:
        self.current = start
        self.until = until
        self._out = out
        self._told = False

    def now(self) -> datetime:
        return self.current

    def sleeper(self, stop: Callable[[], bool]) -> Callable[[float], None]:
        import time  # noqa: PLC0415

        def sleep(seconds: float) -> None:
            if self.until is not None and self.current >= self.until:
                if not self._told:
                    self._told = True
                    _say(self._out, f"fake clock stopped at {self.until.isoformat()}; waiting")
                time.sleep(0.05)
                return
            step = timedelta(seconds=max(seconds, 0.0))
            if self.until is not None:
                step = min(step, self.until - self.current)
            self.current += step
            if stop():
                return

        return sleep


def _fake_clock(start: str | None, until: str | None, out: TextIO) -> _FakeClock | None:
    if start is None:
        if until is not None:
            raise UsageError("--fake-until needs --fake-clock")
        return None
    begin = _parse_as_of(start)
    end = _parse_as_of(until) if until is not None else None
    if end is not None and end < begin:
        raise UsageError("--fake-until must not be before --fake-clock")
    return _FakeClock(begin, end, out)


# ----------------------------------------------------------------------------- parser


_AS_OF_HELP = (
    "{what}: a date (2024-04-09 = midnight UTC) or an ISO 8601 date-time with an offset "
    "(2024-04-09T12:00:00+02:00, or Z for UTC); default now"
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
    run.add_argument(
        "--time-zone",
        action="append",
        metavar="CLIENT_ID=Area/City",
        help="the IANA time zone of a client whose platform zone maps to none (repeatable)",
    )
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
    demo.add_argument("--days", type=_DAYS, default=20, help="days of daily syncs, 1-3650 (20)")
    demo.add_argument(
        "--recipients", type=_RECIPIENTS, default=2000, help="per campaign, 1-100000 (2000)"
    )
    demo.add_argument("--campaigns", type=_CAMPAIGNS, default=3, help="weekly campaigns, 1-520 (3)")
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
    sync.add_argument(
        "--time-zone",
        action="append",
        metavar="CLIENT_ID=Area/City",
        help="the IANA time zone of a client whose platform zone maps to none (repeatable)",
    )
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
    simulate.add_argument("--days", type=_DAYS, default=30, help="days of daily syncs, 1-3650 (30)")
    simulate.add_argument(
        "--recipients", type=_RECIPIENTS, default=1000, help="per campaign, 1-100000 (1000)"
    )
    simulate.add_argument(
        "--campaigns", type=_CAMPAIGNS, default=4, help="weekly campaigns, 1-520 (4)"
    )
    simulate.add_argument("--settings", help="a TOML or JSON settings file for the rest")
    simulate.add_argument(
        "--plot", help="write a PNG of status vs. rollups over time (the folder must exist)"
    )
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


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``cmsf``; returns the exit status.

    Errors never escape: each is one line ``cmsf COMMAND: message`` on stderr and an exit
    status (see the module's docstring).  ``CMSF_DEBUG=1`` re-raises unexpected errors.
    """
    out = out or sys.stdout
    prog = "cmsf"
    try:
        args, extra = build_parser().parse_known_args(argv)
        prog = f"cmsf {args.command}"
        if extra:
            raise _ParseError(
                prog, f"unrecognized arguments: {' '.join(extra)} (see '{prog} --help')"
            )
        run: Callable[[argparse.Namespace, TextIO], int] = args.run
        status = run(args, out)
        out.flush()
    except SystemExit as exit_:  # --help and --version print and exit 0
        return EXIT_OK if exit_.code in (0, None) else EXIT_BAD_INPUT
    except _ParseError as error:
        return _fail(error.prog, error.message, EXIT_BAD_INPUT)
    except CmsfError as error:
        return _fail(prog, str(error), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail(prog, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence(out)
        return EXIT_PIPE_CLOSED
    except RecursionError as error:  # before OSError/Exception: input nested too deep
        if _debug():
            raise
        return _fail(prog, f"input nested too deep: {error}", EXIT_BAD_INPUT)
    except OSError as error:
        if _debug():
            raise
        where = f": {error.filename!r}" if error.filename else ""
        return _fail(prog, f"{error.strerror or error}{where}", EXIT_BAD_INPUT)
    except Exception as error:  # the last resort: one line, never a traceback
        if _debug():
            raise
        return _fail(
            prog,
            f"internal error: {type(error).__name__}: {error} (set CMSF_DEBUG=1 for the traceback)",
            EXIT_INTERNAL,
        )
    return status


def _debug() -> bool:
    return os.environ.get("CMSF_DEBUG", "") not in ("", "0")


def _fail(prog: str, message: str, status: int) -> int:
    try:
        sys.stderr.write(f"{prog}: {_one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed too: the status still tells
        pass
    return status


def _silence(out: TextIO) -> None:
    """Point stdout at devnull so that the interpreter's final flush stays quiet.

    This is what Python's documentation of ``SIGPIPE`` recommends.
    """
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no file descriptor to redirect
        pass


def main_exit() -> None:
    """The ``cmsf`` console script."""
    sys.exit(main())
