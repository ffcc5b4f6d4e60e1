"""An email platform read from a folder of Campaign Monitor API responses.

:class:`FilePlatform` serves the :class:`~cmsf_core.ports.platform.EmailPlatform` reads
from JSON files shaped as the Campaign Monitor API v3.3 returns them, so exported data
can be synced without credentials.  ``docs/file-platform.md`` describes the folder
layout, every file and field read, and the time-zone policy.

The platform's dates are naive local times of the client's time zone; they are localised
once, here, by :func:`localise`: a time in a DST gap is moved forward by the length of
the gap, an ambiguous time in a DST fold is its first occurrence.

Every path is resolved inside the export folder: an id read from a file (``ClientID``,
``CampaignID``, ``ListID``) that could leave it (a separator, ``..``, a drive, a control
character) is refused, and so is a file that resolves outside the folder (a symbolic
link).  A bad file raises :class:`PlatformFileError`, naming the file, the record and the
field, whatever is wrong with it (not UTF-8, not JSON, nested too deep, a number too
long, a date at the edge of the calendar, a folder where a file belongs, too large).
A malformed row of a tracking stream is skipped instead and handed back on the page
(:class:`~cmsf_core.domain.records.SkippedRow`).  Each file is read and parsed once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cmsf_core.adapters.cm_custom_fields import field_from_api, subscriber_from_api
from cmsf_core.adapters.cm_time_zones import UnmappableTimeZoneError, check_time_zones, lookup
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.emails import email_problem, normalise_email
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError, shown
from cmsf_core.domain.field_mappings import PlatformField, PlatformSubscriber, platform_key
from cmsf_core.domain.records import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingEvent,
    TrackingPage,
    check_page_request,
)
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportSubscribers,
    ListMembership,
    PlatformCommand,
    SubscriberState,
    SuppressedEmail,
    email_key,
    run_on_list,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "LIST_STATE_FILES",
    "MAX_FILE_BYTES",
    "MAX_NUMBER_DIGITS",
    "PAGE_SIZE_LIMIT",
    "STREAM_FILES",
    "FilePlatform",
    "PlatformFileError",
    "localise",
    "parse_local_datetime",
    "zone_for_time_zone",
]

#: The largest page the API serves (and so the largest ``page_size`` accepted).
PAGE_SIZE_LIMIT = 1000

#: The largest file read (256 MiB; a 1,000-row page of the API is about 200 KB).
MAX_FILE_BYTES = 256 * 1024 * 1024

#: The most digits a JSON integer may have (counts fit; a 5,000-digit number is refused).
MAX_NUMBER_DIGITS = 20

#: The longest id (``ClientID``, ``CampaignID``, ``ListID``) used as a file name, in bytes.
_MAX_ID_BYTES = 200
#: Names Windows reads as devices whatever the folder: never an id.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}
)

#: The file name (without ``.json``) of each tracking stream: the API's endpoint names.
STREAM_FILES: Mapping[ActivityType, str] = {
    ActivityType.SENT: "recipients",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam",
}

#: The file name of each list state (``Lists/{id}/active.json`` ...) and its state.
LIST_STATE_FILES: Mapping[str, SubscriberState] = {
    "active": SubscriberState.ACTIVE,
    "unconfirmed": SubscriberState.UNCONFIRMED,
    "unsubscribed": SubscriberState.UNSUBSCRIBED,
    "bounced": SubscriberState.BOUNCED,
    "deleted": SubscriberState.DELETED,
}

_BOUNCE_TYPES = {"soft": "Soft", "hard": "Hard"}
_DATE_EXAMPLE = "a naive local date-time like '2010-10-11 08:29:00'"
#: Summary fields every API version returns; the others default to 0 when absent.
_SUMMARY_REQUIRED = frozenset(
    {"Recipients", "TotalOpened", "UniqueOpened", "Clicks", "Bounced", "Unsubscribed"}
)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_GMT = re.compile(r"^\(\s*(?:GMT|UTC)\s*(?:([+-])(\d{1,2}):(\d{2}))?\s*\)\s*(.*)$", re.IGNORECASE)
#: Campaign Monitor's region names that list no city.
_REGIONS = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "atlantic time (canada)": "America/Halifax",
    "arizona": "America/Phoenix",
    "newfoundland": "America/St_Johns",
    "saskatchewan": "America/Regina",
}
#: The dates a zone's offsets are sampled on to check a display name's GMT offset.
_SAMPLE_DATES = (datetime(2024, 1, 15, 12, tzinfo=UTC), datetime(2024, 7, 15, 12, tzinfo=UTC))


#: A subscriber on a list: (email as written, state, when the state changed, date added).
_Member = tuple[str, SubscriberState, datetime, datetime | None]
#: A tracking stream as read: its events (oldest first) and the rows skipped.
_Stream = tuple[tuple[TrackingEvent, ...], tuple[SkippedRow, ...]]


class PlatformFileError(CmsfError, ValueError):
    """A platform file that is missing, not JSON, or not shaped as the API returns it.

    ``path`` is the file, ``record`` where in it (``"Results[3]"``, ``"BasicDetails"``,
    ``"line 4 column 1"``), ``field`` the API field (``None`` for the whole file).
    """

    def __init__(self, path: Path, record: str, field: str | None, problem: str) -> None:
        self.path = path
        self.record = record
        self.field = field
        self.problem = problem
        where = f"{path}: {record}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")


class UnmappableTimeZoneFileError(PlatformFileError, UnmappableTimeZoneError):
    """A client's ``details.json`` names a time zone that maps to no IANA zone: reading
    that client fails; the other clients are read."""

    def __init__(self, path: Path, client_id: str, time_zone: str) -> None:
        UnmappableTimeZoneError.__init__(
            self, client_id, time_zone, where=f"{path}: BasicDetails: field 'TimeZone': "
        )
        self.path = path
        self.record = "BasicDetails"
        self.field = "TimeZone"


# ----------------------------------------------------------------------------- time


def parse_local_datetime(text: object, field: str = "Date") -> datetime:
    """A platform date-time (``"2010-10-11 08:29:00"``) as a naive ``datetime``."""
    if not isinstance(text, str):
        raise InvalidTypeError(field, _DATE_EXAMPLE, text)
    if not _DATE_TIME.match(text.strip()):
        raise InvalidValueError(field, _DATE_EXAMPLE, text)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValueError(field, _DATE_EXAMPLE, text) from None
    if parsed.tzinfo is not None:
        raise InvalidValueError(
            field, _DATE_EXAMPLE, text, detail="the API gives local times without an offset"
        )
    return parsed


def localise(local: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of the naive wall-clock time ``local`` in ``zone``.

    - An unambiguous time has one instant.
    - A time in a fold (clocks set back: it happens twice) is its **first** occurrence,
      the earlier instant (the offset in force before the change; ``fold=0``).
    - A time in a gap (clocks set forward: it never happens) is moved **forward by the
      length of the gap**: it is read with the offset in force before the gap, so
      01:30 on a London spring-forward day (gap 01:00-02:00) is 01:30 UTC = 02:30 BST.
    """
    if local.tzinfo is not None:
        raise InvalidValueError("local", "a naive wall-clock time", local)
    offsets = set()
    for fold in (0, 1):
        offset = local.replace(tzinfo=zone, fold=fold).utcoffset()
        if offset is None:
            raise InvalidValueError("zone", "a time zone with an offset", zone)
        offsets.add(offset)
    wall = local.replace(tzinfo=UTC)
    instants = [
        wall - offset
        for offset in offsets
        if (wall - offset).astimezone(zone).replace(tzinfo=None) == local
    ]
    if instants:  # one instant, or two in a fold: the first occurrence
        return min(instants)
    # A gap: the clocks jumped from the smaller offset to the larger one.
    return wall - min(offsets)


