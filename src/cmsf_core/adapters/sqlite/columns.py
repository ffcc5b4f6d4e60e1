"""How the store holds values in its columns and reads them back: instants as integer
microseconds since the Unix epoch (UTC), JSON text, flags; every read value is checked
(:class:`_BadValueError` says what the column should hold).  Bulk reads ask for their rows
a chunk of ``IN (...)`` parameters at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.records.campaigns import MemberStatus
from cmsf_core.domain.records.platform import CampaignSummary
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.timeutil import UNIX_EPOCH as _EPOCH

_MICRO = timedelta(microseconds=1)
_MAX_INSTANT = (datetime(9999, 12, 31, 23, 59, tzinfo=UTC) - _EPOCH) // _MICRO
_MIN_INSTANT = (datetime(1, 1, 2, tzinfo=UTC) - _EPOCH) // _MICRO
_MAX_INT = 2**62
#: The bounds of a record's ``occurred_at`` (whole seconds; ``micro`` holds the rest).
_MIN_SECOND = _MIN_INSTANT // 1_000_000
_MAX_SECOND = _MAX_INSTANT // 1_000_000
_CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit
_WRITE_BATCH = 50_000  # records held as rows at once by insert_records


def _to_int(at: datetime) -> int:
    return (at - _EPOCH) // _MICRO


def _to_dt(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


T = TypeVar("T")
P = ParamSpec("P")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marked(items: Iterable[T]) -> Iterator[tuple[str, list[T]]]:
    """The ``?, ?, ...`` of an ``IN (...)`` and its parameters, a chunk of ``items`` at a
    time, in their order."""
    for chunk in _chunks(list(items)):
        yield ",".join("?" * len(chunk)), list(chunk)


def _by_campaign(refs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, list[str]]]:
    """The members of ``refs`` (campaign_id, member_id) a campaign and a chunk at a time:
    (campaign_id, the ``?, ?, ...`` of an ``IN (...)``, member ids), for a search by the
    index on (campaign_id, member_id)."""
    grouped: dict[str, dict[str, None]] = {}
    for campaign_id, member_id in refs:
        grouped.setdefault(campaign_id, {})[member_id] = None
    for campaign_id, members in grouped.items():
        for marks, chunk in _marked(members):
            yield campaign_id, marks, chunk


# ----------------------------------------------------------------------------- reading values


class _BadValueError(ValueError):
    """A column value that breaks its rule: ``expected`` says what the column holds."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        super().__init__(expected)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _BadValueError("non-empty text")
    return value


def _opt_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _integer(value: object, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _BadValueError(what)
    return value


def _instant(value: object) -> datetime:
    return _to_dt(_integer(value, _MIN_INSTANT, _MAX_INSTANT, "an instant (integer µs)"))


def _opt_instant(value: object) -> datetime | None:
    return None if value is None else _instant(value)


def _flag(value: object) -> bool:
    return bool(_integer(value, 0, 1, "0 or 1"))


def _type_name(value: object) -> ActivityType:
    if not isinstance(value, str) or value not in ActivityType.__members__:
        raise _BadValueError("an activity type name (" + ", ".join(ActivityType.__members__) + ")")
    return ActivityType[value]


def _type_code(value: object) -> ActivityType:
    if type(value) is not int or not 0 <= value < len(_CODE_TYPES):
        raise _BadValueError(
            "an activity type code ("
            + ", ".join(f"{code} {t.name}" for code, t in enumerate(_CODE_TYPES))
            + ")"
        )
    return _CODE_TYPES[value]


def _second(value: object) -> int:
    return _integer(value, _MIN_SECOND, _MAX_SECOND, "an instant (integer seconds)")


def _micro(value: object) -> int:
    return _integer(value, 0, 999_999, "microseconds within a second (0 to 999999)")


def _record_email(value: object) -> str | None:
    """A record's ``email``: None, ``''`` (its member id, filled in by the reader) or text."""
    return None if value is None or value == "" else _text(value)


def _json(value: object) -> Any:
    if not isinstance(value, str):
        raise _BadValueError("JSON text")
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise _BadValueError("JSON text") from None


def _engagement(value: object) -> Engagement:
    counts = _json(value)
    if (
        not isinstance(counts, list)
        or len(counts) != len(attrs.fields(Engagement))
        or any(type(c) is not int or not 0 <= c <= _MAX_INT for c in counts)
    ):
        raise _BadValueError(f"a JSON list of {len(attrs.fields(Engagement))} counts >= 0")
    return Engagement(*counts)


def _statuses(value: object) -> tuple[MemberStatus, ...]:
    rows = _json(value)
    shape = "a JSON list of [label, is_default, has_responded, sort_order]"
    if not isinstance(rows, list) or not rows:
        raise _BadValueError(shape)
    found = []
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) != 4
            or type(row[1]) is not bool
            or type(row[2]) is not bool
            or type(row[3]) is not int
        ):
            raise _BadValueError(shape)
        found.append(
            MemberStatus(row[0], is_default=row[1], has_responded=row[2], sort_order=row[3])
        )
    return tuple(found)


def _statistics(value: object) -> CampaignSummary | None:
    if value is None:
        return None
    fields = _json(value)
    names = {f.name for f in attrs.fields(CampaignSummary)}
    if not isinstance(fields, dict) or not set(fields) <= names:
        raise _BadValueError("a JSON object of campaign statistics")
    return CampaignSummary(**fields)


def _tags(value: object) -> list[str]:
    tags = _json(value)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _BadValueError("a JSON list of tags")
    return tags


def _pending(value: object) -> list[tuple[tuple[str, str], RefreshCause]]:
    rows = _json(value)
    shape = "a JSON list of [[campaign_id, member_id], cause]"
    if not isinstance(rows, list):
        raise _BadValueError(shape)
    found = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 2
            and isinstance(row[0], list)
            and len(row[0]) == 2
            and all(isinstance(part, str) for part in row[0])
            and row[1] in {c.value for c in RefreshCause}
        ):
            raise _BadValueError(shape)
        found.append(((row[0][0], row[0][1]), RefreshCause(row[1])))
    return found


def _any_text(value: object) -> str:
    if not isinstance(value, str):
        raise _BadValueError("text")
    return value


def _engagement_json(engagement: Engagement) -> str:
    return json.dumps(attrs.astuple(engagement))


_READ_ERRORS = (CmsfError, KeyError, ValueError, TypeError, OverflowError, IndexError)
_TYPES = ActivityType.__members__
#: The integer code of each activity type in ``records.type`` (fixed: never renumbered).
TYPE_CODES = {
    "SENT": 0,
    "OPENED": 1,
    "CLICKED": 2,
    "BOUNCED": 3,
    "UNSUBSCRIBED": 4,
    "SPAM_COMPLAINT": 5,
}
_CODE_TYPES = tuple(ActivityType[name] for name in sorted(TYPE_CODES, key=TYPE_CODES.__getitem__))
#: The code of each activity type, by the type itself.
_CODE_OF = {ActivityType[name]: code for name, code in TYPE_CODES.items()}
