"""What a platform under contract serves: :class:`PlatformSeed`, its memberships, and the
standard seed the platform contract runs on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.records.platform import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    TrackingEvent,
)
from cmsf_core.domain.subscribers import SubscriberState, SuppressedEmail
from cmsf_core.testing._support import (
    ANN,
    BOB,
    CAMPAIGN,
    CAROL,
    CLIENT,
    OTHER_CAMPAIGN,
    OTHER_CLIENT,
    T0,
)


def _whole_minute(at: datetime, field: str) -> None:
    if at.second or at.microsecond:
        raise InvalidValueError(
            field, "a whole minute (the platform reports times to the minute)", at
        )


def _instances(kind: type, field: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(field, f"a collection of {kind.__name__}", value)
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise InvalidValueError(field, f"{kind.__name__} values", item)
    return items


def _seed_clients(value: object) -> tuple[PlatformClient, ...]:
    return _instances(PlatformClient, "clients", value)


def _seed_campaigns(value: object) -> tuple[PlatformCampaign, ...]:
    return _instances(PlatformCampaign, "campaigns", value)


def _pairs(kind: type, field: str, key: str, value: object) -> tuple[tuple[str, Any], ...]:
    """``(<key>, <kind>)`` pairs, as ``_instances`` checks single values."""
    expected = f"({key}, {kind.__name__}) pairs"
    if not isinstance(value, Iterable):
        raise InvalidValueError(field, expected, value)
    pairs = []
    for pair in value:
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], kind)
        ):
            raise InvalidValueError(field, expected, pair)
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _seed_events(value: object) -> tuple[tuple[str, TrackingEvent], ...]:
    if isinstance(value, Mapping):
        value = [(cid, e) for cid, events in value.items() for e in events]
    return _pairs(TrackingEvent, "events", "campaign id", value)


def _seed_summaries(value: object) -> tuple[tuple[str, CampaignSummary], ...]:
    if isinstance(value, Mapping):
        value = list(value.items())
    return _pairs(CampaignSummary, "summaries", "campaign id", value)


def _seed_state(value: object) -> SubscriberState:
    return SubscriberState.parse(value)


@attrs.frozen
class SeedMembership:
    """An email on a client's list, in ``state`` since ``changed_at`` (what
    ``subscriber_changes`` filters on)."""

    client_id: str
    list_id: str
    email: str
    state: SubscriberState = attrs.field(converter=_seed_state)
    changed_at: datetime = T0


def _seed_memberships(value: object) -> tuple[SeedMembership, ...]:
    return _instances(SeedMembership, "memberships", value)


def _seed_suppressed(value: object) -> tuple[tuple[str, SuppressedEmail], ...]:
    return _pairs(SuppressedEmail, "suppressed", "client id", value)


@attrs.frozen
class PlatformSeed:
    """What a platform under contract must serve: clients, sent campaigns, events, summaries,
    list memberships and suppressed emails.

    ``events`` are ``(campaign id, event)`` pairs in the order they arrived on the platform
    (a mapping of campaign id to events is accepted too); their times are whole minutes,
    the platform's precision.  Build your platform from it: the in-memory one with its
    ``add_*`` helpers, a file adapter by writing its files.
    """

    clients: tuple[PlatformClient, ...] = attrs.field(default=(), converter=_seed_clients)
    campaigns: tuple[PlatformCampaign, ...] = attrs.field(default=(), converter=_seed_campaigns)
    events: tuple[tuple[str, TrackingEvent], ...] = attrs.field(default=(), converter=_seed_events)
    summaries: tuple[tuple[str, CampaignSummary], ...] = attrs.field(
        default=(), converter=_seed_summaries
    )
    memberships: tuple[SeedMembership, ...] = attrs.field(default=(), converter=_seed_memberships)
    suppressed: tuple[tuple[str, SuppressedEmail], ...] = attrs.field(
        default=(), converter=_seed_suppressed
    )

    def __attrs_post_init__(self) -> None:
        clients = {c.client_id for c in self.clients}
        campaigns = {c.campaign_id for c in self.campaigns}
        for campaign in self.campaigns:
            if campaign.client_id not in clients:
                raise InvalidValueError("campaigns", "campaigns of seeded clients", campaign)
        for campaign_id, event in self.events:
            if campaign_id not in campaigns:
                raise InvalidValueError("events", "events of seeded campaigns", campaign_id)
            _whole_minute(event.occurred_at, "events")
        for campaign_id, _summary in self.summaries:
            if campaign_id not in campaigns:
                raise InvalidValueError("summaries", "summaries of seeded campaigns", campaign_id)
        for membership in self.memberships:
            if membership.client_id not in clients:
                raise InvalidValueError("memberships", "lists of seeded clients", membership)
            if membership.state is SubscriberState.SUPPRESSED:
                raise InvalidValueError("memberships", "list states (not Suppressed)", membership)
        for client_id, _entry in self.suppressed:
            if client_id not in clients:
                raise InvalidValueError("suppressed", "emails of seeded clients", client_id)

    def campaigns_of(self, client_id: str) -> tuple[PlatformCampaign, ...]:
        """The seeded campaigns of one client."""
        return tuple(c for c in self.campaigns if c.client_id == client_id)

    def stream(
        self, campaign_id: str, stream: ActivityType, *, since: datetime | None = None
    ) -> tuple[TrackingEvent, ...]:
        """The events a stream must serve (``since`` inclusive), in arrival order."""
        return tuple(
            e
            for cid, e in self.events
            if cid == campaign_id and e.type is stream and (since is None or e.occurred_at >= since)
        )

    def summary(self, campaign_id: str) -> CampaignSummary | None:
        """The seeded summary of a campaign, if any."""
        return dict(self.summaries).get(campaign_id)


def standard_seed() -> PlatformSeed:
    """The seed the platform contract runs on: an agency with two clients in different time
    zones, tagged campaigns, every stream, identical twins, URLs, bounce types and lists."""
    london = PlatformClient(CLIENT, "Acme London", "Europe/London")
    sydney = PlatformClient(OTHER_CLIENT, "Acme Sydney", "Australia/Sydney")
    spring = PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0, frozenset({"news", "spring"}))
    summer = PlatformCampaign(CLIENT, "cmp-contract-3", "Summer", T0 + timedelta(days=30))
    sydney_news = PlatformCampaign(
        OTHER_CLIENT, OTHER_CAMPAIGN, "Sydney news", T0 + timedelta(hours=2), frozenset({"au"})
    )
    url = "https://example.com/spring-sale"

    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    spring_events = [
        TrackingEvent(ActivityType.SENT, ANN, at(0), list_id="list-1"),
        TrackingEvent(ActivityType.SENT, BOB, at(0), list_id="list-1"),
        TrackingEvent(ActivityType.SENT, CAROL, at(0), list_id="list-2"),
        TrackingEvent(ActivityType.OPENED, BOB, at(45)),  # arrived late, happened later
        TrackingEvent(ActivityType.OPENED, ANN, at(30)),
        TrackingEvent(ActivityType.OPENED, ANN, at(30)),  # an identical twin
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail=url),
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail=url),  # twin
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail="https://example.com/other"),
        TrackingEvent(ActivityType.CLICKED, BOB, at(90), detail=url),
        TrackingEvent(ActivityType.BOUNCED, CAROL, at(2), detail="Soft"),
        TrackingEvent(ActivityType.BOUNCED, CAROL, at(62), detail="Hard"),
        TrackingEvent(ActivityType.UNSUBSCRIBED, BOB, at(120), list_id="list-1"),
        TrackingEvent(ActivityType.SPAM_COMPLAINT, ANN, at(180)),
    ]
    sydney_events = [
        TrackingEvent(ActivityType.SENT, "dan@example.com.au", at(120)),
        TrackingEvent(ActivityType.OPENED, "dan@example.com.au", at(121)),
    ]
    return PlatformSeed(
        clients=(london, sydney),
        campaigns=(spring, summer, sydney_news),
        events=[(CAMPAIGN, e) for e in spring_events]
        + [(OTHER_CAMPAIGN, e) for e in sydney_events],
        summaries={
            CAMPAIGN: CampaignSummary(
                recipients=3,
                total_opened=3,
                unique_opened=2,
                clicks=4,
                bounced=2,
                unsubscribed=1,
                spam_complaints=1,
                forwards=1,
            ),
            OTHER_CAMPAIGN: CampaignSummary(recipients=1, total_opened=1, unique_opened=1),
        },
        memberships=(
            SeedMembership(CLIENT, "list-1", ANN, SubscriberState.ACTIVE, at(0)),
            SeedMembership(CLIENT, "list-2", ANN, SubscriberState.UNSUBSCRIBED, at(120)),
            SeedMembership(CLIENT, "list-1", BOB, SubscriberState.UNSUBSCRIBED, at(120)),
            SeedMembership(CLIENT, "list-2", CAROL, SubscriberState.BOUNCED, at(62)),
            SeedMembership(OTHER_CLIENT, "list-au", ANN, SubscriberState.DELETED, at(0)),
        ),
        suppressed=(
            (CLIENT, SuppressedEmail(CAROL, "Bounced", at(62))),
            (OTHER_CLIENT, SuppressedEmail("dan@example.com.au", "Unsubscribed", at(121))),
        ),
    )
