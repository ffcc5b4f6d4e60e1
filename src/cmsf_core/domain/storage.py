"""How much CRM record storage the integration uses, now or under other settings.

The product's figure: each CRM record takes about 2 KB, so 10,000 subscribers take about
20 MB.  :func:`estimate_storage` applies it to current record counts;
:func:`what_if_storage` estimates the tracking records kept at steady state from daily
volumes per activity type and the retention settings (days to keep, per-type overrides,
imported types), which is how an admin judges "the last 90 days of sent emails only".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.settings import Settings

__all__ = [
    "RECORD_SIZE_BYTES",
    "StorageEstimate",
    "StorageLine",
    "estimate_storage",
    "format_size",
    "what_if_storage",
]

#: The size the CRM counts for one record: about 2 KB.
RECORD_SIZE_BYTES = 2 * 1024

_UNITS = ("B", "KB", "MB", "GB", "TB")

#: Record counts by kind: labels, activity types, or both.
Counts = Mapping[str, int] | Mapping[ActivityType, int] | Mapping[str | ActivityType, int]
#: Records a day by activity type (names or members).
Volumes = Mapping[str, float] | Mapping[ActivityType, float] | Mapping[str | ActivityType, float]


def format_size(size_bytes: int) -> str:
    """A size in bytes as the CRM's storage pages show it (1 KB = 1,024 bytes).

    >>> format_size(2048), format_size(20_480_000), format_size(0)
    ('2.0 KB', '19.5 MB', '0 B')
    """
    if isinstance(size_bytes, bool) or not isinstance(size_bytes, int):
        raise InvalidTypeError("size_bytes", "an int", size_bytes)
    if size_bytes < 0:
        raise InvalidValueError("size_bytes", ">= 0", size_bytes)
    if size_bytes < 1024:
        return f"{size_bytes} B"
    value = float(size_bytes)
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:,.1f} {_UNITS[unit]}"


def _check_count(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(attribute.name, "a whole number", value)
    if value < 0:
        raise InvalidValueError(attribute.name, ">= 0", value)


def _check_label(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidTypeError("label", "a record kind (str)", value)
    if not value.strip():
        raise InvalidValueError("label", "a non-empty record kind", value)


@attrs.frozen
class StorageLine:
    """One kind of record: how many, how many bytes, and a note on how it was counted."""

    label: str = attrs.field(validator=_check_label)
    records: int = attrs.field(validator=_check_count)
    size_bytes: int = attrs.field(validator=_check_count)
    note: str = ""


def _to_lines(value: object) -> tuple[StorageLine, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise InvalidTypeError("lines", "StorageLine values", value)
    for line in value:
        if not isinstance(line, StorageLine):
            raise InvalidTypeError("lines", "StorageLine values", line)
    return tuple(value)


@attrs.frozen
class StorageEstimate:
    """Records and bytes per kind of record, with totals; ``str`` gives a table.

    >>> print(estimate_storage({"Subscribers": 10_000}))
    Records       Count     Size
    Subscribers  10,000  19.5 MB
    Total        10,000  19.5 MB
    """

    lines: tuple[StorageLine, ...] = attrs.field(converter=_to_lines)

    @property
    def total_records(self) -> int:
        """All records counted."""
        return sum(line.records for line in self.lines)

    @property
    def total_bytes(self) -> int:
        """The storage of all records counted, in bytes."""
        return sum(line.size_bytes for line in self.lines)

    def line(self, label: str | ActivityType) -> StorageLine:
        """The line of one kind of record (an activity type or a label)."""
        wanted = label.value if isinstance(label, ActivityType) else label
        for line in self.lines:
            if line.label == wanted:
                return line
        raise InvalidValueError(
            "label", "one of " + ", ".join(repr(x.label) for x in self.lines), label
        )

    def __str__(self) -> str:
        """A table of records and sizes per kind, notes last, and the total."""
        rows = [
            (line.label, f"{line.records:,}", format_size(line.size_bytes), line.note)
            for line in self.lines
        ]
        rows.append(("Total", f"{self.total_records:,}", format_size(self.total_bytes), ""))
        header = ("Records", "Count", "Size", "")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        out = []
        for label, count, size, note in [header, *rows]:
            text = f"{label:<{widths[0]}}  {count:>{widths[1]}}  {size:>{widths[2]}}"
            out.append(f"{text}  {note}" if note else text)
        return "\n".join(out)


def _check_bytes_per_record(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError("bytes_per_record", "a whole number of bytes", value)
    if value < 1:
        raise InvalidValueError("bytes_per_record", ">= 1", value)
    return value


def _label(key: object, field: str) -> str:
    if isinstance(key, ActivityType):
        return key.value
    if not isinstance(key, str):
        raise InvalidTypeError(field, "record kinds (str or ActivityType)", key)
    if not key.strip():
        raise InvalidValueError(field, "non-empty record kinds", key)
    return key.strip()


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(field, "a whole number of records", value)
    if value < 0:
        raise InvalidValueError(field, ">= 0", value)
    return value


def _counted_lines(counts: Counts | None, field: str, bytes_per_record: int) -> list[StorageLine]:
    if counts is None:
        return []
    if not isinstance(counts, Mapping):
        raise InvalidTypeError(field, "a mapping of record kind to count", counts)
    lines: dict[str, StorageLine] = {}
    for key, value in counts.items():
        label = _label(key, field)
        if label in lines:
            raise InvalidValueError(field, "each record kind once", label)
        records = _count(value, f"{field}[{label}]")
        lines[label] = StorageLine(label, records, records * bytes_per_record)
    return list(lines.values())


def estimate_storage(
    counts: Counts,
    *,
    bytes_per_record: int = RECORD_SIZE_BYTES,
) -> StorageEstimate:
    """The storage taken by current record counts, about 2 KB a record.

    Keys are record kinds ("Subscribers", "Campaign members", ...) or activity types.

    >>> estimate_storage({"Subscribers": 10_000}).total_bytes
    20480000
    """
    size = _check_bytes_per_record(bytes_per_record)
    return StorageEstimate(tuple(_counted_lines(counts, "counts", size)))


def _daily_volume(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTypeError(field, "a number of records a day", value)
    if not math.isfinite(value) or value < 0:
        raise InvalidValueError(field, "a finite number >= 0", value)
    return value


def what_if_storage(
    daily: Volumes,
    settings: Settings,
    *,
    other_records: Counts | None = None,
    bytes_per_record: int = RECORD_SIZE_BYTES,
) -> StorageEstimate:
    """Tracking storage at steady state under ``settings``, from daily volumes per type.

    A type that is imported keeps ``daily volume x days to keep`` records (its per-type
    override, else ``DaysToKeep_Email``), rounded up; a type that is not imported (not
    among the imported types, tracking import off, or 0 days kept) keeps none.  Every
    activity type gets a line, in the product's order; a type missing from ``daily``
    counts as 0 a day.  ``other_records`` (subscribers, campaigns, ...) are added as
    they are.

    >>> s = Settings(days_to_keep=90, imported_types={"Sent"})
    >>> e = what_if_storage({"Sent": 1_000, "Opened": 400}, s)
    >>> e.line("Sent").records, e.line("Opened").records, e.line("Opened").note
    (90000, 0, 'not imported')
    """
    size = _check_bytes_per_record(bytes_per_record)
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(daily, Mapping):
        raise InvalidTypeError("daily", "a mapping of activity type to records a day", daily)
    volumes: dict[ActivityType, float] = {}
    for key, value in daily.items():
        activity_type = ActivityType.parse(key, "daily")
        if activity_type in volumes:
            raise InvalidValueError("daily", "each activity type once", activity_type.value)
        volumes[activity_type] = _daily_volume(value, f"daily[{activity_type.value}]")
    lines = []
    for activity_type in ActivityType:
        days = settings.days_to_keep_for(activity_type)
        volume = volumes.get(activity_type, 0)
        if settings.imports(activity_type):
            records = math.ceil(volume * days)
            note = f"{_plain(volume)} a day x {days} days kept"
        else:
            records = 0
            note = _why_not(settings, activity_type)
        lines.append(StorageLine(activity_type.value, records, records * size, note))
    for line in _counted_lines(other_records, "other_records", size):
        if line.label.casefold() in _TYPE_LABELS:
            raise InvalidValueError(
                "other_records", "record kinds other than activity types", line.label
            )
        lines.append(line)
    return StorageEstimate(tuple(lines))


_TYPE_LABELS = frozenset(t.value.casefold() for t in ActivityType)


def _plain(volume: float) -> str:
    return f"{volume:,.0f}" if float(volume).is_integer() else f"{volume:,.2f}"


def _why_not(settings: Settings, activity_type: ActivityType) -> str:
    if not settings.import_tracking:
        return "tracking import off"
    if activity_type not in settings.imported_types:
        return "not imported"
    return "0 days kept"
