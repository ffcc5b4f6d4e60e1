"""The streaming sync: one platform campaign at a time, in bounded memory (DESIGN §12).

Per client, per selected campaign (one campaign is one batch: a member belongs to one
campaign, so refreshing it once with all the campaign's new records gives exactly the
results of one sync of everything), the campaign's streams are read page by page and
turned into records once, the CRM is asked only what the batch touches, the batch is
planned by the pure planner (:func:`~cmsf_core.domain.planner.plan_batch`), applied, and
dropped before the next.  On a full sync the client's other campaigns (reported but
filtered out, or only stored) are batches too: their records are removed.  The expired
records, pending and newly matched members of campaigns no client batch covered are
planned last, in bounded batches of a few campaigns.

Crash safety is the one-shot sync's: each batch saves the client's journal (the members
about to be refreshed, with those still pending from the checkpoint or refused by an
earlier batch) before its writes; the watermark
moves only in the client's final checkpoint, which the caller saves after every batch
(and after the subscriber part).  A crash mid-client re-reads the same window, imports
nothing twice and refreshes the pending members.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, cast

import attrs

from cmsf_core.domain.activity import Activity, ActivityKey
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.planner import (
    ClientRead,
    CrmView,
    Refusal,
    RefusalKind,
    Refusals,
    SyncPlan,
    campaign_selected,
    client_checkpoint,
    plan_batch,
    read_window_start,
    stale_platform_campaigns,
)
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult
from cmsf_core.domain.retention import retention_cutoffs
from cmsf_core.domain.status import RefreshCause
from cmsf_core.shell.reads import Progress, read_events, skipped_client

if TYPE_CHECKING:
    from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
    from cmsf_core.domain.records.platform import (
        CampaignSummary,
        PlatformCampaign,
        PlatformClient,
        SkippedRow,
        TrackingEvent,
    )
    from cmsf_core.domain.settings import Settings
    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform

__all__ = ["LEFTOVER_BATCH", "StreamedSync", "stream_sync"]

#: At most this many expired records, pending and unmatched members in one batch of the
#: campaigns no client batch covered (a campaign is never split).
LEFTOVER_BATCH = 5000

_MAX_ATTEMPTS = 50

Entry = tuple[MemberRef, RefreshCause]


class JournalRefusedError(Exception):
    """The CRM refused a batch's journal (the shell turns it into ``SyncAbortedError``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.define
class _Client:
    """One client being synced: what its batches add up to."""

    client: PlatformClient
    checkpoint: Checkpoint
    since: datetime | None
    journal: set[Entry] = attrs.field(factory=set)  # entries of its applied batches
    keep: set[Entry] = attrs.field(factory=set)  # refused members: pending again
    latest: datetime | None = None
    refused_inserts: set[ActivityKey] = attrs.field(factory=set)
    rows: list[SkippedRow] = attrs.field(factory=list)
    pending: defaultdict[str, set[Entry]] = attrs.field(factory=lambda: defaultdict(set))

    @property
    def client_id(self) -> str:
        """The platform client's id."""
        return self.checkpoint.client_id


@attrs.define
class _Totals:
    """The batches' plans added up into the sync's plan (records and members only when
    ``keep``; their counts always)."""

    keep: bool
    platform_campaigns: list[PlatformCampaign] = attrs.field(factory=list)
    stale: list[str] = attrs.field(factory=list)
    campaigns: list[CrmCampaign] = attrs.field(factory=list)
    links: list[CampaignLink] = attrs.field(factory=list)
    statuses: list[tuple[str, MemberStatus]] = attrs.field(factory=list)
    inserts: list[Activity] = attrs.field(factory=list)
    deletes: list[Activity] = attrs.field(factory=list)
    members: list[MemberRecord] = attrs.field(factory=list)
    statistics: list[tuple[str, CampaignSummary]] = attrs.field(factory=list)
    refusals: list[Refusal] = attrs.field(factory=list)
    purged: int = 0
    events_read: int = 0
    skipped: Counter[str] = attrs.field(factory=Counter)
    omitted: Counter[str] = attrs.field(factory=Counter)

    def add(self, plan: SyncPlan) -> None:
        """Add one batch's plan."""
        self.platform_campaigns += plan.platform_campaigns
        self.campaigns += plan.campaigns_to_create
        self.links += plan.links_to_create
        self.statuses += plan.statuses_to_add
        self.statistics += plan.statistics
        self.refusals += plan.refusals
        self.purged += plan.purged
        self.events_read += plan.events_read
        self.skipped.update(plan.skipped)
        if self.keep:
            self.inserts += plan.records_to_insert
            self.deletes += plan.records_to_delete
            self.members += plan.members_to_save
        else:
            self.omitted["records inserted"] += len(plan.records_to_insert)
            self.omitted["records deleted"] += len(plan.records_to_delete)
            self.omitted["members saved"] += len(plan.members_to_save)


