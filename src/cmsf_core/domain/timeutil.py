"""Aware-datetime checks shared by the values of the domain.

The domain holds every instant as a stdlib ``datetime`` in UTC.  Pendulum ``DateTime``
values (a ``datetime`` subclass) and aware stdlib datetimes are accepted and normalised;
a naive datetime is refused, never guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, NaiveDatetimeError

__all__ = [
    "END_OF_TIME",
    "START_OF_TIME",
    "UNIX_EPOCH",
    "UTC",
    "ensure_utc",
    "ensure_utc_or_none",
]

#: An instant after every real one: the retention cutoff of a type kept for 0 days.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
#: An instant before every real one: the retention cutoff when the window reaches back
#: past the first instant a datetime can hold.
START_OF_TIME = datetime.min.replace(tzinfo=UTC)
#: 1970-01-01 UTC: the origin of the whole minutes and seconds that keys and stores count.
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ZERO = timedelta(0)


def ensure_utc(value: object, field: str) -> datetime:
    """Return ``value`` as a stdlib UTC datetime, or raise naming ``field``."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime):
        raise InvalidTypeError(field, "a timezone-aware datetime", value)
    offset = value.utcoffset()
    if offset is None:
        raise NaiveDatetimeError(field, value)
    # Read the wall clock into a plain stdlib datetime and subtract the offset there: a
    # subclass such as pendulum's DateTime does calendar-aware arithmetic in its own zone,
    # which is an hour off next to a DST change.
    wall = datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=UTC,
    )
    if offset == _ZERO:
        return wall
    try:
        return wall - offset
    except OverflowError:  # 9999-12-31 23:00 at -05:00 is after datetime.max in UTC
        raise InvalidValueError(
            field, "an instant between the years 1 and 9999 in UTC", value
        ) from None


def ensure_utc_or_none(value: object, field: str) -> datetime | None:
    """:func:`ensure_utc`, letting ``None`` through."""
    return None if value is None else ensure_utc(value, field)
