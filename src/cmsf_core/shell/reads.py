"""What a sync reads from the platform: a selected campaign's tracking events, stream by
stream and page by page, and the maintenance message of a client that cannot be read (and
is skipped).  What the CRM is asked for each batch is the streaming sync's
(:mod:`cmsf_core.shell.stream`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.records.platform import (
    PlatformCampaign,
    SkippedRow,
    TrackingEvent,
)
from cmsf_core.domain.settings import Settings

if TYPE_CHECKING:
    from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "CLIENT_SKIPPED",
    "CLIENT_TIME_ZONE",
    "PAGE_SIZE",
    "Progress",
    "read_events",
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
