"""A tracking stream's rows read into events fast, with the checks of :mod:`.fields`.

:class:`TrackingRows` reads the rows of a stream's page files the way
:meth:`FilePlatform._event <cmsf_core.adapters.files.platform.FilePlatform>` reads one row,
and gives exactly its events, faster: each distinct address is checked once (and the
checked text kept), a date ``"YYYY-MM-DD HH:MM[:SS]"`` is read from the UTC instant of its
local hour (computed once per zone and hour, for the hours without a change of offset)
plus its minutes and seconds, and the event is built without checking its values again
(:meth:`TrackingEvent._trusted <cmsf_core.domain.records.platform.TrackingEvent>`).  A row
it does not read that way (one that is not plain, or bad: a date with a fraction of a
second, in an hour when the clocks change, outside the calendar; a missing or malformed
field) is left to the caller, which reads it with the checking reader: the same event, or
the same error naming the file, the row and the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from cmsf_core.adapters.campaign_monitor.local_times import parse_local_datetime
from cmsf_core.adapters.campaign_monitor.rows import BOUNCE_TYPES
from cmsf_core.adapters.files.errors import PlatformFileError
from cmsf_core.adapters.files.fields import email_field
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.records.platform import TrackingEvent

__all__ = ["TrackingRows"]

#: The most checked addresses (and, per zone, local hours) kept; past it the cache restarts.
CACHE_LIMIT = 1 << 18

#: A local hour as a date text begins: ``2024-05-01 09`` (ASCII digits only).
_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}", re.ASCII)
_LAST_MICROSECOND = timedelta(minutes=59, seconds=59, microseconds=999_999)


@cache
def _tails() -> dict[str, timedelta]:
    """How a date text ends after its hour, ``":MM:SS"`` or ``":MM"`` (ASCII digits, each
    below 60) -> the time since the hour began: the texts of the plain forms, built once."""
    tails = {f":{m:02d}": timedelta(minutes=m) for m in range(60)}
    tails.update(
        {f":{m:02d}:{s:02d}": timedelta(minutes=m, seconds=s) for m in range(60) for s in range(60)}
    )
    return tails


def _hour_start(hour: str, zone: tzinfo) -> datetime | None:
    """The UTC instant of ``hour:00:00`` (``hour`` is ``YYYY-MM-DD HH``) in ``zone``, when
    every time of that local hour is one instant at one offset, else ``None`` (the times of
    an hour when the clocks change, or at the edge of the calendar, are read one by one).

    When a time has the same offset whether read as its first or its second occurrence,
    :func:`localise` gives the wall time less that offset; an hour that begins and ends
    with one offset, both ways, has it throughout (the clocks never change twice, and
    back, within an hour).
    """
    if _HOUR.fullmatch(hour) is None:
        return None
    try:
        start = parse_local_datetime(hour + ":00:00")
        end = start + _LAST_MICROSECOND
        offsets = {
            at.replace(tzinfo=zone, fold=fold).utcoffset() for at in (start, end) for fold in (0, 1)
        }
        if len(offsets) != 1:
            return None
        (offset,) = offsets
        if offset is None:
            return None
        _last = end.replace(tzinfo=UTC) - offset  # OverflowError past the calendar
        return start.replace(tzinfo=UTC) - offset
    except (CmsfError, OverflowError, ValueError):
        return None


class TrackingRows:
    """Reads tracking rows into events, keeping the values it has checked (bounded by
    :data:`CACHE_LIMIT`): the addresses, and per zone the local hours."""

    def __init__(self) -> None:
        self._emails: dict[str, str] = {}
        self._zones: dict[tzinfo, dict[str, datetime | None]] = {}  # zone -> hour -> start

    def _email(self, raw: str) -> str | None:
        """The checked address of ``raw`` (trimmed), or ``None`` when it is not one."""
        try:
            email = email_field(Path(), "", {"EmailAddress": raw}, "EmailAddress")
        except PlatformFileError:
            return None
        if len(self._emails) >= CACHE_LIMIT:
            self._emails.clear()
        self._emails[raw] = email
        return email

    def _hours_in(self, zone: tzinfo) -> dict[str, datetime | None]:
        hours = self._zones.get(zone)
        if hours is None or len(hours) >= CACHE_LIMIT:
            hours = self._zones[zone] = {}
        return hours

    @staticmethod
    def _hour(hours: dict[str, datetime | None], hour: str, zone: tzinfo) -> datetime | None:
        """The UTC start of a local hour (:func:`_hour_start`), computed once per zone."""
        if hour in hours:
            return hours[hour]
        start = hours[hour] = _hour_start(hour, zone)
        return start

    def read(
        self,
        rows: Sequence[Any],
        stream: ActivityType,
        zone: tzinfo,
        sent_at: datetime,
    ) -> tuple[list[TrackingEvent], list[int]]:
        """The events of the ``rows`` read here (in order) and the indexes of the rows left
        to the checking reader; ``sent_at`` is the instant of a recipients row without a
        ``Date``."""
        events: list[TrackingEvent] = []
        left: list[int] = []
        email_of = self._emails.get
        hours = self._hours_in(zone)
        hour_of = hours.get
        tail_of = _tails().get
        trusted = TrackingEvent._trusted
        dated = stream is not ActivityType.SENT
        bounced = stream is ActivityType.BOUNCED
        linked = not bounced and stream is not ActivityType.UNSUBSCRIBED
        append = events.append
        for index, row in enumerate(rows):
            if type(row) is not dict or type(raw := row.get("EmailAddress")) is not str:
                left.append(index)
                continue
            email = email_of(raw) or self._email(raw)
            date = row.get("Date")
            if type(date) is str:  # "YYYY-MM-DD HH" and ":MM:SS" (or ":MM")
                start = hour_of(date[:13])
                tail = tail_of(date[13:])
                if start is None and tail is not None:
                    start = self._hour(hours, date[:13], zone)
                at = None if start is None or tail is None else start + tail
            else:
                at = sent_at if date is None and not dated else None
            if email is None or at is None:
                left.append(index)
                continue
            detail: str | None = None
            if bounced:
                bounce = row.get("BounceType")
                if (
                    type(bounce) is not str
                    or (detail := BOUNCE_TYPES.get(bounce.strip().casefold())) is None
                ):
                    left.append(index)
                    continue
            elif linked and (url := row.get("URL")) is not None:
                if type(url) is not str:
                    left.append(index)
                    continue
                detail = url.strip() or None
            list_id = row.get("ListID")
            if list_id is not None:
                if type(list_id) is not str:
                    left.append(index)
                    continue
                list_id = list_id.strip() or None
            append(trusted(stream, email, at, list_id, detail))
        return events, left
