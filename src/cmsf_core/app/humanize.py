"""Times as the command says them to people: "in 47 minutes", "3 hours ago", "7 days".

These phrases are where pendulum earns its place (``diff_for_humans``, ``in_words``,
zone abbreviations such as ``BST``).  It is imported inside each function, never at
import time, and only here: the sync's hot paths and the domain use the standard library.
Each function takes the instant to count from (``now``) as an argument; none reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["duration", "last_synced", "local_time", "relative"]

#: Closer than this to ``now``, an instant is "now" (pendulum would say "a few seconds").
_NOW = timedelta(seconds=1)


def relative(instant: datetime, now: datetime) -> str:
    """``instant`` seen from ``now``: ``"in 47 minutes"``, ``"3 hours ago"`` or ``"now"``.

    Units are rounded down (59 minutes 30 seconds is "59 minutes"), as pendulum does.

    >>> from datetime import datetime, UTC
    >>> relative(datetime(2024, 5, 1, 9, 47, tzinfo=UTC), datetime(2024, 5, 1, 9, tzinfo=UTC))
    'in 47 minutes'
    >>> relative(datetime(2024, 5, 1, 6, tzinfo=UTC), datetime(2024, 5, 1, 9, tzinfo=UTC))
    '3 hours ago'
    """
    import pendulum  # noqa: PLC0415 - only where a time is told to a person

    then = ensure_utc(instant, "instant")
    base = ensure_utc(now, "now")
    if abs(then - base) < _NOW:
        return "now"
    words = pendulum.instance(then).diff_for_humans(pendulum.instance(base), absolute=True)
    return f"in {words}" if then > base else f"{words} ago"


def duration(span: timedelta) -> str:
    """A length of time in words, to the second: ``"7 days"``, ``"1 hour 30 minutes"``.

    >>> from datetime import timedelta
    >>> duration(timedelta(days=7)), duration(timedelta(minutes=90)), duration(timedelta())
    ('1 week', '1 hour 30 minutes', '0 seconds')
    """
    import pendulum  # noqa: PLC0415

    if not isinstance(span, timedelta):
        raise InvalidTypeError("span", "a timedelta", span)
    seconds = int(abs(span).total_seconds())
    if seconds == 0:
        return "0 seconds"
    return str(pendulum.duration(seconds=seconds).in_words())


def local_time(instant: datetime, tz: tzinfo | str) -> str:
    """``instant`` on the clock of ``tz``, with the zone's abbreviation: ``2024-03-31 02:00 BST``.

    >>> from datetime import datetime, UTC
    >>> local_time(datetime(2024, 3, 31, 1, tzinfo=UTC), "Europe/London")
    '2024-03-31 02:00 BST'
    """
    import pendulum  # noqa: PLC0415

    from cmsf_core.domain.schedule import resolve_zone  # noqa: PLC0415

    zone = resolve_zone(tz)
    local = pendulum.instance(ensure_utc(instant, "instant")).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def last_synced(value: datetime | None, now: datetime) -> str:
    """A clients-table cell: ``"last synced 3 hours ago"`` or ``"never synced"``.

    >>> from datetime import datetime, UTC
    >>> last_synced(datetime(2024, 5, 1, 6, tzinfo=UTC), datetime(2024, 5, 1, 9, tzinfo=UTC))
    'last synced 3 hours ago'

    A time after ``now`` (a clock set back) is given as it is, never as "in 3 hours".
    """
    if value is None:
        return "never synced"
    if ensure_utc(value, "value") > ensure_utc(now, "now") + _NOW:  # a clock set back
        return f"last synced at {value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"last synced {relative(value, now)}"
