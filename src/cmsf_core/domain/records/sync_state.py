"""What a sync keeps between runs and what a write answers: a client's checkpoint and a
store's write result."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.checks import require_text
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.records.members import MemberRef
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.timeutil import ensure_utc_or_none

__all__ = ["Checkpoint", "WriteResult"]


def _watermark(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "watermark")


def _pending(value: object) -> frozenset[tuple[MemberRef, RefreshCause]]:
    expected = "a collection of (MemberRef, RefreshCause)"
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError("pending", expected, value)
    entries = set()
    for entry in value:
        try:
            (campaign_id, member_id), cause = entry
            entries.add((MemberRef(campaign_id, member_id), RefreshCause(cause)))
        except (TypeError, ValueError):
            raise InvalidValueError("pending", expected, entry) from None
    return frozenset(entries)


@attrs.frozen
class Checkpoint:
    """A client's sync position: the watermark, and the member refreshes not yet committed.

    The watermark is the latest committed event time; it never moves backwards.
    ``pending`` is the journal a sync writes before it applies anything, so that a crash
    part-way leaves a record of which members still need their refresh.
    """

    client_id: str = attrs.field(validator=require_text("client_id"))
    watermark: datetime | None = attrs.field(default=None, converter=_watermark)
    pending: frozenset[tuple[MemberRef, RefreshCause]] = attrs.field(
        default=frozenset(), converter=_pending
    )


@attrs.frozen
class WriteResult:
    """What a bulk write did: how many items it wrote, and each refused item with why.

    A bulk write can partly succeed; ``failures`` maps the identity of every refused item
    (an :class:`~cmsf_core.domain.activity.ActivityKey`, a :class:`MemberRef`, a campaign
    id, ...) to the CRM's reason.
    """

    written: int = 0
    failures: tuple[tuple[object, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every item was written."""
        return not self.failures
