"""Retention: the rolling window of tracking records kept in the CRM (``DaysToKeep_Email``).

A record is purged when it occurred strictly before its type's cutoff
(``as_of`` minus the days kept, a day being 24 hours); nothing at or after the cutoff is
ever deleted.  Purged records stay on the platform and a full sync can re-import them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["Retention", "apply_retention", "retention_cutoffs"]


@attrs.frozen
class Retention:
    """The outcome of a retention pass: what is kept and what is purged, in input order."""

    kept: tuple[Activity, ...]
    purged: tuple[Activity, ...]


def retention_cutoffs(settings: Settings, *, as_of: datetime) -> dict[ActivityType, datetime]:
    """The cutoff instant of every type at ``as_of`` (see :meth:`Settings.retention_cutoff`)."""
    as_of = ensure_utc(as_of, "as_of")
    return {t: settings.retention_cutoff(t, as_of) for t in ActivityType}


def apply_retention(
    activities: Iterable[Activity], settings: Settings, *, as_of: datetime
) -> Retention:
    """Split records into kept and purged by each type's retention window at ``as_of``.

    >>> from datetime import datetime, timedelta, UTC
    >>> now = datetime(2024, 6, 1, tzinfo=UTC)
    >>> old = Activity("c", "m", ActivityType.OPENED, now - timedelta(days=200))
    >>> apply_retention([old], Settings(), as_of=now).purged == (old,)
    True
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    cutoffs = retention_cutoffs(settings, as_of=as_of)
    kept: list[Activity] = []
    purged: list[Activity] = []
    for activity in activities:
        if not isinstance(activity, Activity):
            raise InvalidTypeError("activities", "Activity records", activity)
        (purged if activity.occurred_at < cutoffs[activity.type] else kept).append(activity)
    return Retention(tuple(kept), tuple(purged))
