"""Campaign Monitor's times: naive local times of the client's zone, read once at the edge.

The platform gives a date-time as text without an offset (``"2010-10-11 08:29:00"``),
in the time zone of the client it belongs to.  :func:`parse_local_datetime` reads that
text; :func:`localise` makes it a UTC instant with an explicit policy for DST gaps and
folds; :func:`wall_minute` writes an instant back as the client's wall time, the way the
API's ``date`` filters take it.  Both platform adapters (the API and the file folder) read
their times through these.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["DATE_EXAMPLE", "localise", "parse_local_datetime", "wall_minute"]

#: How a platform date-time looks (for error messages).
DATE_EXAMPLE = "a naive local date-time like '2010-10-11 08:29:00'"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_local_datetime(text: object, field: str = "Date") -> datetime:
    """A platform date-time (``"2010-10-11 08:29:00"``) as a naive ``datetime``."""
    if not isinstance(text, str):
        raise InvalidTypeError(field, DATE_EXAMPLE, text)
    if not _DATE_TIME.match(text.strip()):
        raise InvalidValueError(field, DATE_EXAMPLE, text)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValueError(field, DATE_EXAMPLE, text) from None
    if parsed.tzinfo is not None:
        raise InvalidValueError(
            field, DATE_EXAMPLE, text, detail="the API gives local times without an offset"
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


def wall_minute(since: datetime, zone: tzinfo) -> str:
    """``since`` as the client's local wall time ``"YYYY-MM-DD HH:MM"``, rounded up to the
    whole minute (the platform's precision, so no event before ``since`` is served)."""
    instant = ensure_utc(since, "since")
    minute = instant.replace(second=0, microsecond=0)
    if minute < instant:
        minute += timedelta(minutes=1)
    return minute.astimezone(zone).strftime("%Y-%m-%d %H:%M")
