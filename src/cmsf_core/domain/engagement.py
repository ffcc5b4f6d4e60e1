"""Rollups: a member's counters as a pure function of its stored tracking records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.checks import check_count

__all__ = ["Engagement", "rollup"]


_FIELD_OF_TYPE: dict[ActivityType, str] = {
    ActivityType.SENT: "sent",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam_complaints",
}


@attrs.frozen
class Engagement:
    """The rollup counters of a campaign member (Opens, Clicks, ...).

    >>> Engagement(opens=1) + Engagement(opens=2, clicks=1)
    Engagement(sent=0, opens=3, clicks=1, bounces=0, unsubscribes=0, spam_complaints=0)
    """

    sent: int = attrs.field(default=0, validator=check_count)
    opens: int = attrs.field(default=0, validator=check_count)
    clicks: int = attrs.field(default=0, validator=check_count)
    bounces: int = attrs.field(default=0, validator=check_count)
    unsubscribes: int = attrs.field(default=0, validator=check_count)
    spam_complaints: int = attrs.field(default=0, validator=check_count)

    def __add__(self, other: object) -> Engagement:
        if not isinstance(other, Engagement):
            return NotImplemented
        return Engagement(
            self.sent + other.sent,
            self.opens + other.opens,
            self.clicks + other.clicks,
            self.bounces + other.bounces,
            self.unsubscribes + other.unsubscribes,
            self.spam_complaints + other.spam_complaints,
        )

    def count(self, activity_type: ActivityType) -> int:
        """The counter of one activity type."""
        value: int = getattr(self, _FIELD_OF_TYPE[activity_type])
        return value

    @classmethod
    def from_counts(cls, counts: dict[ActivityType, int]) -> Engagement:
        """Build from a count per activity type (missing types count 0)."""
        return cls(**{_FIELD_OF_TYPE[t]: n for t, n in counts.items()})

    @staticmethod
    def _trusted(
        sent: int, opens: int, clicks: int, bounces: int, unsubscribes: int, spam_complaints: int
    ) -> Engagement:
        """Internal: the counters built from ``int`` values ``>= 0`` the caller has counted.

        No validator runs; for such values the result equals ``Engagement(...)`` of them.
        """
        self = _new(Engagement)
        _sent(self, sent)
        _opens(self, opens)
        _clicks(self, clicks)
        _bounces(self, bounces)
        _unsubscribes(self, unsubscribes)
        _spam_complaints(self, spam_complaints)
        return self


_new = object.__new__
# The slots' own setters (what the attrs ``__init__`` calls once its checks have passed).
_sent, _opens, _clicks, _bounces, _unsubscribes, _spam_complaints = (
    vars(Engagement)[name].__set__ for name in attrs.fields_dict(Engagement)
)


def rollup(activities: Iterable[Activity]) -> Engagement:
    """Count the stored records per type: the member's counters, recomputed from scratch.

    Rollups are never kept incrementally, so they cannot drift from the records.
    """
    counts = Counter(a.type for a in activities)
    if counts.keys() <= _FIELD_OF_TYPE.keys():
        return Engagement._trusted(*(counts[t] for t in _FIELD_OF_TYPE))  # counts are >= 0
    return Engagement.from_counts(counts)  # not activity types: from_counts says which
