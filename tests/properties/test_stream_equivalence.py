"""The streaming sync ends where one plan of everything ends.

Random histories (events, time passing, campaigns removed from the platform, contacts
appearing, settings changing, writes the CRM refuses) are synced twice on the in-memory
adapters: by :func:`~cmsf_core.shell.sync.run_sync` (one campaign at a time) and by the
one-shot reference below (everything read, :func:`~cmsf_core.domain.planner.plan_sync`
once, applied in the crash-safe order).  Records, members, checkpoints, maintenance
messages, platform-campaign copies and CRM campaigns must be identical after every sync,
and so must the plans' counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from hypothesis import event as note_event
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import ActivityType, RefreshMode, Settings
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.activity import Activity, ActivityKey
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.planner import (
    ClientRead,
    CrmView,
    Refusals,
    SyncPlan,
    campaign_selected,
    plan_sync,
    read_window_start,
)
from cmsf_core.domain.records import MemberRef, TrackingEvent
from cmsf_core.domain.records.campaigns import CampaignLink
from cmsf_core.domain.records.platform import PlatformClient, SkippedRow
from cmsf_core.domain.retention import retention_cutoffs
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.errors import PlatformError, UnmappableTimeZoneError
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.reads import Progress, read_events, skipped_client
from cmsf_core.shell.subscriber_sync import sync_subscribers
from cmsf_core.shell.sync import run_sync

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EMAILS = ("ann@example.com", "Bob@Example.com", "cy@example.com", "dee@example.com")
#: campaign -> (client, tag, linked)
CAMPAIGNS = {
    "cmp-a": ("c1", "news", True),
    "cmp-b": ("c1", "promo", True),
    "cmp-x": ("c1", "promo", False),
    "cmp-c": ("c2", "news", True),
    "cmp-y": ("c2", "news", False),
}
STATUSES = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")


# ----------------------------------------------------------------------------- the reference
# The one-shot sync's reads: every client's every selected campaign read at once, then
# from the CRM what all of it touches.


def read_platform(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    *,
    full: bool,
    progress: Progress,
    at: datetime,
    skipped: list[SkippedRow],
) -> tuple[tuple[ClientRead, ...], tuple[MaintenanceMessage, ...]]:
    """What each client holds; a client that cannot be read (an unmappable time zone, a
    platform error) is skipped with a maintenance message, and the others are read.
    Malformed rows the platform left out are added to ``skipped`` (for the clients read)."""
    links = crm.links()
    reads = []
    skipped_clients: list[MaintenanceMessage] = []
    clients = platform.clients()
    for n, client in enumerate(clients, 1):
        rows: list[SkippedRow] = []
        try:
            reads.append(_read_client(crm, platform, settings, client, links, full, progress, rows))
        except (UnmappableTimeZoneError, PlatformError) as error:
            skipped_clients.append(skipped_client(client.client_id, error, at))
        else:
            skipped.extend(rows)
        progress("reading clients", n, len(clients))
    return tuple(reads), tuple(skipped_clients)


def _read_client(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    client: PlatformClient,
    links: Mapping[str, CampaignLink],
    full: bool,
    progress: Progress,
    skipped: list[SkippedRow],
) -> ClientRead:
    """One client's campaigns, the events of the selected ones since its read window, and
    their summaries (when statistics are pushed)."""
    checkpoint = crm.checkpoint(client.client_id)
    since = None if full else read_window_start(checkpoint, settings)
    campaigns = tuple(platform.sent_campaigns(client.client_id))
    events: dict[str, tuple[TrackingEvent, ...]] = {}
    summaries = {}
    selected = [c for c in campaigns if campaign_selected(c, settings)]
    for m, campaign in enumerate(selected, 1):
        linked = campaign.campaign_id in links
        events[campaign.campaign_id] = read_events(
            platform, campaign, settings, linked, since, skipped
        )
        if settings.update_campaign_statistics:
            summaries[campaign.campaign_id] = platform.campaign_summary(campaign.campaign_id)
        progress(f"reading {client.name}", m, len(selected))
    return ClientRead(checkpoint, campaigns, events, since, summaries)


def read_crm(
    crm: CrmStore,
    reads: Sequence[ClientRead],
    settings: Settings,
    *,
    as_of: datetime,
    full: bool,
) -> CrmView:
    """Read from the CRM only what the events, the expired records and the journal touch."""
    links = crm.links()
    touched: set[MemberRef] = set()
    emails: set[str] = set()
    for read in reads:
        touched.update(ref for ref, _cause in read.checkpoint.pending)
        for campaign_id, events in read.events.items():
            for event in events:
                email = email_key(event.email)
                touched.add(MemberRef(campaign_id, email))
                emails.add(email)
    expired = tuple(crm.expired_records(retention_cutoffs(settings, as_of=as_of)))
    touched.update(MemberRef(a.campaign_id, a.member_id) for a in expired)
    # Unmatched members whose email now has a contact or lead are matched (and so
    # refreshed) by this sync: they are touched like the others.
    unmatched = tuple(crm.unmatched_members())
    emails.update(email_key(m.email) for m in unmatched)
    people = crm.find_people(emails)
    touched.update(m.ref for m in unmatched if email_key(m.email) in people)
    stored: Mapping[MemberRef, tuple[Activity, ...]]
    if full:
        client_ids = [r.client_id for r in reads]
        grouped: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for activity in crm.records_of_clients(client_ids):
            grouped[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        campaign_ids = [c.campaign_id for r in reads for c in r.campaigns]
        managed = {m.ref: m for m in crm.members_of(campaign_ids)}
        touched.update(managed)
        touched.update(grouped)
        stored = {ref: tuple(records) for ref, records in grouped.items()}
    else:
        stored = crm.records_for(touched)
    members = dict(crm.members(touched))
    missing = {email_key(m.email) for m in members.values() if m.person_id is None}
    missing.update(email_key(ref.member_id) for ref in touched if ref not in members)
    missing -= emails  # a member created by this sync is matched whatever created it
    if missing:
        people = {**people, **crm.find_people(missing)}
    read_keys = _keys_read(reads)
    return CrmView(
        campaigns=crm.campaigns(),
        links=links,
        members=members,
        stored=stored,
        expired=expired,
        existing_keys=frozenset(crm.existing_keys(read_keys)),
        people=people,
        unmatched=unmatched,
        platform_campaigns=crm.platform_campaigns(),
    )


def _keys_read(reads: Sequence[ClientRead]) -> set[ActivityKey]:
    """The keys the planner will derive for the events read (to ask which are stored)."""
    keys: set[ActivityKey] = set()
    for read in reads:
        for records in read.records.values():
            keys.update(a.key for a in records)
    return keys


def _noop(_stage: str, _done: int, _total: int | None) -> None:
    return None


def _refusals(crm: CrmStore, plan: SyncPlan) -> Refusals | None:
    """The one-shot sync's apply, up to (not including) its checkpoints."""
    journal = crm.save_checkpoints(plan.journal)
    assert not journal.failures
    crm.save_platform_campaigns(plan.platform_campaigns)
    crm.create_campaigns(plan.campaigns_to_create, plan.links_to_create)
    crm.add_statuses(plan.statuses_to_add)
    inserts = dict(crm.insert_records(plan.records_to_insert).failures)
    deletes = dict(crm.delete_records([a.key for a in plan.records_to_delete]).failures)
    if inserts or deletes:
        return Refusals(
            {cast(ActivityKey, k): v for k, v in inserts.items()},
            {cast(ActivityKey, k): v for k, v in deletes.items()},
        )
    members = dict(crm.save_members(plan.members_to_save).failures)
    if members:
        return Refusals(members={cast(MemberRef, k): v for k, v in members.items()})
    crm.delete_platform_campaigns(plan.platform_campaigns_to_delete)
    crm.save_statistics(plan.statistics)
    crm.add_messages(plan.messages)
    return None


