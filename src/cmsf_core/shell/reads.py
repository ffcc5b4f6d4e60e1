"""What a sync reads: each client's campaigns and tracking events from the platform (a
client that cannot be read is skipped with a maintenance message), then from the CRM only
what those events, the expired records and the journal touch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.planner import (
    ClientRead,
    CrmView,
    campaign_selected,
    read_window_start,
)
from cmsf_core.domain.records.campaigns import CampaignLink
from cmsf_core.domain.records.members import MemberRef
from cmsf_core.domain.records.platform import (
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingEvent,
)
from cmsf_core.domain.retention import retention_cutoffs
from cmsf_core.domain.settings import Settings

if TYPE_CHECKING:
    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "CLIENT_SKIPPED",
    "CLIENT_TIME_ZONE",
    "PAGE_SIZE",
    "Progress",
    "read_crm",
    "read_events",
    "read_platform",
    "skipped_client",
]

#: ``progress(stage, done, total)``: called as the sync advances; ``total`` may be None.
Progress = Callable[[str, int, int | None], None]

PAGE_SIZE = 1000


def _read_stream(
    platform: EmailPlatform,
    campaign_id: str,
    stream: ActivityType,
    since: datetime | None,
    skipped: list[SkippedRow],
) -> list[TrackingEvent]:
    events: list[TrackingEvent] = []
    page = 1
    while True:
        result = platform.tracking_page(
            campaign_id, stream, since=since, page=page, page_size=PAGE_SIZE
        )
        events.extend(result.results)
        skipped.extend(result.skipped)
        if page >= result.number_of_pages:
            return events
        page += 1


def _streams_for(
    campaign: PlatformCampaign, settings: Settings, linked: bool
) -> list[ActivityType]:
    streams = [t for t in ActivityType if settings.imports(t)]
    may_link = settings.auto_create_campaigns and (
        settings.auto_create_campaigns_since is not None
        and campaign.sent_at >= settings.auto_create_campaigns_since
    )
    if (linked or may_link) and ActivityType.SENT not in streams:
        streams.insert(0, ActivityType.SENT)  # members are created from the recipients
    return streams


def read_events(
    platform: EmailPlatform,
    campaign: PlatformCampaign,
    settings: Settings,
    linked: bool,
    since: datetime | None,
    skipped: list[SkippedRow],
) -> tuple[TrackingEvent, ...]:
    """A selected campaign's events since ``since`` (None: its whole history), stream by
    stream (the recipients first when members may be created), page by page; malformed
    rows the platform left out are added to ``skipped``."""
    return tuple(
        event
        for stream in _streams_for(campaign, settings, linked)
        for event in _read_stream(platform, campaign.campaign_id, stream, since, skipped)
    )


#: The support code of a client the sync could not read and skipped.
CLIENT_SKIPPED = "SYNC-CLIENT-SKIPPED"
#: The support code of a client skipped because its time zone maps to no IANA zone.
CLIENT_TIME_ZONE = "SYNC-CLIENT-TIME-ZONE"


def skipped_client(client_id: str, error: Exception, at: datetime) -> MaintenanceMessage:
    """The maintenance message of a client the sync could not read (and skipped)."""
    from cmsf_core.ports.errors import UnmappableTimeZoneError  # noqa: PLC0415 - when a sync runs

    zone = isinstance(error, UnmappableTimeZoneError)
    return MaintenanceMessage(
        CLIENT_TIME_ZONE if zone else CLIENT_SKIPPED,
        Severity.ERROR,
        f"client {client_id}",
        f"{error}. This client was skipped; the other clients synced, and its data is read "
        "at the next sync that can read it.",
        at,
    )


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
    from cmsf_core.ports.errors import PlatformError, UnmappableTimeZoneError  # noqa: PLC0415

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