@attrs.frozen
class StreamedSync:
    """What :func:`stream_sync` did: the plan added up (its final checkpoints not saved
    yet), the attempts of its most retried batch, the clients skipped and their windows."""

    plan: SyncPlan
    attempts: int
    skipped_clients: tuple[MaintenanceMessage, ...]
    skipped_rows: tuple[SkippedRow, ...]
    windows: Mapping[str, datetime | None]


@attrs.define
class _Stream:
    """The state of one streaming sync (never escapes :func:`stream_sync`)."""

    crm: CrmStore
    platform: EmailPlatform
    settings: Settings
    as_of: datetime
    full: bool
    dry_run: bool
    progress: Progress
    totals: _Totals
    campaigns: dict[str, CrmCampaign] = attrs.field(factory=dict)
    links: dict[str, CampaignLink] = attrs.field(factory=dict)
    copies: Mapping[str, PlatformCampaign] = attrs.field(factory=dict)
    expired: defaultdict[str, list[Activity]] = attrs.field(factory=lambda: defaultdict(list))
    unmatched: defaultdict[str, list[MemberRecord]] = attrs.field(factory=lambda: defaultdict(list))
    clients: dict[str, _Client] = attrs.field(factory=dict)  # the clients being read
    done: list[_Client] = attrs.field(factory=list)  # the clients read in full, in order
    journaled: set[str] = attrs.field(factory=set)  # clients whose batches journaled members
    held: set[str] = attrs.field(factory=set)  # campaigns whose record deletions were refused
    skipped_clients: list[MaintenanceMessage] = attrs.field(factory=list)
    skipped_rows: list[SkippedRow] = attrs.field(factory=list)
    attempts: int = 1
    applied_any: bool = False


def stream_sync(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool,
    dry_run: bool,
    progress: Progress,
    keep_changes: bool = True,
) -> StreamedSync:
    """Read, plan and apply (unless ``dry_run``) the tracking data one campaign at a time;
    return the plan added up, with each client's final checkpoint for the caller to save
    once the rest of the sync (the subscriber part) is done."""
    from cmsf_core.ports.errors import PlatformError, UnmappableTimeZoneError  # noqa: PLC0415

    s = _Stream(crm, platform, settings, as_of, full, dry_run, progress, _Totals(keep_changes))
    s.campaigns.update(crm.campaigns())
    s.links.update(crm.links())
    s.copies = crm.platform_campaigns()
    for activity in crm.expired_records(retention_cutoffs(settings, as_of=as_of)):
        s.expired[activity.campaign_id].append(activity)
    for record in crm.unmatched_members():
        s.unmatched[record.ref.campaign_id].append(record)
    clients = platform.clients()
    for n, client in enumerate(clients, 1):
        try:
            _sync_client(s, client)
        except (UnmappableTimeZoneError, PlatformError) as error:
            s.clients.pop(client.client_id, None)
            s.journaled.discard(client.client_id)
            message = skipped_client(client.client_id, error, as_of)
            s.skipped_clients.append(message)
            if not dry_run:
                crm.add_messages([message])
        progress("reading clients", n, len(clients))
    _sync_leftovers(s)
    return _result(s)