def one_shot_sync(
    crm: InMemoryCrm, platform: InMemoryPlatform, settings: Settings, *, as_of: datetime, full: bool
) -> SyncPlan:
    """Everything read, planned once (again with the refused writes), applied."""
    rows: list[SkippedRow] = []
    reads, skipped = read_platform(
        crm, platform, settings, full=full, progress=_noop, at=as_of, skipped=rows
    )
    view = read_crm(crm, reads, settings, as_of=as_of, full=full)
    if skipped:
        crm.add_messages(skipped)
    refused = Refusals()
    while True:
        plan = plan_sync(reads, view, settings, as_of=as_of, full=full, refused=refused)
        more = _refusals(crm, plan)
        if not more:
            break
        refused = Refusals(
            {**refused.inserts, **more.inserts},
            {**refused.deletes, **more.deletes},
            {**refused.members, **more.members},
        )
    windows = {read.client_id: read.read_since for read in reads}
    crm.add_messages(tuple(row.message(as_of) for row in rows))
    sync_subscribers(crm, platform, settings, windows, as_of=as_of, full=full)
    crm.save_checkpoints(plan.checkpoints)
    return plan


def _refuse(kind: str, item: object) -> str | None:
    """The CRM refuses Dee's clicks and saving Dee as a member of campaign B."""
    dee = isinstance(item, Activity) and item.member_id == "dee@example.com"
    if kind == "record" and dee and cast(Activity, item).type is ActivityType.CLICKED:
        return "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    if kind == "member" and "dee@example.com" in repr(item) and "cmp-b" in repr(item):
        return "UNABLE_TO_LOCK_ROW"
    return None


def _world(refusing: bool) -> tuple[InMemoryPlatform, InMemoryCrm]:
    platform = InMemoryPlatform()
    platform.add_client("c1", "Direct client", time_zone="Europe/London")
    platform.add_client("c2", "Agency sub-account", time_zone="Australia/Sydney")
    for campaign_id, (client_id, tag, _linked) in CAMPAIGNS.items():
        platform.add_campaign(
            client_id, campaign_id, campaign_id.upper(), sent_at=START, tags=[tag]
        )
    crm = InMemoryCrm(refuse=_refuse if refusing else None)
    for campaign_id, (client_id, _tag, linked) in CAMPAIGNS.items():
        if linked:
            crm.add_campaign("sf-" + campaign_id, campaign_id, statuses=STATUSES[:2])
            crm.link(client_id, campaign_id, "sf-" + campaign_id)
    crm.add_person("ann@example.com", person_id="003-ann")
    return platform, crm


