"""The sync planner: from what was read and the settings at ``as_of``, every change.

:func:`plan_sync` is pure: from a :class:`ClientRead` per platform client and one
:class:`CrmView`, the :class:`SyncPlan` of a whole sync.  The shell
(:mod:`cmsf_core.shell.sync`) streams: it reads one platform campaign at a time, plans that
batch with :func:`plan_batch` (the same rules, on the campaign's reads and what they touch),
applies it, and ends each client with :func:`client_checkpoint`.  The planner's cost grows
with what it touches (the events read, the members they concern, the expired records),
never with the history stored.

Order of the rules inside one sync, per client:

1. the campaign filter (start date; any of the tags) selects the campaigns;
2. auto-created CRM campaigns and links (not retrospective), missing statuses;
3. events become records (imported types only, within retention, not in the future),
   identical events of one minute numbered; records already stored are skipped;
4. expired records are purged;
5. every touched member is refreshed: after the import, then after the deletion;
6. campaign statistics, when the setting is on;
7. the new watermark: the latest event read, held back by any refused record;
8. a full sync also deletes the stored copies of the client's platform campaigns that are
   no longer selected (no longer reported, or filtered out).
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime, timedelta

import attrs

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType, _numbered
from cmsf_core.domain.emails import email_key, normalise_email
from cmsf_core.domain.engagement import rollup
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.people import Person
from cmsf_core.domain.records.platform import CampaignSummary, PlatformCampaign, TrackingEvent
from cmsf_core.domain.records.sync_state import Checkpoint
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.status import RefreshCause, refresh_member
from cmsf_core.domain.timeutil import START_OF_TIME, UTC, ensure_utc

__all__ = [
    "AUTO_CAMPAIGN_PREFIX",
    "ClientRead",
    "CrmView",
    "Refusal",
    "RefusalKind",
    "Refusals",
    "SyncPlan",
    "auto_campaign_id",
    "campaign_selected",
    "client_checkpoint",
    "event_records",
    "plan_batch",
    "plan_sync",
    "read_window_start",
    "stale_platform_campaigns",
]

#: Auto-created CRM campaigns get the id ``AUTO_CAMPAIGN_PREFIX + platform campaign id``
#: (an external id, so a re-run upserts instead of creating a second campaign).
AUTO_CAMPAIGN_PREFIX = "cmsf:"


def auto_campaign_id(platform_campaign_id: str) -> str:
    """The external id of the CRM campaign auto-created for a platform campaign."""
    return AUTO_CAMPAIGN_PREFIX + platform_campaign_id


# ----------------------------------------------------------------------------- inputs


@attrs.frozen
class ClientRead:
    """What the shell read from the platform for one client.

    ``events`` holds, per campaign id, the rows of every stream read since
    ``read_since`` (``None``: the whole history, as a full sync reads), in the
    platform's order.  ``summaries`` holds campaign summaries when statistics are on.
    """

    checkpoint: Checkpoint
    campaigns: tuple[PlatformCampaign, ...]
    events: Mapping[str, tuple[TrackingEvent, ...]]
    read_since: datetime | None = None
    summaries: Mapping[str, CampaignSummary] = attrs.field(factory=dict)
    #: The records the events become, per campaign id: derived once, on construction.
    records: Mapping[str, tuple[Activity, ...]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        client_id = self.checkpoint.client_id
        object.__setattr__(
            self,
            "records",
            {cid: event_records(client_id, cid, evs) for cid, evs in self.events.items()},
        )

    @property
    def client_id(self) -> str:
        """The client this read belongs to."""
        return self.checkpoint.client_id


@attrs.frozen
class CrmView:
    """What the shell read from the CRM: only what the touched records concern.

    - ``campaigns``/``links``: linked CRM campaigns (by CRM id) and links (by platform
      campaign id);
    - ``members``/``stored``: the touched members and every record stored for each;
    - ``expired``: stored records older than their retention cutoff;
    - ``existing_keys``: which keys of the records read are stored already;
    - ``people``: contacts and leads by email key (trimmed, NFC, lower-cased), for matching;
    - ``unmatched``: members still waiting for a contact or lead;
    On a full sync ``stored`` must hold every record the integration loaded for the
    clients read (grouped by member, linked or not): what the platform no longer
    reports is removed.
    - ``platform_campaigns``: the integration's stored copies of platform campaigns.
    """

    campaigns: Mapping[str, CrmCampaign] = attrs.field(factory=dict)
    links: Mapping[str, CampaignLink] = attrs.field(factory=dict)
    members: Mapping[MemberRef, MemberRecord] = attrs.field(factory=dict)
    stored: Mapping[MemberRef, tuple[Activity, ...]] = attrs.field(factory=dict)
    expired: tuple[Activity, ...] = ()
    existing_keys: frozenset[ActivityKey] = frozenset()
    people: Mapping[str, tuple[Person, ...]] = attrs.field(factory=dict)
    unmatched: tuple[MemberRecord, ...] = ()
    platform_campaigns: Mapping[str, PlatformCampaign] = attrs.field(factory=dict)


class RefusalKind(enum.Enum):
    """Which write the CRM refused, with the support code of its maintenance message."""

    INSERT_RECORD = "insert tracking record"
    DELETE_RECORD = "delete tracking record"
    SAVE_MEMBER = "save campaign member"
    CREATE_CAMPAIGN = "create campaign"
    ADD_STATUS = "add member status"
    SAVE_STATISTICS = "save campaign statistics"
    DELETE_PLATFORM_CAMPAIGN = "delete the copy of a platform campaign"
    USE_LINKED_CAMPAIGN = "use the linked campaign"

    @property
    def code(self) -> str:
        """The support code of the maintenance message (``SYNC-INSERT-RECORD``, ...)."""
        return "SYNC-" + self.name.replace("_", "-")


@attrs.frozen
class Refusal:
    """One record the CRM refused, with its reason; retried at the next sync."""

    kind: RefusalKind
    record: str
    reason: str
    client_id: str = ""

    def message(self, at: datetime) -> MaintenanceMessage:
        """The maintenance message this refusal becomes."""
        return MaintenanceMessage(
            self.kind.code,
            Severity.ERROR,
            self.record,
            f"The CRM refused to {self.kind.value}: {self.reason}. The rest of the sync "
            "went on; this record is retried at the next sync.",
            at,
        )


@attrs.frozen
class Refusals:
    """Writes refused by the CRM in an earlier attempt at applying this sync."""

    inserts: Mapping[ActivityKey, str] = attrs.field(factory=dict)
    deletes: Mapping[ActivityKey, str] = attrs.field(factory=dict)
    members: Mapping[MemberRef, str] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.deletes or self.members)


# ----------------------------------------------------------------------------- output


@attrs.frozen
class SyncPlan:
    """Every change one sync makes: plain data, inspectable, applied by the shell.

    ``journal`` is written first (the members about to be refreshed); ``checkpoints``
    last, once everything else is committed.  ``platform_campaigns_to_delete`` (a full
    sync only) are the ids of stored platform-campaign copies of the clients read that the
    platform no longer reports or the campaign filter leaves out.
    """

    as_of: datetime
    full: bool
    journal: tuple[Checkpoint, ...] = ()
    platform_campaigns: tuple[PlatformCampaign, ...] = ()
    platform_campaigns_to_delete: tuple[str, ...] = ()
    campaigns_to_create: tuple[CrmCampaign, ...] = ()
    links_to_create: tuple[CampaignLink, ...] = ()
    statuses_to_add: tuple[tuple[str, MemberStatus], ...] = ()
    records_to_insert: tuple[Activity, ...] = ()
    records_to_delete: tuple[Activity, ...] = ()
    purged: int = 0
    members_to_save: tuple[MemberRecord, ...] = ()
    statistics: tuple[tuple[str, CampaignSummary], ...] = ()
    refusals: tuple[Refusal, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    events_read: int = 0
    skipped: Mapping[str, int] = attrs.field(factory=dict)
    #: Changes applied but not kept in this plan, counted by :meth:`counts` name (a sync
    #: run with ``keep_changes=False`` keeps the counts of its records and members only).
    omitted: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def messages(self) -> tuple[MaintenanceMessage, ...]:
        """The maintenance messages of this sync: one per refused write."""
        return tuple(refusal.message(self.as_of) for refusal in self.refusals)

    def counts(self) -> dict[str, int]:
        """How many changes of each kind the plan holds (with those it counts but omits)."""
        counts = {
            "events read": self.events_read,
            "records inserted": len(self.records_to_insert),
            "records deleted": len(self.records_to_delete),
            "of which purged by retention": self.purged,
            "members saved": len(self.members_to_save),
            "campaigns created": len(self.campaigns_to_create),
            "links created": len(self.links_to_create),
            "statuses added": len(self.statuses_to_add),
            "campaign statistics updated": len(self.statistics),
            "platform campaigns stored": len(self.platform_campaigns),
            "platform campaigns deleted": len(self.platform_campaigns_to_delete),
            "refused writes": len(self.refusals),
        }
        for name, n in self.omitted.items():
            counts[name] = counts.get(name, 0) + n
        return counts

    def summary(self) -> str:
        """A readable, one-line-per-kind summary of the plan."""
        kind = "full" if self.full else "incremental"
        lines = [f"{kind} sync plan at {self.as_of:%Y-%m-%d %H:%M} UTC"]
        lines += [f"  {name:<30} {n:>9,}" for name, n in self.counts().items()]
        lines += [f"  skipped: {name:<21} {n:>9,}" for name, n in sorted(self.skipped.items())]
        for checkpoint in self.checkpoints:
            mark = checkpoint.watermark.strftime("%Y-%m-%d %H:%M") if checkpoint.watermark else "-"
            lines.append(f"  watermark {checkpoint.client_id:<20} {mark:>16}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------- rules


def campaign_selected(campaign: PlatformCampaign, settings: Settings) -> bool:
    """The campaign filter: sent on/after the start date, and any of the tags (if set)."""
    start = settings.campaign_filter_start
    if start is not None and campaign.sent_at < start:
        return False
    tags = settings.campaign_filter_tags
    return not tags or bool(tags & campaign.tags)


def read_window_start(checkpoint: Checkpoint, settings: Settings) -> datetime | None:
    """Where an incremental sync starts reading: the watermark minus the overlap, floored
    to the minute so that identical events of one minute are always read together."""
    if checkpoint.watermark is None:
        return None
    overlap = timedelta(minutes=settings.sync_overlap_minutes)
    if checkpoint.watermark - START_OF_TIME < overlap:
        return START_OF_TIME  # the overlap reaches back past year 1: read from the start
    start = checkpoint.watermark - overlap
    return start.replace(second=0, microsecond=0)


def _status_set(settings: Settings) -> tuple[MemberStatus, ...]:
    mapping = settings.status_mapping
    labels = mapping.mapped_labels()
    if not labels:
        labels = ("Sent",)
    sent_label = mapping.label(ActivityType.SENT)
    default = sent_label if sent_label is not None else labels[0]
    return tuple(
        MemberStatus(
            label,
            is_default=label == default,
            has_responded=mapping.is_responded(label),
            sort_order=i + 1,
        )
        for i, label in enumerate(labels)
    )


def _missing_statuses(campaign: CrmCampaign, settings: Settings) -> tuple[MemberStatus, ...]:
    mapping = settings.status_mapping
    order = max((s.sort_order for s in campaign.statuses), default=0)
    added = []
    for label in mapping.mapped_labels():
        if not campaign.has_status(label):
            order += 1
            added.append(
                MemberStatus(label, has_responded=mapping.is_responded(label), sort_order=order)
            )
    return tuple(added)


def _best_person(people: Iterable[Person]) -> Person | None:
    """Several contacts/leads share an email: the most recently modified wins (then id)."""
    best: Person | None = None
    for person in people:
        if best is None or (person.last_modified, person.person_id) > (
            best.last_modified,
            best.person_id,
        ):
            best = person
    return best


def event_records(
    client_id: str, campaign_id: str, events: Iterable[TrackingEvent]
) -> tuple[Activity, ...]:
    """The records a campaign's events become: emails normalised, identical events of one
    minute numbered in read order."""
    emails: dict[str, str] = {}  # each distinct address is checked once per call

    def rows() -> Iterator[tuple[str, ActivityType, datetime, str | None, str | None]]:
        for event in events:
            email = emails.get(event.email)
            if email is None:
                email = emails[event.email] = normalise_email(event.email, "event.email")
            yield email, event.type, event.occurred_at, event.list_id, event.detail

    return _numbered(client_id, campaign_id, rows())


# ----------------------------------------------------------------------------- planner


@attrs.define
class _Planning:
    """Mutable scratch state of one :func:`plan_sync` call (never escapes it)."""

    settings: Settings
    as_of: datetime
    full: bool
    view: CrmView
    refused: Refusals
    campaigns: dict[str, CrmCampaign] = attrs.field(factory=dict)
    links: dict[str, CampaignLink] = attrs.field(factory=dict)
    new_by_member: defaultdict[MemberRef, list[Activity]] = attrs.field(
        factory=lambda: defaultdict(list)
    )
    deleted_by_member: defaultdict[MemberRef, list[Activity]] = attrs.field(
        factory=lambda: defaultdict(list)
    )
    causes: defaultdict[MemberRef, set[RefreshCause]] = attrs.field(
        factory=lambda: defaultdict(set)
    )
    emails: dict[MemberRef, str] = attrs.field(factory=dict)
    client_of_campaign: dict[str, str] = attrs.field(factory=dict)
    inserts: list[Activity] = attrs.field(factory=list)
    deletes: list[Activity] = attrs.field(factory=list)
    target_keys: set[ActivityKey] = attrs.field(factory=set)
    skipped: Counter[str] = attrs.field(factory=Counter)
    refusals: list[Refusal] = attrs.field(factory=list)
    platform_campaigns: list[PlatformCampaign] = attrs.field(factory=list)
    new_campaigns: list[CrmCampaign] = attrs.field(factory=list)
    new_links: list[CampaignLink] = attrs.field(factory=list)
    statuses: list[tuple[str, MemberStatus]] = attrs.field(factory=list)
    statistics: list[tuple[str, CampaignSummary]] = attrs.field(factory=list)
    latest_read: dict[str, datetime] = attrs.field(factory=dict)
    events_read: int = 0


def plan_sync(
    reads: Iterable[ClientRead],
    crm: CrmView,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool = False,
    refused: Refusals | None = None,
) -> SyncPlan:
    """Decide every change of one sync.  Pure: same inputs, same plan.

    ``refused`` lists writes the CRM refused in an earlier attempt at this sync: the
    plan leaves them out, reports them, and holds each client's watermark so that they
    are retried at the next sync.
    """
    return _plan(reads, crm, settings, as_of=as_of, full=full, refused=refused)[0]


def plan_batch(
    reads: Iterable[ClientRead],
    crm: CrmView,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool = False,
    refused: Refusals | None = None,
) -> tuple[SyncPlan, Mapping[str, datetime]]:
    """One batch of a streaming sync: :func:`plan_sync`'s plan of these reads, and the
    latest event time read per client (for :func:`client_checkpoint`).  Pure.

    The shell plans one platform campaign at a time: the reads carry that campaign's events
    and each client's pending members of that campaign only, the view what they touch.  A
    member belongs to one campaign, so the batches together make the changes one
    :func:`plan_sync` of everything would; the batches' checkpoints are only a part of the
    client's final one, which :func:`client_checkpoint` builds.
    """
    plan, p = _plan(reads, crm, settings, as_of=as_of, full=full, refused=refused)
    return plan, dict(p.latest_read)


def client_checkpoint(
    old: Checkpoint,
    latest: datetime | None,
    refused_inserts: Iterable[ActivityKey],
    pending: Iterable[tuple[MemberRef, RefreshCause]],
) -> Checkpoint:
    """A client's checkpoint after every batch of a sync: the latest event read, held at
    the earliest of its refused records, never backwards; ``pending`` the members whose
    save the CRM refused (refreshed again at the next sync)."""
    held = [key for key in refused_inserts if key.client_id == old.client_id]
    return Checkpoint(old.client_id, _watermark(old, latest, held), frozenset(pending))


def stale_platform_campaigns(
    copies: Mapping[str, PlatformCampaign],
    client_ids: Collection[str],
    selected: Collection[str],
    held: Collection[str] = (),
) -> tuple[str, ...]:
    """A full sync's stored platform-campaign copies to delete: those of the clients read
    (``client_ids``) that are not among the ``selected`` campaigns (the platform no longer
    reports them, or the campaign filter now leaves them out).  A client not read keeps its
    copies, and so does a campaign in ``held`` (one whose record deletions the CRM refused:
    its records stay, so does it; the next full sync retries both)."""
    return tuple(
        sorted(
            campaign_id
            for campaign_id, copy in copies.items()
            if copy.client_id in client_ids
            and campaign_id not in selected
            and campaign_id not in held
        )
    )


def _plan(
    reads: Iterable[ClientRead],
    crm: CrmView,
    settings: Settings,
    *,
    as_of: datetime,
    full: bool,
    refused: Refusals | None,
) -> tuple[SyncPlan, _Planning]:
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(crm, CrmView):
        raise InvalidTypeError("crm", "a CrmView", crm)
    as_of = ensure_utc(as_of, "as_of")
    reads = tuple(reads)
    for read in reads:
        if not isinstance(read, ClientRead):
            raise InvalidTypeError("reads", "ClientRead values", read)
    clients = [r.client_id for r in reads]
    if len(set(clients)) != len(clients):
        raise InvalidValueError("reads", "one ClientRead per client", clients)

    p = _Planning(settings, as_of, full, crm, refused or Refusals())
    p.campaigns.update(crm.campaigns)
    p.links.update(crm.links)
    for read in reads:
        _plan_client(p, read)
    stale = _stale_platform_campaigns(p, reads)
    _purge(p, reads)
    members, journal_refs, final_pending = _refresh_members(p, reads)

    journal = []
    checkpoints = []
    for read in reads:
        old = read.checkpoint
        mine = {e for e in journal_refs if p.client_of_campaign.get(e[0][0]) == old.client_id}
        if mine:
            journal.append(attrs.evolve(old, pending=old.pending | mine))
        keep = {e for e in final_pending if p.client_of_campaign.get(e[0][0]) == old.client_id}
        watermark = _next_watermark(p, old, p.latest_read.get(old.client_id))
        checkpoints.append(Checkpoint(old.client_id, watermark, keep))

    plan = SyncPlan(
        as_of=as_of,
        full=full,
        journal=tuple(journal),
        platform_campaigns=tuple(p.platform_campaigns),
        platform_campaigns_to_delete=stale,
        campaigns_to_create=tuple(p.new_campaigns),
        links_to_create=tuple(p.new_links),
        statuses_to_add=tuple(p.statuses),
        records_to_insert=tuple(p.inserts),
        records_to_delete=tuple(p.deletes),
        purged=_count_purged(p),
        members_to_save=tuple(members),
        statistics=tuple(p.statistics),
        refusals=tuple(p.refusals),
        checkpoints=tuple(checkpoints),
        events_read=p.events_read,
        skipped=dict(p.skipped),
    )
    return plan, p


def _plan_client(p: _Planning, read: ClientRead) -> None:
    client_id = read.client_id
    for campaign in read.campaigns:
        if campaign.client_id != client_id:
            raise InvalidValueError(
                "campaigns", f"campaigns of client {client_id!r}", campaign.client_id
            )
        if not campaign_selected(campaign, p.settings):
            p.skipped["campaigns filtered out"] += 1
            continue
        p.client_of_campaign[campaign.campaign_id] = client_id
        if p.view.platform_campaigns.get(campaign.campaign_id) != campaign:
            p.platform_campaigns.append(campaign)
        _link_campaign(p, campaign)
        events = read.events.get(campaign.campaign_id, ())
        p.events_read += len(events)
        latest = _import_events(p, client_id, campaign, read.records.get(campaign.campaign_id, ()))
        if latest is not None:
            p.latest_read[client_id] = max(latest, p.latest_read.get(client_id, latest))
        link = p.links.get(campaign.campaign_id)
        summary = read.summaries.get(campaign.campaign_id)
        if p.settings.update_campaign_statistics and link is not None and summary is not None:
            crm_campaign = p.campaigns[link.crm_campaign_id]
            if crm_campaign.statistics != summary:
                p.statistics.append((crm_campaign.campaign_id, summary))


def _stale_platform_campaigns(p: _Planning, reads: tuple[ClientRead, ...]) -> tuple[str, ...]:
    """A full sync's stored platform-campaign copies to delete (see
    :func:`stale_platform_campaigns`); a campaign whose record deletions the CRM refused is
    held."""
    if not p.full:
        return ()
    held = {key.campaign_id for key in p.refused.deletes}  # its records stay: so does it
    return stale_platform_campaigns(
        p.view.platform_campaigns, {r.client_id for r in reads}, p.client_of_campaign, held
    )


def _count_purged(p: _Planning) -> int:
    expired = {a.key for a in p.view.expired}
    return sum(1 for a in p.deletes if a.key in expired)


def _link_campaign(p: _Planning, campaign: PlatformCampaign) -> None:
    settings = p.settings
    link = p.links.get(campaign.campaign_id)
    if link is None:
        since = settings.auto_create_campaigns_since
        if not settings.auto_create_campaigns or since is None or campaign.sent_at < since:
            return
        crm_id = auto_campaign_id(campaign.campaign_id)
        crm_campaign = p.campaigns.get(crm_id)
        if crm_campaign is None:
            crm_campaign = CrmCampaign(
                crm_id, campaign.name, _status_set(settings), created_by_integration=True
            )
            p.new_campaigns.append(crm_campaign)
            p.campaigns[crm_id] = crm_campaign
        link = CampaignLink(campaign.client_id, campaign.campaign_id, crm_id)
        p.new_links.append(link)
        p.links[campaign.campaign_id] = link
    crm_campaign = p.campaigns.get(link.crm_campaign_id)
    if crm_campaign is None:  # deleted in the CRM: report it, sync the rest
        p.refusals.append(
            Refusal(
                RefusalKind.USE_LINKED_CAMPAIGN,
                f"campaign {link.crm_campaign_id}",
                f"it no longer exists, but platform campaign {campaign.campaign_id} links to "
                "it; re-link the platform campaign (its tracking records are still imported)",
                campaign.client_id,
            )
        )
        del p.links[campaign.campaign_id]
        return
    if settings.auto_create_statuses:
        missing = _missing_statuses(crm_campaign, settings)
        if missing:
            p.statuses.extend((crm_campaign.campaign_id, s) for s in missing)
            p.campaigns[crm_campaign.campaign_id] = attrs.evolve(
                crm_campaign, statuses=crm_campaign.statuses + missing
            )


def _import_events(
    p: _Planning, client_id: str, campaign: PlatformCampaign, records: tuple[Activity, ...]
) -> datetime | None:
    """Turn a campaign's events into records to insert; return the latest event time read."""
    settings, as_of = p.settings, p.as_of
    cutoffs = {t: settings.retention_cutoff(t, as_of) for t in ActivityType}
    imports = {t: settings.imports(t) for t in ActivityType}
    linked = campaign.campaign_id in p.links
    existing = p.view.existing_keys
    latest: datetime | None = None
    refs: dict[str, MemberRef] = {}  # each member's ref built (and noted) once
    for activity in records:
        at = activity.occurred_at
        if at > as_of:
            p.skipped["events after as_of"] += 1
            continue
        if latest is None or at > latest:
            latest = at
        ref = refs.get(activity.member_id)
        if ref is None:
            ref = refs[activity.member_id] = MemberRef(activity.campaign_id, activity.member_id)
            if linked:
                p.emails.setdefault(ref, activity.email or activity.member_id)
                p.causes.setdefault(ref, set())
        if not imports[activity.type]:
            p.skipped["types not imported"] += 1
            continue
        if at < cutoffs[activity.type]:
            p.skipped["older than retention"] += 1
            continue
        key = activity.key
        p.target_keys.add(key)
        reason = p.refused.inserts.get(key)
        if reason is not None:
            p.refusals.append(Refusal(RefusalKind.INSERT_RECORD, _describe(key), reason, client_id))
            continue
        if key in existing:
            continue
        p.inserts.append(activity)
        p.new_by_member[ref].append(activity)
        if linked:
            p.causes[ref].add(RefreshCause.IMPORT)
    return latest


