"""The suppression list: the platform's entries, the CRM's suppression records, and the
plan that brings the records in line with the list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.checks import require_text
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.subscribers._checks import items_of, to_email, to_suppressed_at
from cmsf_core.domain.subscribers.commands import (
    CreateSuppressionRecord,
    CrmChange,
    RemoveSuppressionRecord,
    UpdateSuppressionRecord,
)

__all__ = ["SuppressedEmail", "SuppressionPlan", "SuppressionRecord", "plan_suppression_sync"]


@attrs.frozen
class SuppressedEmail:
    """An entry of the platform's suppression list."""

    email: str = attrs.field(converter=to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=to_suppressed_at)


@attrs.frozen
class SuppressionRecord:
    """A suppression record the integration keeps in the CRM."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=to_suppressed_at)


@attrs.frozen
class SuppressionPlan:
    """The CRM suppression records to create, update and remove."""

    create: tuple[CreateSuppressionRecord, ...] = ()
    update: tuple[UpdateSuppressionRecord, ...] = ()
    remove: tuple[RemoveSuppressionRecord, ...] = ()

    @property
    def changes(self) -> tuple[CrmChange, ...]:
        """Every CRM change: creations, updates, then removals."""
        return (*self.create, *self.update, *self.remove)


def plan_suppression_sync(
    platform: Iterable[SuppressedEmail],
    crm: Iterable[SuppressionRecord],
    *,
    sync_suppression_list: bool,
    full: bool = False,
) -> SuppressionPlan:
    """Bring the CRM's suppression records in line with the platform's whole suppression list.

    One record per suppressed email, with the platform's reason and date: missing ones are
    created, ones whose reason or date differ are updated, and records for emails the
    platform no longer suppresses (or second records for one email) are removed.  An
    email listed twice by the platform keeps its latest entry.  Setting off: no change,
    except on a ``full`` sync, which removes every record (the integration loaded them).
    """
    entries = items_of(platform, "platform", SuppressedEmail, "SuppressedEmail values")
    records = items_of(crm, "crm", SuppressionRecord, "SuppressionRecord values")
    if not sync_suppression_list:
        if not full:
            return SuppressionPlan()
        return SuppressionPlan(
            remove=tuple(RemoveSuppressionRecord(r.record_id, r.email) for r in records)
        )
    latest: dict[str, SuppressedEmail] = {}
    for entry in entries:
        key = email_key(entry.email)
        if key not in latest or entry.suppressed_at > latest[key].suppressed_at:
            latest[key] = entry
    held: dict[str, list[SuppressionRecord]] = {}
    for record in records:
        held.setdefault(email_key(record.email), []).append(record)

    create: list[CreateSuppressionRecord] = []
    update: list[UpdateSuppressionRecord] = []
    remove: list[RemoveSuppressionRecord] = []
    for key, entry in latest.items():
        mine = held.get(key, [])
        if not mine:
            create.append(CreateSuppressionRecord(entry.email, entry.reason, entry.suppressed_at))
            continue
        same = [
            r for r in mine if (r.reason, r.suppressed_at) == (entry.reason, entry.suppressed_at)
        ]
        keep = same[0] if same else mine[0]
        if not same:
            update.append(
                UpdateSuppressionRecord(
                    keep.record_id, entry.email, entry.reason, entry.suppressed_at
                )
            )
        remove.extend(RemoveSuppressionRecord(r.record_id, r.email) for r in mine if r is not keep)
    for key, mine in held.items():
        if key not in latest:
            remove.extend(RemoveSuppressionRecord(r.record_id, r.email) for r in mine)
    return SuppressionPlan(tuple(create), tuple(update), tuple(remove))