settings_st = st.builds(
    Settings,
    refresh_mode=st.sampled_from(list(RefreshMode)),
    days_to_keep=st.sampled_from([0, 1, 7, 180]),
    imported_types=st.frozensets(st.sampled_from(list(ActivityType)), min_size=1),
    sync_overlap_minutes=st.just(60),
    auto_create_campaigns=st.booleans(),
    auto_create_campaigns_since=st.sampled_from([START - timedelta(days=1), START]),
    auto_create_statuses=st.booleans(),
    campaign_filter_tags=st.sampled_from([frozenset(), frozenset({"news"})]),
    update_campaign_statistics=st.booleans(),
)

event_st = st.tuples(
    st.sampled_from(sorted(CAMPAIGNS)),
    st.sampled_from(list(ActivityType)),
    st.sampled_from(EMAILS),
    st.integers(min_value=0, max_value=90),
)

step_st = st.one_of(
    st.tuples(st.just("events"), st.lists(event_st, min_size=1, max_size=8)),
    st.tuples(st.just("events"), st.lists(event_st, min_size=1, max_size=8)),
    st.tuples(st.just("sync"), st.booleans()),
    st.tuples(st.just("time"), st.sampled_from([5, 61, 60 * 24, 60 * 24 * 3])),
    st.tuples(st.just("sync"), st.booleans()),
    st.tuples(st.just("remove"), st.sampled_from(sorted(CAMPAIGNS))),
    st.tuples(st.just("person"), st.sampled_from(EMAILS)),
    st.tuples(st.just("settings"), settings_st),
)


def _state(crm: InMemoryCrm) -> dict[str, object]:
    return {
        "records": sorted(map(repr, crm.all_records())),
        "members": sorted(map(repr, crm.all_members())),
        "checkpoints": [crm.checkpoint(c) for c in ("c1", "c2")],
        "messages": sorted(map(repr, crm.messages())),
        "platform campaigns": sorted(map(repr, crm.platform_campaigns().values())),
        "campaigns": sorted(map(repr, crm.campaigns().values())),
    }


def _keys(items: Sequence[Activity]) -> list[str]:
    return sorted(repr(a.key) for a in items)


@given(
    first=settings_st,
    steps=st.lists(step_st, min_size=1, max_size=16),
    refusing=st.booleans(),
)
def test_streaming_sync_ends_where_one_plan_of_everything_ends(
    first: Settings, steps: list[tuple[str, object]], refusing: bool
) -> None:
    """Streamed or planned at once, every sync leaves the same CRM and counts the same."""
    streamed, reference = _world(refusing), _world(refusing)
    settings, now, people = first, START, 0
    removed: set[str] = set()
    tail = [("sync", False), ("time", 60 * 24 * 2), ("sync", False), ("sync", True)]
    for kind, payload in [*steps, *tail]:
        if kind == "events":
            for campaign_id, activity_type, email, minutes_ago in cast(list, payload):
                at = now - timedelta(minutes=minutes_ago)
                detail = "https://example.com/a" if activity_type is ActivityType.CLICKED else None
                if campaign_id in removed:
                    continue
                for platform, _crm in (streamed, reference):
                    event = TrackingEvent(activity_type, email, at, detail=detail)
                    platform.add_events(campaign_id, [event])
        elif kind == "time":
            now += timedelta(minutes=cast(int, payload))
        elif kind == "remove":
            removed.add(cast(str, payload))
            for platform, _crm in (streamed, reference):
                platform.remove_campaign(cast(str, payload))
        elif kind == "person":
            people += 1
            for _platform, crm in (streamed, reference):
                crm.add_person(cast(str, payload), person_id=f"00Q-{people}")
        elif kind == "settings":
            settings = cast(Settings, payload)
        else:
            full = cast(bool, payload)
            report = run_sync(*streamed[::-1], settings, as_of=now, full=full)
            plan = one_shot_sync(*reference[::-1], settings, as_of=now, full=full)
            assert report.plan.counts() == plan.counts()
            assert _keys(report.plan.records_to_insert) == _keys(plan.records_to_insert)
            assert _keys(report.plan.records_to_delete) == _keys(plan.records_to_delete)
            assert sorted(map(repr, report.plan.members_to_save)) == sorted(
                map(repr, plan.members_to_save)
            )
            assert sorted(map(repr, report.plan.refusals)) == sorted(map(repr, plan.refusals))
            assert report.plan.checkpoints == plan.checkpoints
            assert _state(streamed[1]) == _state(reference[1])
            counts = plan.counts()
            for name in (
                "records inserted",
                "records deleted",
                "members saved",
                "refused writes",
                "platform campaigns deleted",
                "of which purged by retention",
                "campaigns created",
            ):
                if counts[name]:
                    note_event(f"{'full' if full else 'incremental'}: {name}")
