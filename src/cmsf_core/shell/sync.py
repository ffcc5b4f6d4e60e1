"""The imperative shell: read through the ports, plan, apply, report.

:func:`run_sync` is the primary sync.  It never decides anything itself: every change comes
from the pure planner (:func:`~cmsf_core.domain.planner.plan_batch`, the batch form of
:func:`~cmsf_core.domain.planner.plan_sync`).  It streams (:mod:`cmsf_core.shell.stream`):
one platform campaign at a time is read, planned and applied, so its memory grows with the
largest campaign read and the member count, never with the stored history.  The apply order
makes a crash at any point safe:

1. per batch, the client's journal (the members it is about to refresh, with those still
   pending from the checkpoint or refused by an earlier batch) is saved first;
2. then the batch's campaigns, links, statuses, records inserted, records deleted,
   members and statistics; at a client's end (a full sync) the platform-campaign copies
   no longer selected, after their records;
3. the checkpoints with the advanced watermarks are saved last, after every batch and
   the subscriber part;
4. the subscriber part runs just before them
   (:func:`~cmsf_core.shell.subscriber_sync.sync_subscribers`): the Email Opt Out of
   the emails whose list state changed in the window read, and the suppression records,
   as the settings ask (a full sync with the suppression list off removes them).

A write the CRM refuses is fed back to the planner (the batch is planned again), which
leaves it out, reports it as a
maintenance message and holds the watermark so that it is retried at the next sync; the
rest of the sync goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from cmsf_core.domain.activity import ActivityKey
from cmsf_core.domain.errors import CmsfError, InvalidTypeError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.planner import SyncPlan
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.platform import SkippedRow
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.status import RefreshCause, refresh_member
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.shell.reads import (
    CLIENT_SKIPPED,  # noqa: F401 - public here too
    CLIENT_TIME_ZONE,  # noqa: F401 - public here too
    PAGE_SIZE,  # noqa: F401 - public here too
    Progress,
)
from cmsf_core.shell.stream import JournalRefusedError, stream_sync

if TYPE_CHECKING:
    from cmsf_core.domain.field_mappings import CrmFieldPlan
    from cmsf_core.domain.subscribers import CrmChange, DuplicateEmail, OptOutChange
    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform
    from cmsf_core.shell.field_sync import FieldMappingConfig
    from cmsf_core.shell.subscriber_sync import (
        RecordChangeReport,
        SubscriberSyncReport,
        add_to_list,
        handle_record_changes,
        sync_subscribers,
    )

__all__ = [
    "CHECKPOINT_REFUSED",
    "Progress",
    "RecordChangeReport",
    "SubscriberSyncReport",
    "SyncAbortedError",
    "SyncReport",
    "add_to_list",
    "delete_records_by_hand",
    "handle_record_changes",
    "run_sync",
    "sync_subscribers",
]

#: Names re-exported from :mod:`cmsf_core.shell.subscriber_sync`, loaded on first use: the
#: subscriber and field-mapping modules (and the ports that name them) are imported when a
#: sync first needs them, so ``from cmsf_core.shell.sync import run_sync`` stays light.
_SUBSCRIBER_SYNC_EXPORTS = frozenset(
    {
        "RecordChangeReport",
        "SubscriberSyncReport",
        "add_to_list",
        "handle_record_changes",
        "sync_subscribers",
    }
)


def __getattr__(name: str) -> Any:
    if name not in _SUBSCRIBER_SYNC_EXPORTS:
        raise AttributeError(f"module 'cmsf_core.shell.sync' has no attribute {name!r}")
    from cmsf_core.shell import subscriber_sync  # noqa: PLC0415 - loaded on first use

    value = getattr(subscriber_sync, name)
    globals()[name] = value
    return value


def _no_field_changes() -> CrmFieldPlan:
    from cmsf_core.domain.field_mappings.plan import CrmFieldPlan  # noqa: PLC0415

    return CrmFieldPlan()


#: The support code of a client whose advanced checkpoint the CRM refused to save.
CHECKPOINT_REFUSED = "SYNC-CHECKPOINT-REFUSED"


class SyncAbortedError(CmsfError, RuntimeError):
    """The CRM refused the sync's journal, its first write: no tracking data was applied."""