def _load_zone(name: str) -> ZoneInfo | None:
    if name.strip() != name or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_for_time_zone(value: str) -> str | None:
    """The IANA zone for a client's ``BasicDetails.TimeZone``, or ``None`` if none fits.

    An IANA name (``"Australia/Sydney"``) is taken as it is.  A name of Campaign
    Monitor's own list (``timezones.json``) is read from its table,
    :data:`cmsf_core.adapters.cm_time_zones.TIME_ZONES`.  Any other display name
    ``"(GMT+10:00) Canberra, Melbourne, Sydney"`` is matched place by place, from the
    **last** listed to the first: a place matches an IANA zone whose last part is the
    place's name (spaces read as ``_``, case ignored) and whose UTC offset in mid January
    or mid July is the stated GMT offset.  The last place that matches wins (here
    ``Australia/Sydney``); among several zones of that name the first alphabetically.
    A region name without a city (``"(GMT-05:00) Eastern Time (US & Canada)"``) is read
    from a small table of Campaign Monitor's region names.
    """
    if _load_zone(value) is not None:
        return value
    listed = lookup(value)
    if listed is not None:
        return listed
    match = _GMT.match(value.strip())
    if match is None:
        return None
    sign, hours, minutes, places = match.groups()
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if sign == "-":
        offset = -offset
    region = _REGIONS.get(" ".join(places.split()).casefold())
    if region is not None and _has_offset(region, offset):
        return region
    by_place = _zones_by_place()
    for place in reversed([p.strip() for p in places.split(",")]):
        key = "_".join(place.split()).casefold()
        for name in sorted(by_place.get(key, ())):
            if _has_offset(name, offset):
                return name
    return None


_PLACES: dict[str, list[str]] = {}


def _zones_by_place() -> dict[str, list[str]]:
    if not _PLACES:
        for name in available_timezones():
            _PLACES.setdefault(name.rsplit("/", 1)[-1].casefold(), []).append(name)
    return _PLACES


def _has_offset(name: str, offset: timedelta) -> bool:
    zone = _load_zone(name)
    return zone is not None and any(d.astimezone(zone).utcoffset() == offset for d in _SAMPLE_DATES)


# ----------------------------------------------------------------------------- reading


def _envelope_record(index: int) -> str:
    return f"Results[{index}]"


