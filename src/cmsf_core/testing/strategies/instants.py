"""Strategies for instants: UTC instants, clock changes (DST edges) in the zones worth
testing, instants as they come (a zone, an offset, pendulum), and time zones.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

#: Zones whose clock changes are worth testing: the usual hour (London, New York,
#: Sydney), half an hour (Lord Howe), at midnight (Santiago) and at +12:45 (Chatham).
DST_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
)

#: Client time zones: UTC first (the simplest), the DST zones, and one without DST.
TIME_ZONES = ("UTC", *DST_ZONES, "Asia/Kolkata")

#: The first instant :func:`utc_instants` draws (and shrinks to) by default.
_MIN_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)
_MAX_INSTANT = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
_DST_YEARS = (2024, 2025)
_MINUTE = timedelta(minutes=1)


def utc_instants(
    min_value: datetime = _MIN_INSTANT, max_value: datetime = _MAX_INSTANT
) -> st.SearchStrategy[datetime]:
    """Aware UTC instants from ``min_value`` to ``max_value`` (both aware), to the second.

    Shrinks to ``min_value`` (by default 2024-01-01 00:00 UTC).
    """
    low = min_value.astimezone(UTC).replace(microsecond=0)
    span = int((max_value.astimezone(UTC) - low).total_seconds())
    return st.integers(min_value=0, max_value=max(span, 0)).map(
        lambda seconds: low + timedelta(seconds=seconds)
    )


@functools.cache
def dst_transitions(zone: str, years: tuple[int, ...] = _DST_YEARS) -> tuple[datetime, ...]:
    """The instants (UTC) at which ``zone``'s UTC offset changes during ``years``.

    Found by reading the zone's offset once a day and then minute by minute around each
    change; the result is cached, so it is computed once per zone and years.

    >>> [t.isoformat() for t in dst_transitions("Europe/London", (2024,))]
    ['2024-03-31T01:00:00+00:00', '2024-10-27T01:00:00+00:00']
    """
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    for year in sorted(set(years)):
        day = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC)
        offset = day.astimezone(tz).utcoffset()
        while day < end:
            following = day + timedelta(days=1)
            next_offset = following.astimezone(tz).utcoffset()
            if next_offset != offset:
                low, high = 0, 24 * 60  # minutes after ``day``: old offset at low, new at high
                while high - low > 1:
                    middle = (low + high) // 2
                    if (day + middle * _MINUTE).astimezone(tz).utcoffset() == offset:
                        low = middle
                    else:
                        high = middle
                found.append(day + high * _MINUTE)
                offset = next_offset
            day = following
    return tuple(found)


def dst_edge_instants(
    zones: Sequence[str] = DST_ZONES, years: Sequence[int] = _DST_YEARS
) -> st.SearchStrategy[datetime]:
    """Whole-minute instants within two hours of a clock change of one of ``zones``,
    given in that zone (an instant in a repeated hour carries ``fold=1`` the second time).

    Shrinks to the first change of the first zone, exactly: 2024-03-31 02:00 in
    Europe/London (01:00 UTC), the first instant after the spring-forward gap.
    """
    changes = [
        (ZoneInfo(zone), change) for zone in zones for change in dst_transitions(zone, tuple(years))
    ]
    return st.builds(
        lambda zone_change, minutes: (zone_change[1] + minutes * _MINUTE).astimezone(
            zone_change[0]
        ),
        st.sampled_from(changes),
        st.integers(min_value=-120, max_value=120),
    )


def _represented(instant: datetime, how: str) -> datetime:
    if how == "utc":
        return instant.astimezone(UTC)
    if how == "offset":
        return instant.astimezone(timezone(timedelta(hours=5, minutes=30)))
    if how == "pendulum":
        import pendulum  # noqa: PLC0415 - a core dependency, imported only when drawn

        return pendulum.instance(instant).in_timezone("America/New_York")
    return instant


def activity_times() -> st.SearchStrategy[datetime]:
    """Aware instants for records and Activity Dates: anywhere in 2024-2025 or at a DST
    edge, given as they came (UTC, a local zone), at a fixed offset or as a pendulum
    ``DateTime``: the library must read them all as the same instant.

    Shrinks to 2024-01-01 00:00 UTC.
    """
    return st.builds(
        _represented,
        st.one_of(utc_instants(), dst_edge_instants()),
        st.sampled_from(("as drawn", "utc", "offset", "pendulum")),
    )


def time_zones() -> st.SearchStrategy[str]:
    """IANA names of client and org time zones (:data:`TIME_ZONES`).  Shrinks to ``"UTC"``."""
    return st.sampled_from(TIME_ZONES)
