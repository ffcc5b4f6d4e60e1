"""One field of an export row, read strictly: every problem a :class:`PlatformFileError`
naming the file, the record and the field (an id that could leave the export folder, an
address that is none, a date outside the calendar, a negative count).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from cmsf_core.adapters.campaign_monitor.local_times import (
    DATE_EXAMPLE,
    localise,
    parse_local_datetime,
)
from cmsf_core.adapters.files.errors import PlatformFileError
from cmsf_core.domain.emails import email_problem, normalise_email
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError, shown

__all__ = [
    "count_field",
    "email_field",
    "envelope_record",
    "file_id",
    "json_object",
    "kind_of",
    "local_time",
    "optional_text",
    "refused_row",
    "required_text",
]

#: The longest id (``ClientID``, ``CampaignID``, ``ListID``) used as a file name, in bytes.
_MAX_ID_BYTES = 200
#: Names Windows reads as devices whatever the folder: never an id.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}
)


def envelope_record(index: int) -> str:
    """Where row ``index`` of a paged envelope is: ``"Results[3]"``."""
    return f"Results[{index}]"


def kind_of(value: object) -> str:
    """The JSON kind of a parsed value, for messages that must not echo whole rows."""
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return shown(value)


def json_object(path: Path, record: str, value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else the error naming ``record``."""
    if not isinstance(value, Mapping):
        raise PlatformFileError(path, record, None, f"must be a JSON object (got {kind_of(value)})")
    return value


def required_text(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    """The row's non-empty text ``field``, trimmed."""
    if field not in row or row[field] is None:
        raise PlatformFileError(path, record, field, "is missing")
    value = row[field]
    if not isinstance(value, str) or not value.strip():
        raise PlatformFileError(path, record, field, f"must be non-empty text (got {shown(value)})")
    return value.strip()


def optional_text(path: Path, record: str, row: Mapping[str, Any], field: str) -> str | None:
    """The row's text ``field``, trimmed, or ``None`` when it is absent or blank."""
    value = row.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PlatformFileError(path, record, field, f"must be text (got {shown(value)})")
    return value.strip() or None


def file_id(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    """An id that names a folder of the export (``ClientID``, ``CampaignID``, ``ListID``):
    one plain path segment, so that the path built from it stays inside the folder."""
    value = required_text(path, record, row, field)
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


def email_field(path: Path, record: str, row: Mapping[str, Any], field: str) -> str:
    """A row's address, trimmed, if it is one (DESIGN §8); the error does not echo it."""
    value = required_text(path, record, row, field)
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


def local_time(
    path: Path, record: str, row: Mapping[str, Any], field: str, zone: tzinfo
) -> datetime:
    """The row's date-time ``field`` (naive, local to ``zone``) as a UTC instant."""
    if field not in row or row[field] is None:
        raise PlatformFileError(path, record, field, "is missing")
    value = row[field]
    try:
        if isinstance(value, str):
            return _localised(value, zone, field)
        return localise(parse_local_datetime(value, field), zone)
    except CmsfError:
        raise PlatformFileError(
            path, record, field, f"must be {DATE_EXAMPLE} (got {shown(row[field])})"
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


def count_field(path: Path, record: str, value: object, field: str) -> int:
    """``value`` if it is a count (an ``int`` >= 0)."""
    if type(value) is not int or value < 0:
        raise PlatformFileError(path, record, field, f"must be a count >= 0 (got {shown(value)})")
    return value


def refused_row(
    path: Path, record: str, error: InvalidValueError | InvalidTypeError
) -> PlatformFileError:
    """The file error of a row a reader refused: the field, and what it must be."""
    return PlatformFileError(
        path, record, error.field, f"must be {error.expected} (got {shown(error.got)})"
    )
