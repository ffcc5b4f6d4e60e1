"""Retention: the rolling window of tracking records kept in the CRM (``DaysToKeep_Email``).

A record is purged when it occurred strictly before its type's cutoff
(``as_of`` minus the days kept, a day being 24 hours); nothing at or after the cutoff is
ever deleted.  Purged records stay on the platform and a full sync can re-import them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

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
    return dict(_cutoffs(settings, as_of))


#: The last (settings, as_of, cutoffs) computed: a sync applies one settings object at one
#: ``as_of`` to every member, so the six cutoffs are computed once, not once per member.
#: One tuple in a one-item list, replaced whole, so concurrent callers see either the old
#: entry or the new.
_LAST: list[tuple[Settings, datetime, dict[ActivityType, datetime]] | None] = [None]


def _cutoffs(settings: Settings, as_of: datetime) -> dict[ActivityType, datetime]:
    """:func:`retention_cutoffs`, kept for the settings object and the stdlib UTC ``as_of``
    last asked about (the caller must not change the dict it gets)."""
    last = _LAST[0]
    if (
        last is not None
        and last[0] is settings
        and type(as_of) is datetime
        and as_of.tzinfo is UTC
        and as_of == last[1]
    ):
        return last[2]
    as_of = ensure_utc(as_of, "as_of")
    cutoffs = {t: settings.retention_cutoff(t, as_of) for t in ActivityType}
    _LAST[0] = (settings, as_of, cutoffs)
    return cutoffs


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
    cutoffs = _cutoffs(settings, as_of)
    kept: list[Activity] = []
    purged: list[Activity] = []
    keep, purge = kept.append, purged.append
    for activity in activities:
        if not isinstance(activity, Activity):
            raise InvalidTypeError("activities", "Activity records", activity)
        if activity.occurred_at < cutoffs[activity.type]:
            purge(activity)
        else:
            keep(activity)
    outcome = _new(Retention)  # Retention(kept, purged) without attrs' frozen-setattr path
    _kept(outcome, tuple(kept))
    _purged(outcome, tuple(purged))
    return outcome


_new = object.__new__
_kept, _purged = (vars(Retention)[name].__set__ for name in ("kept", "purged"))
