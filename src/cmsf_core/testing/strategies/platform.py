"""Strategies for what an email platform holds (a :class:`~cmsf_core.testing.seed.PlatformSeed`)
and the in-memory platforms serving it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records.platform import PlatformCampaign, PlatformClient, TrackingEvent
from cmsf_core.testing.strategies.config import _TAGS
from cmsf_core.testing.strategies.instants import _MINUTE, DST_ZONES, dst_transitions, time_zones
from cmsf_core.testing.strategies.records import _DETAILS, _LISTS, EMAILS, activity_types

if TYPE_CHECKING:
    from cmsf_core.adapters.memory import InMemoryPlatform
    from cmsf_core.testing.seed import PlatformSeed


def _platform_base(zone: str) -> datetime:
    """Two hours before the zone's first clock change of 2024 (a fixed day without one)."""
    changes = dst_transitions(zone) if zone in DST_ZONES else ()
    return (changes[0] if changes else datetime(2024, 3, 4, 9, 0, tzinfo=UTC)) - timedelta(hours=2)


_EventSpec = tuple[int, ActivityType, str, int, "str | None", int]


def _build_history(
    zones: list[str],
    campaign_specs: list[tuple[int, int, frozenset[str]]],
    minutes_after: list[int],
    event_specs: list[_EventSpec],
    twins: list[int],
) -> PlatformSeed:
    from cmsf_core.testing.seed import PlatformSeed  # noqa: PLC0415 - kept off the import path

    clients = [
        PlatformClient(f"client-{n}", f"Client {n}", zone) for n, zone in enumerate(zones, 1)
    ]
    campaigns = []
    for n, (client_index, minutes, tags) in enumerate(campaign_specs, 1):
        client = clients[client_index % len(clients)]
        sent_at = _platform_base(client.time_zone) + minutes * _MINUTE
        campaigns.append(
            PlatformCampaign(client.client_id, f"cmp-{n}", f"Campaign {n}", sent_at, tags)
        )
    events: list[tuple[str, TrackingEvent]] = []
    for campaign_index, activity_type, email, after, list_id, detail in event_specs:
        campaign = campaigns[campaign_index % len(campaigns)]
        details = _DETAILS.get(activity_type)
        at = campaign.sent_at + minutes_after[after % len(minutes_after)] * _MINUTE
        event = TrackingEvent(
            activity_type,
            email,
            at,
            list_id=list_id,
            detail=details[detail] if details else None,
        )
        events.append((campaign.campaign_id, event))
    if events:  # identical twins, arriving later
        events += [events[index % len(events)] for index in twins]
    return PlatformSeed(clients=clients, campaigns=campaigns, events=events)


def platform_histories(
    *, max_clients: int = 2, max_campaigns: int = 3, max_events: int = 12
) -> st.SearchStrategy[PlatformSeed]:
    """What an email platform holds, as a :class:`~cmsf_core.testing.PlatformSeed`: one or
    more clients (agency accounts) in their time zones, campaigns sent around the zone's
    first clock change of 2024, and tracking events of every type in whole minutes
    (the platform's precision) after the send, shared by several events, with identical
    twins, addresses in two spellings, lists, URLs and bounce types.

    Shrinks to one client ``client-1`` in UTC with one campaign ``cmp-1`` and no events.
    """
    index = st.integers(min_value=0, max_value=64)
    campaign = st.tuples(
        index,
        st.integers(min_value=0, max_value=240),
        st.frozensets(st.sampled_from(_TAGS), max_size=2),
    )
    # A few times after the send, shared by the events: twins and ties are common.
    minutes_after = st.one_of(
        st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=14 * 24 * 60)
    )
    event = st.tuples(
        index,
        activity_types(),
        st.sampled_from(EMAILS),
        index,
        st.sampled_from((None, *_LISTS)),
        st.integers(min_value=0, max_value=1),
    )
    return st.builds(
        _build_history,
        st.lists(time_zones(), min_size=1, max_size=max_clients),
        st.lists(campaign, min_size=1, max_size=max_campaigns),
        st.lists(minutes_after, min_size=1, max_size=4),
        st.lists(event, max_size=max_events),
        st.lists(index, max_size=3),
    )


def seeded_platform(seed: PlatformSeed) -> InMemoryPlatform:
    """An :class:`~cmsf_core.adapters.memory.InMemoryPlatform` serving exactly ``seed``:
    its clients, campaigns, events (in their arrival order), summaries, list memberships
    and suppressed emails."""
    from cmsf_core.adapters.memory import InMemoryPlatform  # noqa: PLC0415 - see above

    platform = InMemoryPlatform()
    for client in seed.clients:
        platform.add_client(client.client_id, client.name, time_zone=client.time_zone)
    for campaign in seed.campaigns:
        platform.add_campaign(
            campaign.client_id,
            campaign.campaign_id,
            campaign.name,
            sent_at=campaign.sent_at,
            tags=campaign.tags,
        )
    for campaign_id, event in seed.events:
        platform.add_events(campaign_id, [event])
    for campaign_id, summary in seed.summaries:
        platform.set_summary(campaign_id, summary)
    for m in seed.memberships:
        platform.set_membership(m.client_id, m.list_id, m.email, m.state, at=m.changed_at)
    for client_id, entry in seed.suppressed:
        platform.add_suppressed(client_id, entry.email, entry.reason, entry.suppressed_at)
    return platform


def platforms(
    histories: st.SearchStrategy[PlatformSeed] | None = None,
) -> st.SearchStrategy[InMemoryPlatform]:
    """Fresh in-memory platforms serving a drawn history (:func:`platform_histories` by
    default).  Shrinks to the platform of the simplest history."""
    return (platform_histories() if histories is None else histories).map(seeded_platform)