class _NumberError(ValueError):
    """A JSON integer with more digits than :data:`MAX_NUMBER_DIGITS`."""


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise _NumberError(
            f"holds a number of {digits} digits (at most {MAX_NUMBER_DIGITS} are read)"
        )
    return int(text)


def _constant(name: str) -> object:
    raise _NumberError(f"holds {name}, which is not JSON")


class _Json:
    """Files read once and kept parsed, with helpers raising :class:`PlatformFileError`.

    Only files that resolve inside ``root`` (after symbolic links) are read, each of at
    most ``max_bytes``.
    """

    def __init__(self, root: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self._cache: dict[Path, Any] = {}
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def inside(self, path: Path) -> Path:
        """``path`` if it resolves inside the root, else :class:`PlatformFileError`."""
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError, ValueError) as error:  # a loop, a NUL, ...
            raise PlatformFileError(path, "file", None, f"cannot be resolved ({error})") from None
        if not resolved.is_relative_to(self.root):
            raise PlatformFileError(
                path,
                "file",
                None,
                f"resolves outside the export folder {str(self.root)!r} (a symbolic link?); "
                "only files inside it are read",
            )
        return resolved

    def exists(self, path: Path) -> bool:
        """Whether ``path`` exists (inside the root: a link out is an error, not absent)."""
        try:
            if not path.exists() and not path.is_symlink():
                return False
        except (OSError, ValueError) as error:
            raise PlatformFileError(path, "file", None, f"cannot be read ({error})") from None
        self.inside(path)
        return True

    def children(self, folder: Path) -> list[Path]:
        """The entries of ``folder`` (none if it is missing), once it is known inside."""
        if not self.exists(folder):
            return []
        try:
            return list(folder.iterdir()) if folder.is_dir() else []
        except OSError as error:
            raise PlatformFileError(folder, "folder", None, f"cannot be read ({error})") from None

    def load(self, path: Path) -> Any:
        """The parsed JSON of ``path``; every way of failing is a :class:`PlatformFileError`."""
        if path in self._cache:
            return self._cache[path]
        data = self._parse(path, self._read(path))
        self._cache[path] = data
        return data

    def _read(self, path: Path) -> bytes:
        if not self.exists(path):
            raise PlatformFileError(path, "file", None, "the file is missing")
        try:
            if path.is_dir():
                raise PlatformFileError(path, "file", None, "is a folder, not a JSON file")
            with path.open("rb") as stream:
                raw = stream.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise PlatformFileError(path, "file", None, "the file is missing") from None
        except OSError as error:
            raise PlatformFileError(path, "file", None, f"cannot be read ({error})") from None
        if len(raw) > self.max_bytes:
            raise PlatformFileError(
                path,
                "file",
                None,
                f"is larger than {self.max_bytes:,} bytes, the most read from one file; "
                "export the stream in pages (name.1.json, name.2.json, ...)",
            )
        return raw

    def _parse(self, path: Path, raw: bytes) -> Any:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise PlatformFileError(
                path,
                f"byte {error.start}",
                None,
                f"is not UTF-8 text (got {shown(raw[error.start : error.start + 4])}); "
                "the API answers in UTF-8",
            ) from None
        try:
            return json.loads(text, parse_int=_integer, parse_constant=_constant)
        except json.JSONDecodeError as error:
            raise PlatformFileError(
                path,
                f"line {error.lineno} column {error.colno}",
                None,
                f"not valid JSON ({error.msg}); is the file truncated?",
            ) from None
        except RecursionError:
            raise PlatformFileError(
                path, "file", None, "nests too deep to read (the API's answers nest a few levels)"
            ) from None
        except ValueError as error:  # _NumberError, or a limit of the interpreter
            raise PlatformFileError(path, "file", None, str(error)) from None


def _kind(value: object) -> str:
    """The JSON kind of a parsed value, for messages that must not echo whole rows."""
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return shown(value)