def _sync_client(s: _Stream, platform_client: PlatformClient) -> None:
    """One client's batches; a platform error skips the rest of the client (the batches
    applied stay applied, its watermark does not move)."""
    checkpoint = s.crm.checkpoint(platform_client.client_id)
    since = None if s.full else read_window_start(checkpoint, s.settings)
    client = _Client(platform_client, checkpoint, since)
    s.clients[client.client_id] = client
    for ref, cause in checkpoint.pending:
        client.pending[ref.campaign_id].add((ref, cause))
    campaigns = tuple(s.platform.sent_campaigns(platform_client.client_id))
    selected = [c for c in campaigns if campaign_selected(c, s.settings)]
    others = [c for c in campaigns if not campaign_selected(c, s.settings)]
    for m, campaign in enumerate(selected, 1):
        cid = campaign.campaign_id
        linked = cid in s.links
        events = read_events(s.platform, campaign, s.settings, linked, since, client.rows)
        summary = None
        if s.settings.update_campaign_statistics:
            summary = s.platform.campaign_summary(cid)
        read = _client_read(client, [cid], (campaign,), events, summary)
        _batch(s, [read], [cid], whole=s.full, managed=True, selected=True)
        s.progress(f"reading {platform_client.name}", m, len(selected))
    if s.full:  # the client's other campaigns: their records are removed
        chosen = {c.campaign_id for c in selected}
        for campaign in others:
            read = _client_read(client, [campaign.campaign_id], (campaign,))
            _batch(s, [read], [campaign.campaign_id], whole=True, managed=True)
        reported = chosen | {c.campaign_id for c in others}
        for cid, copy in sorted(s.copies.items()):
            if copy.client_id == client.client_id and cid not in reported:
                _batch(s, [_client_read(client, [cid])], [cid], whole=True, managed=False)
        _delete_stale(s, client, chosen)
    elif others:  # counted as filtered out; their own data waits for the leftovers
        tally = ClientRead(attrs.evolve(checkpoint, pending=frozenset()), tuple(others), {})
        plan, _latest = plan_batch([tally], CrmView(), s.settings, as_of=s.as_of)
        s.totals.add(plan)
    s.skipped_rows += client.rows
    s.done.append(client)


def _client_read(
    client: _Client,
    campaign_ids: Iterable[str],
    campaigns: tuple[PlatformCampaign, ...] = (),
    events: tuple[TrackingEvent, ...] | None = None,
    summary: CampaignSummary | None = None,
) -> ClientRead:
    """The client's read for one batch: these campaigns, their events, and the client's
    pending members of these campaigns only (taken from the client: planned once)."""
    pending: set[Entry] = set()
    for cid in campaign_ids:
        pending |= client.pending.pop(cid, set())
    cid = campaigns[0].campaign_id if campaigns else ""
    return ClientRead(
        attrs.evolve(client.checkpoint, pending=frozenset(pending)),
        campaigns,
        {} if events is None else {cid: events},
        client.since,
        {} if summary is None else {cid: summary},
    )


def _sync_leftovers(s: _Stream) -> None:
    """The expired records, pending and unmatched members of the campaigns no client batch
    covered, a few campaigns per batch."""
    by_client = {c.client_id: c for c in s.done}
    sizes: Counter[str] = Counter()
    for cid, found in s.expired.items():
        sizes[cid] += len(found)
    for cid, records in s.unmatched.items():
        if cid in s.links:  # an unlinked campaign has no member to match
            sizes[cid] += len(records)
    for client in s.done:
        for cid, entries in client.pending.items():
            sizes[cid] += len(entries)
    chunk: list[str] = []
    size = 0
    for cid in sorted(sizes):
        if chunk and size + sizes[cid] > LEFTOVER_BATCH:
            _leftover_batch(s, chunk, by_client)
            chunk, size = [], 0
        chunk.append(cid)
        size += sizes[cid]
    if chunk:
        _leftover_batch(s, chunk, by_client)


def _leftover_batch(s: _Stream, campaign_ids: list[str], by_client: Mapping[str, _Client]) -> None:
    # Every client read: a member refreshed here is journaled in its campaign's client's
    # checkpoint (as one plan of everything would), pending there or not.
    reads = [_client_read(client, campaign_ids) for client in by_client.values()]
    _batch(s, reads, campaign_ids, whole=False, managed=False)


def _batch(
    s: _Stream,
    reads: list[ClientRead],
    campaign_ids: list[str],
    *,
    whole: bool,
    managed: bool,
    selected: bool = False,
) -> None:
    """Read from the CRM what one batch touches, plan it, apply it (again with the writes
    the CRM refused, until none is), and add it up."""
    view = _view(s, reads, campaign_ids, whole=whole, managed=managed, selected=selected)
    refused = Refusals()
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        plan, latest = plan_batch(
            reads, view, s.settings, as_of=s.as_of, full=s.full, refused=refused
        )
        more = None if s.dry_run else _apply(s, plan)
        if not more:
            s.attempts = max(s.attempts, attempt)
            _done(s, plan, latest, refused)
            return
        refused = Refusals(
            {**refused.inserts, **more.inserts},
            {**refused.deletes, **more.deletes},
            {**refused.members, **more.members},
        )
    raise RuntimeError(f"the CRM kept refusing new writes after {_MAX_ATTEMPTS} attempts")


