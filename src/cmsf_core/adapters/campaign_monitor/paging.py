"""Campaign Monitor's paging: a tracking page asked for, served, and read back.

The API serves a stream a page at a time, in an envelope (``Results``, ``PageNumber``,
``PageSize``, ``NumberOfPages``, ``TotalNumberOfRecords``).  :func:`tracking_request`
checks what an adapter's ``tracking_page`` is asked; :func:`serve_page` serves one page of
a time-ordered stream held in memory as the API would (the file platform's export, the
in-memory fake); :func:`every_row` and :func:`rows_of` read the API's answers back.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from cmsf_core.adapters.campaign_monitor.rows import value
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records.platform import (
    SkippedRow,
    TrackingEvent,
    TrackingPage,
    check_page_request,
)
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["every_row", "rows_of", "serve_page", "tracking_request"]


def tracking_request(
    stream: object, since: datetime | None, page: int, page_size: int, limit: int
) -> tuple[ActivityType, datetime | None]:
    """The stream and the UTC ``since`` of a tracking page request, once the page number
    and size are checked against the API's ``limit``."""
    check_page_request(page, page_size, limit)
    parsed = ActivityType.parse(stream, "stream")
    return parsed, None if since is None else ensure_utc(since, "since")


def serve_page(
    events: Sequence[TrackingEvent],
    *,
    since: datetime | None,
    page: int,
    page_size: int,
    skipped: Sequence[SkippedRow] = (),
) -> TrackingPage:
    """Page ``page`` of the events (sorted by time) on or after ``since`` (UTC; ``None``:
    all), as the API pages them: at least one page, even for no events."""
    skip = 0  # the stream is sorted: the events before ``since`` are a prefix
    if since is not None:
        skip = bisect_left(events, since, key=lambda e: e.occurred_at)
    total = len(events) - skip
    first = skip + (page - 1) * page_size
    return TrackingPage(
        tuple(events[first : first + page_size]),
        page_number=page,
        page_size=page_size,
        number_of_pages=max(1, -(-total // page_size)),
        total_number_of_records=total,
        skipped=tuple(skipped),
    )


def every_row(fetch: Callable[[int], Any]) -> Iterator[Any]:
    """Every row of a paged endpoint, page 1 to the last (``fetch(n)`` answers page n)."""
    number = 1
    while True:
        envelope = fetch(number)
        yield from value(envelope, "Results", None) or ()
        if number >= int(value(envelope, "NumberOfPages", 0) or 0):
            return
        number += 1


def rows_of(answer: Any) -> Sequence[Any]:
    """A list answer, or the ``Results`` of a paging envelope (API versions differ)."""
    if isinstance(answer, list | tuple):
        return answer
    results = value(answer, "Results", None)
    return results or ()