def _object(path: Path, record: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PlatformFileError(path, record, None, f"must be a JSON object (got {_kind(value)})")
    return value


def _text(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    if field not in row or row[field] is None:
        raise PlatformFileError(path, record, field, "is missing")
    value = row[field]
    if not isinstance(value, str) or not value.strip():
        raise PlatformFileError(path, record, field, f"must be non-empty text (got {shown(value)})")
    return value.strip()


def _optional_text(path: Path, record: str, row: Mapping[str, Any], field: str) -> str | None:
    value = row.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PlatformFileError(path, record, field, f"must be text (got {shown(value)})")
    return value.strip() or None


def _file_id(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    """An id that names a folder of the export (``ClientID``, ``CampaignID``, ``ListID``):
    one plain path segment, so that the path built from it stays inside the folder."""
    value = _text(path, record, row, field)
    problem = None
    if value in {".", ".."}:
        problem = f"is {value!r}, which names a folder, not an id"
    elif "/" in value or "\\" in value:
        problem = "holds a path separator ('/' or '\\')"
    elif ":" in value:
        problem = "holds ':' (a drive letter or stream name)"
    elif any(unicodedata.category(c)[0] in "CZ" and c != " " for c in value):
        bad = next(c for c in value if unicodedata.category(c)[0] in "CZ" and c != " ")
        problem = f"holds the control character U+{ord(bad):04X}"
    elif len(value.encode("utf-8", "surrogatepass")) > _MAX_ID_BYTES:
        problem = f"is longer than {_MAX_ID_BYTES} bytes"
    elif value.split(".")[0].upper() in _DEVICE_NAMES:
        problem = f"is a device name on Windows ({value.split('.')[0].upper()})"
    if problem is not None:
        raise PlatformFileError(
            path,
            record,
            field,
            f"must be an id usable as a file name: {problem} (got {shown(value)})",
        )
    return value


def _email(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    """A row's address, trimmed, if it is one (DESIGN §8); the error does not echo it."""
    value = _text(path, record, row, field)
    problem = email_problem(row[field])  # before trimming: a tab or newline is no space
    if problem is None:
        try:
            normalise_email(value, field)
        except CmsfError:
            pass
        else:
            return value
    raise PlatformFileError(
        path,
        record,
        field,
        "must be an email address like name@example.com" + (f" ({problem})" if problem else ""),
    )


def _local(path: Path, record: str, row: Mapping[str, Any], field: str, zone: tzinfo) -> datetime:
    if field not in row or row[field] is None:
        raise PlatformFileError(path, record, field, "is missing")
    value = row[field]
    try:
        if isinstance(value, str):
            return _localised(value, zone, field)
        return localise(parse_local_datetime(value, field), zone)
    except CmsfError:
        raise PlatformFileError(
            path, record, field, f"must be {_DATE_EXAMPLE} (got {shown(row[field])})"
        ) from None
    except (OverflowError, ValueError):  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise PlatformFileError(
            path,
            record,
            field,
            f"is outside the calendar once localised to UTC (got {shown(row[field])})",
        ) from None


@lru_cache(maxsize=1 << 16)
def _localised(text: str, zone: tzinfo, field: str) -> datetime:
    """:func:`localise` of a date text, cached: an export repeats each minute many times."""
    return localise(parse_local_datetime(text, field), zone)


def _count(path: Path, record: str, value: object, field: str) -> int:
    if type(value) is not int or value < 0:
        raise PlatformFileError(path, record, field, f"must be a count >= 0 (got {shown(value)})")
    return value


def _page_files(json_files: _Json, folder: Path, stem: str) -> list[Path]:
    """``stem.json``, or ``stem.1.json`` .. ``stem.N.json``, or nothing."""
    single = folder / f"{stem}.json"
    numbered: dict[int, Path] = {}
    pattern = re.compile(rf"^{re.escape(stem)}\.(\d{{1,9}})\.json$")
    for child in json_files.children(folder):
        found = pattern.match(child.name)
        if found:
            numbered[int(found.group(1))] = child
    has_single = json_files.exists(single)
    if numbered and has_single:
        raise PlatformFileError(
            single,
            "file",
            None,
            f"{stem}.json and numbered pages {stem}.<n>.json both exist; keep one form",
        )
    if not numbered:
        return [single] if has_single else []
    expected = list(range(1, len(numbered) + 1))
    if sorted(numbered) != expected:
        missing = sorted(set(range(1, max(numbered) + 1)) - set(numbered))
        raise PlatformFileError(
            folder / f"{stem}.{missing[0] if missing else 1}.json",
            "file",
            None,
            f"page files must be numbered 1..N without gaps (found {sorted(numbered)})",
        )
    return [numbered[n] for n in expected]


def _paged_rows(json_files: _Json, files: Sequence[Path]) -> Iterator[tuple[Path, int, Any]]:
    """Every row of a paged stream, with its file and index, after checking each envelope
    against its neighbours: page numbers, page count, records on the page and the total."""
    pages = []
    for number, path in enumerate(files, 1):
        envelope = _object(path, "envelope", json_files.load(path))
        results = envelope.get("Results")
        if not isinstance(results, list):
            raise PlatformFileError(
                path,
                "envelope",
                "Results",
                "must be a list of rows (a paged envelope: Results, PageNumber, PageSize, "
                f"RecordsOnThisPage, TotalNumberOfRecords, NumberOfPages; got {_kind(results)})",
            )
        checks = {
            "PageNumber": number,
            "RecordsOnThisPage": len(results),
        }
        for field, expected in checks.items():
            if field in envelope and envelope[field] != expected:
                raise PlatformFileError(
                    path, "envelope", field, f"must be {expected} (got {shown(envelope[field])})"
                )
        pages.append((path, envelope, results))
    total = sum(len(results) for _p, _e, results in pages)
    for path, envelope, _results in pages:
        count = envelope.get("NumberOfPages")
        if count is not None and count != len(pages) and not (count == 0 and total == 0):
            raise PlatformFileError(
                path,
                "envelope",
                "NumberOfPages",
                f"must be {len(pages)}, the number of page files (got {shown(count)}); "
                "is a page missing from the export?",
            )
        stated = envelope.get("TotalNumberOfRecords")
        if stated is not None and stated != total:
            raise PlatformFileError(
                path,
                "envelope",
                "TotalNumberOfRecords",
                f"must be {total}, the rows in the page files (got {shown(stated)})",
            )
    for path, _envelope, results in pages:
        for index, row in enumerate(results):
            yield path, index, row


# ----------------------------------------------------------------------------- the adapter


class FilePlatform(EmailPlatform):
    """A Campaign Monitor account read from a folder of API responses (read only).

    ``time_zones`` overrides a client's time zone (``{client_id: "Australia/Sydney"}``);
    its ``details.json`` is then not read.  The subscriber commands of :meth:`execute`
    change the list states this object serves, in memory, stamped with ``clock()``;
    the files are never written.  Only files inside ``folder`` are read, each of at most
    ``max_file_bytes`` (:data:`MAX_FILE_BYTES`).
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        time_zones: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.clock = clock
        if not self.folder.is_dir():
            raise PlatformFileError(self.folder, "folder", None, "is not a folder")
        self._time_zones = check_time_zones(time_zones)
        self._unmapped: dict[str, str] = {}  # client id -> the TimeZone no zone fits
        if type(max_file_bytes) is not int or max_file_bytes < 1:
            raise InvalidValueError("max_file_bytes", "a number of bytes >= 1", max_file_bytes)
        self._json = _Json(self.folder, max_file_bytes)
        self._clients: dict[str, PlatformClient] | None = None
        self._campaigns: dict[str, tuple[PlatformCampaign, ...]] = {}
        self._campaign_owner: dict[str, PlatformCampaign] | None = None
        self._streams: dict[tuple[str, ActivityType], _Stream] = {}
        self._summaries: dict[str, CampaignSummary] = {}
        self._lists: dict[str, dict[str, dict[str, _Member]]] = {}
        self._list_names: dict[str, dict[str, str]] = {}
        self._suppressed: dict[str, tuple[SuppressedEmail, ...]] = {}
        self._fields: dict[str, list[PlatformField]] = {}  # list id -> its custom fields
        self._values: dict[str, dict[str, PlatformSubscriber]] = {}  # imports' values

    def __repr__(self) -> str:
        return f"FilePlatform({str(self.folder)!r})"

    # -- clients -----------------------------------------------------------------------

    def _client_map(self) -> dict[str, PlatformClient]:
        if self._clients is None:
            path = self.folder / "clients.json"
            rows = self._json.load(path)
            if not isinstance(rows, list):
                raise PlatformFileError(
                    path, "file", None, f"must be a list of clients (got {_kind(rows)})"
                )
            clients: dict[str, PlatformClient] = {}
            for index, raw in enumerate(rows):
                record = f"[{index}]"
                row = _object(path, record, raw)
                client_id = _file_id(path, record, row, "ClientID")
                name = _text(path, record, row, "Name")
                clients[client_id] = PlatformClient(client_id, name, self._zone_name(client_id))
            self._clients = clients
        return self._clients

    def _zone_name(self, client_id: str) -> str:
        if client_id in self._time_zones:
            return self._time_zones[client_id]
        path = self.folder / "clients" / client_id / "details.json"
        details = _object(path, "file", self._json.load(path))
        basic = _object(path, "BasicDetails", details.get("BasicDetails"))
        stated = basic.get("ClientID")
        if stated is not None and stated != client_id:
            raise PlatformFileError(
                path, "BasicDetails", "ClientID", f"must be {client_id!r} (got {shown(stated)})"
            )
        value = _text(path, "BasicDetails", basic, "TimeZone")
        zone = zone_for_time_zone(value)
        if zone is None:  # the client is listed; reading it fails (that client only)
            self._unmapped[client_id] = value
            return value
        return zone

    def _zone(self, client_id: str) -> ZoneInfo:
        client = self._client_map()[client_id]
        if client_id in self._unmapped:
            path = self.folder / "clients" / client_id / "details.json"
            raise UnmappableTimeZoneFileError(path, client_id, self._unmapped[client_id])
        return ZoneInfo(client.time_zone)

    def clients(self) -> Sequence[PlatformClient]:
        return tuple(self._client_map().values())

    def _known_client(self, client_id: str) -> PlatformClient:
        client = self._client_map().get(client_id)
        if client is None:
            raise InvalidValueError(
                "client_id", f"a client of {self.folder / 'clients.json'}", client_id
            )
        return client

    # -- campaigns ---------------------------------------------------------------------

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        self._known_client(client_id)
        if client_id not in self._campaigns:
            self._campaigns[client_id] = self._read_campaigns(client_id)
        return self._campaigns[client_id]

    def _read_campaigns(self, client_id: str) -> tuple[PlatformCampaign, ...]:
        folder = self.folder / "clients" / client_id
        files = _page_files(self._json, folder, "campaigns")
        if not files:
            raise PlatformFileError(folder / "campaigns.json", "file", None, "the file is missing")
        rows: Iterator[tuple[Path, int, Any]]
        first = self._json.load(files[0])
        if len(files) == 1 and isinstance(first, list):  # v3.1: a plain array
            rows = ((files[0], index, row) for index, row in enumerate(first))
            label = "[{}]"
        else:  # v3.3: paged envelopes
            rows = _paged_rows(self._json, files)
            label = "Results[{}]"
        zone = self._zone(client_id)
        campaigns = []
        for path, index, raw in rows:
            record = label.format(index)
            row = _object(path, record, raw)
            campaign_id = _file_id(path, record, row, "CampaignID")
            name = _text(path, record, row, "Name")
            sent_at = _local(path, record, row, "SentDate", zone)
            subject = _optional_text(path, record, row, "Subject") or ""
            tags = row.get("Tags") or []
            if not isinstance(tags, list) or not all(
                isinstance(t, str) and t.strip() for t in tags
            ):
                raise PlatformFileError(
                    path, record, "Tags", f"must be a list of tag names (got {shown(tags)})"
                )
            campaigns.append(
                PlatformCampaign(
                    client_id,
                    campaign_id,
                    name,
                    sent_at,
                    frozenset(t.strip() for t in tags),
                    subject=subject,
                )
            )
        return tuple(sorted(campaigns, key=lambda c: (c.sent_at, c.campaign_id)))

    def _campaign(self, campaign_id: str) -> PlatformCampaign:
        if self._campaign_owner is None:
            self._campaign_owner = {
                c.campaign_id: c
                for cid in self._client_map()
                if cid not in self._unmapped  # a client without a zone fails alone
                for c in self.sent_campaigns(cid)
            }
        campaign = self._campaign_owner.get(campaign_id)
        if campaign is None:
            raise InvalidValueError(
                "campaign_id",
                "a campaign listed in a clients/<ClientID>/campaigns.json",
                campaign_id,
            )
        return campaign

    # -- tracking ------------------------------------------------------------------------

    def _stream(self, campaign_id: str, stream: ActivityType) -> _Stream:
        """The stream's events, oldest first, and its malformed rows, skipped: a bad row
        is reported and left out; a bad file (its envelope, its JSON) is an error."""
        key = (campaign_id, stream)
        if key not in self._streams:
            campaign = self._campaign(campaign_id)
            zone = self._zone(campaign.client_id)
            files = _page_files(
                self._json, self.folder / "campaigns" / campaign_id, STREAM_FILES[stream]
            )
            events = []
            skipped = []
            for path, index, raw in _paged_rows(self._json, files):
                record = _envelope_record(index)
                try:
                    events.append(self._event(path, record, raw, stream, campaign, zone))
                except PlatformFileError as error:
                    when = self._row_instant(path, record, raw, stream, campaign, zone)
                    skipped.append(
                        SkippedRow(
                            self._source(path),
                            record,
                            error.field,
                            error.problem,
                            occurred_at=when,
                        )
                    )
            events.sort(key=lambda e: e.occurred_at)  # stable: file order within a minute
            self._streams[key] = (tuple(events), tuple(skipped))
        return self._streams[key]

    def _source(self, path: Path) -> str:
        """``path`` relative to the export folder, with ``/`` separators."""
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    def _row_instant(
        self,
        path: Path,
        record: str,
        raw: object,
        stream: ActivityType,
        campaign: PlatformCampaign,
        zone: tzinfo,
    ) -> datetime | None:
        """The instant of a skipped row, when its date can be read (else ``None``)."""
        try:
            row = _object(path, record, raw)
            if stream is ActivityType.SENT and row.get("Date") is None:
                return campaign.sent_at
            return _local(path, record, row, "Date", zone)
        except PlatformFileError:
            return None

    def _event(
        self,
        path: Path,
        record: str,
        raw: object,
        stream: ActivityType,
        campaign: PlatformCampaign,
        zone: tzinfo,
    ) -> TrackingEvent:
        row = _object(path, record, raw)
        email = _email(path, record, row, "EmailAddress")
        if stream is ActivityType.SENT and row.get("Date") is None:
            occurred_at = campaign.sent_at  # recipients rows carry no date: the send's
        else:
            occurred_at = _local(path, record, row, "Date", zone)
        detail = None
        if stream is ActivityType.BOUNCED:
            bounce = _text(path, record, row, "BounceType")
            detail = _BOUNCE_TYPES.get(bounce.casefold())
            if detail is None:
                raise PlatformFileError(
                    path, record, "BounceType", f"must be 'Soft' or 'Hard' (got {shown(bounce)})"
                )
        elif stream is not ActivityType.UNSUBSCRIBED:
            # The clicked link; other streams' rows carry none (an unsubscribes row's URL
            # is the unsubscribe link, not part of the event).
            detail = _optional_text(path, record, row, "URL")
        list_id = _optional_text(path, record, row, "ListID")
        return TrackingEvent(stream, email, occurred_at, list_id=list_id, detail=detail)

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        check_page_request(page, page_size, PAGE_SIZE_LIMIT)
        stream = ActivityType.parse(stream, "stream")
        events, skipped = self._stream(campaign_id, stream)
        skip = 0  # the stream is sorted: the events before ``since`` are a prefix
        start = None if since is None else ensure_utc(since, "since")
        if start is not None:
            skip = bisect_left(events, start, key=lambda e: e.occurred_at)
        total = len(events) - skip
        first = skip + (page - 1) * page_size
        # The skipped rows of the read ride on its first page: those dated in the window
        # read, and those whose date could not be read (at every read, until corrected).
        reported = tuple(
            row
            for row in skipped
            if page == 1 and (start is None or row.occurred_at is None or row.occurred_at >= start)
        )
        return TrackingPage(
            events[first : first + page_size],
            page_number=page,
            page_size=page_size,
            number_of_pages=max(1, -(-total // page_size)),
            total_number_of_records=total,
            skipped=reported,
        )

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        if campaign_id not in self._summaries:
            self._campaign(campaign_id)
            path = self.folder / "campaigns" / campaign_id / "summary.json"
            row = _object(path, "file", self._json.load(path))
            values = {}
            for attribute, field in CampaignSummary.API_FIELDS:
                if field not in row:
                    if field in _SUMMARY_REQUIRED:
                        raise PlatformFileError(path, "summary", field, "is missing")
                    continue
                values[attribute] = _count(path, "summary", row[field], field)
            self._summaries[campaign_id] = CampaignSummary(**values)
        return self._summaries[campaign_id]

    # -- subscribers -----------------------------------------------------------------------

    def _list_states(self, client_id: str) -> dict[str, dict[str, _Member]]:
        """list id -> email key -> (email, state, when it changed, date added)."""
        if client_id in self._lists:
            return self._lists[client_id]
        self._known_client(client_id)
        zone = self._zone(client_id)
        path = self.folder / "clients" / client_id / "lists.json"
        names: dict[str, str] = {}
        if self._json.exists(path):
            rows = self._json.load(path)
            if not isinstance(rows, list):
                raise PlatformFileError(
                    path, "file", None, f"must be a list of lists (got {_kind(rows)})"
                )
            for index, raw in enumerate(rows):
                record = f"[{index}]"
                row = _object(path, record, raw)
                names[_file_id(path, record, row, "ListID")] = _text(path, record, row, "Name")
        states: dict[str, dict[str, _Member]] = {}
        for list_id in names:
            members: dict[str, _Member] = {}
            folder = self.folder / "lists" / list_id
            for stem, file_state in LIST_STATE_FILES.items():
                for page, index, raw in _paged_rows(
                    self._json, _page_files(self._json, folder, stem)
                ):
                    record = _envelope_record(index)
                    row = _object(page, record, raw)
                    email = _email(page, record, row, "EmailAddress")
                    # The current API names it StateChangedDate; older answers, Date.
                    dated = "StateChangedDate" if row.get("StateChangedDate") else "Date"
                    changed = _local(page, record, row, dated, zone)
                    state = file_state
                    if row.get("State") is not None:
                        try:
                            state = SubscriberState.parse(row["State"], "State")
                        except CmsfError:
                            raise PlatformFileError(
                                page,
                                record,
                                "State",
                                "must be one of "
                                + ", ".join(s.value for s in LIST_STATE_FILES.values())
                                + f" (got {shown(row['State'])})",
                            ) from None
                    added: datetime | None = None
                    if row.get("ListJoinedDate") not in (None, ""):
                        added = _local(page, record, row, "ListJoinedDate", zone)
                    elif state is SubscriberState.ACTIVE:
                        added = changed
                    key = email_key(email)
                    if key not in members or changed >= members[key][2]:
                        members[key] = (email, state, changed, added)
            states[list_id] = members
        self._list_names[client_id] = names
        self._lists[client_id] = states
        return states

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        start = None if since is None else ensure_utc(since, "since")
        changed: dict[str, str] = {}
        for members in self._list_states(client_id).values():
            for key, (email, _state, at, _added) in members.items():
                if start is None or at >= start:
                    changed.setdefault(key, email)
        return tuple(changed.values())

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        key = email_key(email)
        states = self._list_states(client_id)
        names = self._list_names[client_id]
        zone = self._zone(client_id)
        found = []
        for list_id, members in states.items():
            member = members.get(key)
            if member is not None:
                row = {
                    "ListID": list_id,
                    "ListName": names[list_id],
                    "SubscriberState": member[1].value,
                    "DateSubscriberAdded": member[3],
                }
                found.append(ListMembership.from_api(row, zone))
        return tuple(found)

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        """Everyone on the list, from its state files (``lists/<ListID>/active.json``,
        ...), as :meth:`execute` has changed them; the list must be in the client's
        ``lists.json``."""
        members = self._list_states(client_id).get(list_id)
        if members is None:
            raise InvalidValueError(
                "list_id", f"a list of client {client_id!r} (its lists.json)", list_id
            )
        return {email: state for email, state, _at, _added in members.values()}

    def suppression_list(self, client_id: str) -> Sequence[SuppressedEmail]:
        if client_id not in self._suppressed:
            self._known_client(client_id)
            zone = self._zone(client_id)
            files = _page_files(self._json, self.folder / "clients" / client_id, "suppressionlist")
            entries = []
            for path, index, raw in _paged_rows(self._json, files):
                record = _envelope_record(index)
                row = dict(_object(path, record, raw))
                _email(path, record, row, "EmailAddress")
                row["Date"] = _local(path, record, row, "Date", zone)
                try:
                    entries.append(SuppressedEmail.from_api(row, zone))
                except (InvalidValueError, InvalidTypeError) as error:
                    problem = (
                        "is missing"
                        if isinstance(error.got, Mapping)
                        else f"must be {error.expected} (got {shown(error.got)})"
                    )
                    raise PlatformFileError(path, record, error.field, problem) from None
            self._suppressed[client_id] = tuple(entries)
        return self._suppressed[client_id]

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        """Run the commands on the list states held in memory (the files stay as they are),
        as the platform would: an unknown list fails that command only."""
        states = self._list_states(client_id)
        results = []
        for command in commands:
            members = states.get(command.list_id)
            if members is None:
                results.append(CommandResult(command, False, "Invalid ListID"))
                continue
            results.append(self._run(members, command))
            if isinstance(command, ImportSubscribers):
                self._keep_values(client_id, command)
        return tuple(results)

    def _run(self, members: dict[str, _Member], command: PlatformCommand) -> CommandResult:
        now = ensure_utc(self.clock(), "clock")
        result, changes = run_on_list(
            command, lambda key: None if (found := members.get(key)) is None else found[1]
        )
        for change in changes:
            if change.added:
                members[change.key] = (change.email, change.state, now, now)
            else:
                shown, _state, _at, added = members[change.key]
                members[change.key] = (shown, change.state, now, added)
        return result

    # -- custom fields (field mappings) -----------------------------------------------------

    def _list_folder(self, client_id: str, list_id: str) -> Path:
        if list_id not in self._list_states(client_id):
            raise InvalidValueError(
                "list_id", f"a list of client {client_id!r} (its lists.json)", list_id
            )
        return self.folder / "lists" / list_id

    def custom_fields(self, client_id: str, list_id: str) -> Sequence[PlatformField]:
        """The list's fields from ``lists/<ListID>/customfields.json`` (missing: none),
        with the fields :meth:`create_custom_field` added."""
        folder = self._list_folder(client_id, list_id)
        if list_id not in self._fields:
            path = folder / "customfields.json"
            fields: list[PlatformField] = []
            if self._json.exists(path):
                rows = self._json.load(path)
                if not isinstance(rows, list):
                    raise PlatformFileError(
                        path, "file", None, f"must be a list of fields (got {_kind(rows)})"
                    )
                for index, raw in enumerate(rows):
                    try:
                        fields.append(field_from_api(_object(path, f"[{index}]", raw)))
                    except (InvalidValueError, InvalidTypeError) as error:
                        problem = f"must be {error.expected} (got {shown(error.got)})"
                        raise PlatformFileError(path, f"[{index}]", error.field, problem) from None
            self._fields[list_id] = fields
        return tuple(self._fields[list_id])

    def create_custom_field(
        self, client_id: str, list_id: str, field: PlatformField
    ) -> PlatformField:
        """Add a field to the list as served from now on (the files stay as they are)."""
        if not isinstance(field, PlatformField):
            raise InvalidTypeError("field", "a PlatformField", field)
        have = self.custom_fields(client_id, list_id)
        created = PlatformField(field.name, field.data_type, field.options)
        if any(f.key.casefold() == platform_key(field.name).casefold() for f in have):
            raise InvalidValueError("field", "a field name the list does not have", field.name)
        self._fields[list_id].append(created)
        return created

    def subscriber_values(self, client_id: str, list_id: str) -> Sequence[PlatformSubscriber]:
        """The Active subscribers with the ``Name`` and ``CustomFields`` of their rows in
        ``lists/<ListID>/active.json`` (every page), as imports have updated them."""
        fields = self.custom_fields(client_id, list_id)
        members = self._list_states(client_id)[list_id]
        folder = self._list_folder(client_id, list_id)
        read: dict[str, PlatformSubscriber] = {}
        for page, index, raw in _paged_rows(self._json, _page_files(self._json, folder, "active")):
            record = _envelope_record(index)
            row = _object(page, record, raw)
            try:
                subscriber = subscriber_from_api(list_id, row, fields)
            except (InvalidValueError, InvalidTypeError) as error:
                problem = f"must be {error.expected} (got {shown(error.got)})"
                raise PlatformFileError(page, record, error.field, problem) from None
            read[email_key(subscriber.email)] = subscriber
        read.update(self._values.get(list_id, {}))
        found = []
        for key, (email, state, _at, _added) in members.items():
            if state is SubscriberState.ACTIVE:
                found.append(read.get(key) or PlatformSubscriber(list_id, email))
        return tuple(found)

    def _keep_values(self, client_id: str, command: ImportSubscribers) -> None:
        """An import sets the rows' names and the values of fields the list has."""
        known = {f.key for f in self.custom_fields(client_id, command.list_id)}
        held = self._values.setdefault(command.list_id, {})
        before = {email_key(s.email): s for s in self.subscriber_values(client_id, command.list_id)}
        for row in command.subscribers:
            old = held.get(email_key(row.email)) or before.get(email_key(row.email))
            values = dict(old.custom_fields) if old else {}
            values.update({k: v for k, v in row.custom_fields.items() if k in known})
            name = row.name or (old.name if old else "")
            held[email_key(row.email)] = PlatformSubscriber(
                command.list_id, row.email, name, values
            )