def _view(
    s: _Stream,
    reads: list[ClientRead],
    campaign_ids: list[str],
    *,
    whole: bool,
    managed: bool,
    selected: bool,
) -> CrmView:
    """What the CRM holds that the batch touches (as the one-shot read of everything
    would give it for these campaigns)."""
    crm = s.crm
    touched: set[MemberRef] = set()
    emails: set[str] = set()
    keys: set[ActivityKey] = set()
    for read in reads:
        touched.update(ref for ref, _cause in read.checkpoint.pending)
        # A record's member id is its event's address key: each member is named once.
        for campaign_id, records in read.records.items():
            ids = {a.member_id for a in records}
            touched.update(MemberRef(campaign_id, member_id) for member_id in ids)
            emails |= ids
            keys.update(a.key for a in records)
    expired: list[Activity] = []
    unmatched: list[MemberRecord] = []
    for cid in campaign_ids:
        expired += s.expired.pop(cid, ())
        unmatched += s.unmatched.pop(cid, ())
    touched.update(MemberRef(a.campaign_id, a.member_id) for a in expired)
    emails.update(email_key(m.email) for m in unmatched)
    people = dict(crm.find_people(emails)) if emails else {}
    touched.update(m.ref for m in unmatched if email_key(m.email) in people)
    stored: Mapping[MemberRef, tuple[Activity, ...]]
    if whole:  # a full sync: every record of the campaign, of the clients read
        clients = {read.client_id for read in reads}
        grouped: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for activity in crm.records_of_campaigns(campaign_ids):
            if activity.client_id in clients:
                grouped[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        if managed:
            touched.update(m.ref for m in crm.members_of(campaign_ids))
        touched.update(grouped)
        stored = {ref: tuple(records) for ref, records in grouped.items()}
    elif s.full:  # as one read of the clients' records: none of these campaigns'
        stored = {}
    else:
        stored = crm.records_for(touched) if touched else {}
    members = dict(crm.members(touched)) if touched else {}
    missing = {email_key(m.email) for m in members.values() if m.person_id is None}
    missing.update(email_key(ref.member_id) for ref in touched if ref not in members)
    missing -= emails  # a member created here is matched whatever created it
    if missing:
        people.update(crm.find_people(missing))
    copies = {cid: s.copies[cid] for cid in campaign_ids if selected and cid in s.copies}
    return CrmView(
        campaigns=s.campaigns,
        links=s.links,
        members=members,
        stored=stored,
        expired=tuple(expired),
        existing_keys=frozenset(crm.existing_keys(keys)) if keys else frozenset(),
        people=people,
        unmatched=tuple(unmatched),
        platform_campaigns=copies,
    )


def _failures(result: WriteResult) -> dict[object, str]:
    return dict(result.failures)


def _other_refusals(kind: RefusalKind, result: WriteResult, what: str) -> list[Refusal]:
    return [Refusal(kind, f"{what} {item}", reason) for item, reason in result.failures]


def _apply(s: _Stream, plan: SyncPlan) -> Refusals | None:
    """Apply one batch's plan in the crash-safe order; return new refusals to re-plan
    with, if any (see :func:`cmsf_core.shell.sync.run_sync`)."""
    crm = s.crm
    journals = _journals(s, plan)
    if journals:
        journal = crm.save_checkpoints(journals)
        if journal.failures:
            refused = "; ".join(f"client {item}: {reason}" for item, reason in journal.failures)
            done = (
                "the campaigns synced before it are applied, no other tracking data was"
                if s.applied_any
                else "no tracking data was applied"
            )
            raise JournalRefusedError(
                f"the CRM refused to save the sync journal ({refused}); {done}, and the next "
                "sync reads the same window again"
            )
    s.applied_any = True
    crm.save_platform_campaigns(plan.platform_campaigns)
    others = _other_refusals(
        RefusalKind.CREATE_CAMPAIGN,
        crm.create_campaigns(plan.campaigns_to_create, plan.links_to_create),
        "campaign",
    )
    others += _other_refusals(
        RefusalKind.ADD_STATUS, crm.add_statuses(plan.statuses_to_add), "status of campaign"
    )
    s.progress("writing records", 0, len(plan.records_to_insert))
    inserts = _failures(crm.insert_records(plan.records_to_insert))
    s.progress("writing records", len(plan.records_to_insert), len(plan.records_to_insert))
    deletes = _failures(crm.delete_records([a.key for a in plan.records_to_delete]))
    if inserts or deletes:
        return Refusals(
            {cast(ActivityKey, k): v for k, v in inserts.items()},
            {cast(ActivityKey, k): v for k, v in deletes.items()},
        )
    members = _failures(crm.save_members(plan.members_to_save))
    if members:
        return Refusals(members={cast(MemberRef, k): v for k, v in members.items()})
    others += _other_refusals(
        RefusalKind.SAVE_STATISTICS, crm.save_statistics(plan.statistics), "statistics of"
    )
    crm.add_messages(plan.messages + tuple(r.message(plan.as_of) for r in others))
    return None


def _journals(s: _Stream, plan: SyncPlan) -> list[Checkpoint]:
    """The journal to save before a batch's writes: per client, its checkpoint as read
    with the members this batch is about to refresh and those an earlier batch could not
    save (refused: pending again).  The members an earlier batch saved are done: they are
    not journaled again, so the journal stays the size of a batch, not of the history."""
    journals = []
    for batch_journal in plan.journal:
        client = s.clients[batch_journal.client_id]
        pending = client.checkpoint.pending | client.keep | batch_journal.pending
        journals.append(attrs.evolve(client.checkpoint, pending=pending))
    return journals


def _done(s: _Stream, plan: SyncPlan, latest: Mapping[str, datetime], refused: Refusals) -> None:
    """Add up a planned (and applied) batch and carry what it changed to the next."""
    s.totals.add(plan)
    for campaign in plan.campaigns_to_create:
        s.campaigns[campaign.campaign_id] = campaign
    for link in plan.links_to_create:
        s.links[link.platform_campaign_id] = link
    for campaign_id, status in plan.statuses_to_add:
        campaign = s.campaigns[campaign_id]
        s.campaigns[campaign_id] = attrs.evolve(campaign, statuses=(*campaign.statuses, status))
    s.held.update(key.campaign_id for key in refused.deletes)
    clients = s.clients
    for batch_journal in plan.journal:
        client = clients[batch_journal.client_id]
        client.journal |= batch_journal.pending
        s.journaled.add(client.client_id)
    for checkpoint in plan.checkpoints:
        client = clients[checkpoint.client_id]
        client.keep |= checkpoint.pending
        at = latest.get(checkpoint.client_id)
        if at is not None and (client.latest is None or at > client.latest):
            client.latest = at
        client.refused_inserts.update(
            key for key in refused.inserts if key.client_id == client.client_id
        )


def _delete_stale(s: _Stream, client: _Client, chosen: set[str]) -> None:
    """A full sync's end of a client: the copies of its platform campaigns no longer
    selected, after their records."""
    stale = stale_platform_campaigns(s.copies, {client.client_id}, chosen, s.held)
    if not stale:
        return
    s.totals.stale += stale
    if s.dry_run:
        return
    others = _other_refusals(
        RefusalKind.DELETE_PLATFORM_CAMPAIGN,
        s.crm.delete_platform_campaigns(stale),
        "platform campaign",
    )
    if others:
        s.crm.add_messages(tuple(r.message(s.as_of) for r in others))


def _result(s: _Stream) -> StreamedSync:
    t = s.totals
    checkpoints = tuple(
        client_checkpoint(c.checkpoint, c.latest, c.refused_inserts, c.keep) for c in s.done
    )
    journal = tuple(
        attrs.evolve(c.checkpoint, pending=c.checkpoint.pending | c.journal)
        for c in s.done
        if c.client_id in s.journaled
    )
    plan = SyncPlan(
        as_of=s.as_of,
        full=s.full,
        journal=journal,
        platform_campaigns=tuple(t.platform_campaigns),
        platform_campaigns_to_delete=tuple(t.stale),
        campaigns_to_create=tuple(t.campaigns),
        links_to_create=tuple(t.links),
        statuses_to_add=tuple(t.statuses),
        records_to_insert=tuple(t.inserts),
        records_to_delete=tuple(t.deletes),
        purged=t.purged,
        members_to_save=tuple(t.members),
        statistics=tuple(t.statistics),
        refusals=tuple(t.refusals),
        checkpoints=checkpoints,
        events_read=t.events_read,
        skipped=dict(t.skipped),
        omitted={k: n for k, n in t.omitted.items() if n},
    )
    windows = {c.client_id: c.since for c in s.done}
    return StreamedSync(plan, s.attempts, tuple(s.skipped_clients), tuple(s.skipped_rows), windows)