def _describe(key: ActivityKey) -> str:
    return (
        f"{key.type.value} of campaign {key.campaign_id} at minute {key.minute} #{key.occurrence}"
    )


def _purge(p: _Planning, reads: tuple[ClientRead, ...]) -> None:
    doomed: dict[ActivityKey, Activity] = {a.key: a for a in p.view.expired}
    if p.full:
        clients = {r.client_id for r in reads}
        for stored in p.view.stored.values():
            for activity in stored:
                if activity.client_id in clients and activity.key not in p.target_keys:
                    doomed.setdefault(activity.key, activity)
    for key, activity in doomed.items():
        reason = p.refused.deletes.get(key)
        if reason is not None:
            p.refusals.append(
                Refusal(RefusalKind.DELETE_RECORD, _describe(key), reason, activity.client_id)
            )
            continue
        p.deletes.append(activity)
        ref = MemberRef(activity.campaign_id, activity.member_id)
        p.deleted_by_member[ref].append(activity)
        if activity.campaign_id in p.links:
            p.causes[ref].add(RefreshCause.DELETION)
            p.emails.setdefault(ref, activity.email or activity.member_id)
            p.client_of_campaign.setdefault(activity.campaign_id, activity.client_id)


def _refresh_members(
    p: _Planning, reads: tuple[ClientRead, ...]
) -> tuple[
    list[MemberRecord], set[tuple[MemberRef, RefreshCause]], set[tuple[MemberRef, RefreshCause]]
]:
    settings = p.settings
    view = p.view
    for read in reads:
        for ref, cause in read.checkpoint.pending:
            p.causes[ref].add(cause)
    if p.full:
        for ref, record in view.members.items():
            if record.member.campaign_id in p.client_of_campaign:
                p.causes.setdefault(ref, set())  # a full sync refreshes every member
    known = {record.ref: record for record in view.unmatched}
    known.update(view.members)
    for record in view.unmatched:
        if record.ref not in p.causes and email_key(record.email) in view.people:
            p.causes.setdefault(record.ref, set())  # a contact or lead appeared: match it

    saved: list[MemberRecord] = []
    journal: set[tuple[MemberRef, RefreshCause]] = set()
    still_pending: set[tuple[MemberRef, RefreshCause]] = set()
    for ref, causes in p.causes.items():
        link = p.links.get(ref.campaign_id)
        if link is None:
            continue
        crm_campaign = p.campaigns[link.crm_campaign_id]
        default = crm_campaign.default_status
        before = known.get(ref)
        if before is None:
            email = p.emails.get(ref, ref.member_id)
            before = MemberRecord(
                crm_campaign.campaign_id,
                CampaignMember(ref.campaign_id, ref.member_id, status=default),
                email,
            )
            causes.add(RefreshCause.IMPORT)  # a new member is refreshed as after an import
        deleted = {a.key for a in p.deleted_by_member.get(ref, ())}
        held = view.stored.get(ref, ())
        # Keys are computed only where a record of the member is deleted.
        stored = [a for a in held if a.key not in deleted] if deleted else list(held)
        stored += p.new_by_member.get(ref, ())
        member = before.member
        if p.full:
            member = refresh_member(
                member, (), settings, cause=RefreshCause.DELETION, default_status=default
            )
            member = refresh_member(
                member, stored, settings, cause=RefreshCause.IMPORT, default_status=default
            )
        else:
            member = _refresh_incremental(member, stored, causes, settings, default)
        person_id = before.person_id
        if person_id is None:
            best = _best_person(view.people.get(email_key(before.email), ()))
            person_id = best.person_id if best is not None else None
        after = attrs.evolve(before, member=member, person_id=person_id)
        if after == known.get(ref):
            continue
        entries = {(ref, c) for c in causes}  # a re-read is re-read again after a crash
        reason = p.refused.members.get(ref)
        if reason is not None:
            p.refusals.append(
                Refusal(
                    RefusalKind.SAVE_MEMBER,
                    f"member {ref.member_id} of campaign {ref.campaign_id}",
                    reason,
                    p.client_of_campaign.get(ref.campaign_id, ""),
                )
            )
            still_pending |= entries
            continue
        journal |= entries
        saved.append(after)
    return saved, journal, still_pending