@attrs.frozen
class SyncReport:
    """What a sync did (or, on a dry run, would do).

    ``opt_out_changes`` are the Email Opt Out changes, ``duplicates`` the emails several
    contacts and leads share, ``suppression_changes`` the suppression records created,
    updated and removed (on a dry run: planned, not applied).  ``skipped_clients`` holds a
    maintenance message for each platform client that could not be read (an unmappable
    time zone, a platform error): that client was skipped, the others synced.
    ``skipped_rows`` are the malformed platform rows left out (each also a
    ``SYNC-SKIPPED-ROW`` maintenance message when applied).  ``unsaved_checkpoints`` holds
    a ``SYNC-CHECKPOINT-REFUSED`` message for each client whose advanced checkpoint the CRM
    refused: its data is applied, its watermark did not move, and the next sync re-reads
    the same window (which imports nothing twice).
    """

    plan: SyncPlan
    applied: bool
    attempts: int = 1
    opt_out_changes: tuple[OptOutChange, ...] = ()
    duplicates: tuple[DuplicateEmail, ...] = ()
    suppression_changes: tuple[CrmChange, ...] = ()
    skipped_clients: tuple[MaintenanceMessage, ...] = ()
    skipped_rows: tuple[SkippedRow, ...] = ()
    unsaved_checkpoints: tuple[MaintenanceMessage, ...] = ()
    #: The field mappings' CRM updates and new subscribers (``run_sync(field_mappings=)``).
    field_changes: CrmFieldPlan = attrs.field(factory=_no_field_changes)

    @property
    def ok(self) -> bool:
        """True when every client and every platform row was read and every write went
        through; otherwise the maintenance messages say what to look at."""
        return not (
            self.plan.refusals
            or self.skipped_clients
            or self.skipped_rows
            or self.unsaved_checkpoints
        )

    def summary(self) -> str:
        """A readable summary: counts per kind of change, refusals, watermarks."""
        head = "dry run: nothing applied" if not self.applied else "applied"
        lines = [self.plan.summary(), f"  {head}"]
        lines += [f"  refused: {r.kind.value}: {r.record}: {r.reason}" for r in self.plan.refusals]
        lines += [f"  skipped {m.record}: {m.guidance}" for m in self.skipped_clients]
        lines += [f"  not saved: {m.record}: {m.guidance}" for m in self.unsaved_checkpoints]
        if self.skipped_rows:
            lines.append(f"  skipped platform rows: {len(self.skipped_rows)} (see the messages)")
        if self.opt_out_changes or self.duplicates or self.suppression_changes:
            lines.append(
                f"  email opt out: {len(self.opt_out_changes)} changed, "
                f"{len(self.duplicates)} duplicate emails; "
                f"suppression records: {len(self.suppression_changes)} changed"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _noop(_stage: str, _done: int, _total: int | None) -> None:
    return None


def run_sync(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    wait: float | None = None,
    field_mappings: FieldMappingConfig | None = None,
    keep_changes: bool = True,
) -> SyncReport:
    """Run the primary sync at ``as_of``: incremental by default, ``full`` to realign.

    The whole read-plan-apply holds the store's writer lock (``crm.sync_lock``): another
    sync of the same store waits up to ``wait`` seconds (the store's default when None)
    and then raises :class:`~cmsf_core.ports.crm.StoreBusyError`, having changed nothing.

    A full sync removes the tracking records the platform no longer reports (what the
    integration loaded; never contacts, leads or the CRM's own campaigns) and imports the
    rest; it ends in the state incremental syncs of the same data reach.  ``dry_run``
    reads and plans but writes nothing (the subscriber changes are planned and reported).

    After the tracking data is applied, the subscriber part runs for every client over the
    window read for it (:func:`~cmsf_core.shell.subscriber_sync.sync_subscribers`), then, with
    ``field_mappings``, the platform -> CRM field mappings and the new subscriber rule
    (:func:`~cmsf_core.shell.field_sync.sync_field_mappings`).

    The sync streams one platform campaign at a time.  ``keep_changes`` (the default) keeps
    every record inserted and deleted and every member saved in ``report.plan``, as one
    plan of the whole sync would hold them; ``keep_changes=False`` keeps only their counts
    (``report.plan.counts()`` and ``summary()`` stay right), so that the report does not
    grow with what a large sync changes.
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    as_of = ensure_utc(as_of, "as_of")
    with _sync_lock(crm, wait=wait, dry_run=dry_run, full=full):
        return _run_sync(
            crm,
            platform,
            settings,
            as_of=as_of,
            full=full,
            dry_run=dry_run,
            report=progress,
            field_mappings=field_mappings,
            keep_changes=keep_changes,
        )


def _sync_lock(
    crm: CrmStore, *, wait: float | None, dry_run: bool, full: bool
) -> AbstractContextManager[None]:
    """The store's writer lock; none for a store that offers none (see the port)."""
    lock = getattr(crm, "sync_lock", None)
    if lock is None:
        return nullcontext()
    return cast(AbstractContextManager[None], lock(wait=wait, dry_run=dry_run, full=full))


def _run_sync(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool,
    dry_run: bool,
    report: Progress | None,
    field_mappings: FieldMappingConfig | None,
    keep_changes: bool,
) -> SyncReport:
    from cmsf_core.shell.field_sync import sync_field_mappings  # noqa: PLC0415 - see above
    from cmsf_core.shell.subscriber_sync import sync_subscribers  # noqa: PLC0415 - see above

    report = report or _noop
    try:
        streamed = stream_sync(
            crm,
            platform,
            settings,
            as_of=as_of,
            full=full,
            dry_run=dry_run,
            progress=report,
            keep_changes=keep_changes,
        )
    except JournalRefusedError as error:
        raise SyncAbortedError(error.message) from None
    plan = streamed.plan
    windows = streamed.windows
    fields: list[CrmFieldPlan] = [_no_field_changes()]

    def sync_fields(dry: bool) -> None:
        if field_mappings is not None:
            done_fields = sync_field_mappings(
                crm, platform, field_mappings, windows, as_of=as_of, dry_run=dry
            )
            fields.append(done_fields.plan)

    if dry_run:
        subscribers = sync_subscribers(
            crm, platform, settings, windows, as_of=as_of, dry_run=True, full=full
        )
        sync_fields(True)
        report("planned", 1, 1)
        return _report(
            plan,
            subscribers,
            applied=False,
            skipped_clients=streamed.skipped_clients,
            skipped_rows=streamed.skipped_rows,
            field_changes=fields[-1],
        )
    # Before the watermarks move: a crash here re-reads the same windows next time.
    crm.add_messages(tuple(row.message(plan.as_of) for row in streamed.skipped_rows))
    subscribers = sync_subscribers(crm, platform, settings, windows, as_of=as_of, full=full)
    sync_fields(False)
    unsaved: list[MaintenanceMessage] = []
    saved = crm.save_checkpoints(plan.checkpoints)
    if saved.failures:
        unsaved = [_unsaved(item, reason, plan.as_of) for item, reason in saved.failures]
        crm.add_messages(unsaved)
    report("applied", 1, 1)
    return _report(
        plan,
        subscribers,
        applied=True,
        attempts=streamed.attempts,
        skipped_clients=streamed.skipped_clients,
        skipped_rows=streamed.skipped_rows,
        unsaved_checkpoints=tuple(unsaved),
        field_changes=fields[-1],
    )


def _report(
    plan: SyncPlan,
    subscribers: SubscriberSyncReport,
    *,
    applied: bool,
    attempts: int = 1,
    skipped_clients: tuple[MaintenanceMessage, ...] = (),
    skipped_rows: Sequence[SkippedRow] = (),
    unsaved_checkpoints: tuple[MaintenanceMessage, ...] = (),
    field_changes: CrmFieldPlan | None = None,
) -> SyncReport:
    return SyncReport(
        plan,
        applied=applied,
        attempts=attempts,
        skipped_rows=tuple(skipped_rows),
        opt_out_changes=subscribers.opt_out.changes,
        duplicates=subscribers.opt_out.duplicates,
        suppression_changes=subscribers.suppression.changes,
        skipped_clients=skipped_clients,
        unsaved_checkpoints=unsaved_checkpoints,
        field_changes=field_changes or _no_field_changes(),
    )


# ----------------------------------------------------------------------------- applying


def _unsaved(client_id: object, reason: str, at: datetime) -> MaintenanceMessage:
    """The maintenance message of a client whose advanced checkpoint was refused."""
    return MaintenanceMessage(
        CHECKPOINT_REFUSED,
        Severity.WARNING,
        f"client {client_id}",
        f"the CRM refused to save this client's checkpoint ({reason}). Its data is applied; "
        "its watermark did not move, so the next sync reads the same window again and "
        "imports nothing twice.",
        at,
    )


# ----------------------------------------------------------------------------- by hand


def delete_records_by_hand(
    crm: CrmStore,
    keys: Iterable[ActivityKey],
    settings: Settings,
) -> tuple[MemberRecord, ...]:
    """Delete tracking records outside the sync, as a CRM user would, and refresh the
    members they belonged to (rollups always; Status only under Always).

    This is what the product's FAQ warns about: under Once Only or Never the Status stays
    while the counters drop.  Returns the members saved.
    """
    keys = list(keys)
    refs = {MemberRef(k.campaign_id, k.subject) for k in keys}
    crm.delete_records(keys)
    campaigns = crm.campaigns()
    stored = crm.records_for(refs)
    saved = []
    for ref, record in crm.members(refs).items():
        default = campaigns[record.crm_campaign_id].default_status
        member = refresh_member(
            record.member,
            stored.get(ref, ()),
            settings,
            cause=RefreshCause.DELETION,
            default_status=default,
        )
        if member != record.member:
            saved.append(attrs.evolve(record, member=member))
    crm.save_members(saved)
    return tuple(saved)