def _refresh_incremental(
    member: CampaignMember,
    stored: list[Activity],
    causes: set[RefreshCause],
    settings: Settings,
    default: str,
) -> CampaignMember:
    """After an import, then after a deletion; a member only re-read gets its counters."""
    if RefreshCause.IMPORT in causes:
        member = refresh_member(
            member, stored, settings, cause=RefreshCause.IMPORT, default_status=default
        )
    elif not causes:  # re-read with nothing new: counters only, Status untouched
        engagement = rollup(stored)
        if engagement != member.engagement:
            member = attrs.evolve(member, engagement=engagement)
    if RefreshCause.DELETION in causes:
        member = refresh_member(
            member, stored, settings, cause=RefreshCause.DELETION, default_status=default
        )
    return member


def _next_watermark(p: _Planning, old: Checkpoint, latest: datetime | None) -> datetime | None:
    """The latest event read, held at the earliest refused record; never backwards."""
    held = [key for key in p.refused.inserts if key.client_id == old.client_id]
    return _watermark(old, latest, held)


def _watermark(
    old: Checkpoint, latest: datetime | None, held: Iterable[ActivityKey]
) -> datetime | None:
    candidate = latest
    starts = [_minute_start(key.minute) for key in held]
    if starts and candidate is not None:
        candidate = min(candidate, *starts)
    if old.watermark is None:
        return candidate
    if candidate is None or candidate < old.watermark:
        return old.watermark
    return candidate


def _minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)
