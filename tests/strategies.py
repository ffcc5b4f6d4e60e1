"""Reusable Hypothesis strategies for the tracking core's tests.

Times come from a small set of instants so that ties at one instant, identical events in
one minute ("twins") and records exactly at a retention cutoff happen often.  The same
instant is offered in several representations (UTC, stdlib zones, a fixed offset,
pendulum) so that normalisation is exercised too.  The set straddles the Europe/Paris
spring-forward change (2024-03-31 01:00 UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
    number_occurrences,
)

CAMPAIGN_ID = "cmp-1"
MEMBER_ID = "m-1"

#: The first instant of the pool: one day before the Paris clocks go forward.
ORIGIN = datetime(2024, 3, 30, 1, 30, tzinfo=UTC)

#: Offsets from ORIGIN: three in one minute, the next minute, an hour, a day, two days.
OFFSETS = (
    timedelta(0),
    timedelta(seconds=20),
    timedelta(seconds=40),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=1, hours=1),
    timedelta(days=2),
)
INSTANTS: tuple[datetime, ...] = tuple(ORIGIN + offset for offset in OFFSETS)

ZONES = (
    UTC,
    ZoneInfo("Europe/Paris"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=5, minutes=30)),
)

#: Status labels shared between types on purpose ("Responded" may stand for Opened and Clicked).
LABELS = (
    "Sent",
    "Opened",
    "Clicked",
    "Bounced",
    "Unsubscribed",
    "Marked as Spam",
    "Registered",
    "Responded",
)

EMAILS = (None, "Ann@Example.com", "ann@example.com")
URLS = ("https://example.com/a", "https://example.com/b")
BOUNCE_TYPES = ("Soft", "Hard")


def _in_zone(instant: datetime, zone: object) -> datetime:
    if zone == "pendulum":
        return pendulum.instance(instant).in_timezone("Europe/Paris")
    assert isinstance(zone, timezone | ZoneInfo)
    return instant.astimezone(zone)


# Strategies are built once here: building them inside a composite on every draw is slow.
_ZONE = st.sampled_from((*ZONES, "pendulum"))
_INSTANT = st.sampled_from(INSTANTS)
_TYPE = st.sampled_from(tuple(ActivityType))
_URL = st.sampled_from(URLS)
_BOUNCE_TYPE = st.sampled_from(BOUNCE_TYPES)
_CLIENT = st.sampled_from(("", "client-1"))
_EMAIL = st.sampled_from(EMAILS)
_LIST = st.sampled_from((None, "list-1"))


def represented(instant: datetime) -> st.SearchStrategy[datetime]:
    """The same instant as an aware datetime in one of several zones (stdlib or pendulum)."""
    return _ZONE.map(lambda zone: _in_zone(instant, zone))


def instants() -> st.SearchStrategy[datetime]:
    """An instant of the pool, in UTC."""
    return _INSTANT


def aware_instants() -> st.SearchStrategy[datetime]:
    """An instant of the pool in any representation."""
    return st.builds(_in_zone, _INSTANT, _ZONE)


def as_of_instants() -> st.SearchStrategy[datetime]:
    """A retention ``as_of``: a pool instant plus 0 to 3 whole days, in any representation.

    Whole days make the cutoff land exactly on pool instants, so boundary records are common.
    """
    return st.builds(
        lambda instant, days, zone: _in_zone(instant + timedelta(days=days), zone),
        _INSTANT,
        st.integers(min_value=0, max_value=3),
        _ZONE,
    )


@st.composite
def _activity(draw: st.DrawFn) -> Activity:
    activity_type = draw(_TYPE)
    detail: str | None = None
    if activity_type is ActivityType.CLICKED:
        detail = draw(_URL)
    elif activity_type is ActivityType.BOUNCED:
        detail = draw(_BOUNCE_TYPE)
    return Activity(
        CAMPAIGN_ID,
        MEMBER_ID,
        activity_type,
        _in_zone(draw(_INSTANT), draw(_ZONE)),
        client_id=draw(_CLIENT),
        email=draw(_EMAIL),
        list_id=draw(_LIST),
        detail=detail,
    )


_ACTIVITY = _activity()


def activities() -> st.SearchStrategy[Activity]:
    """One tracking record of the member, with a detail where the type has one."""
    return _ACTIVITY


def batches(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[tuple[Activity, ...]]:
    """One read of the platform: records numbered by occurrence, as an import stores them."""
    return st.lists(_ACTIVITY, min_size=min_size, max_size=max_size).map(number_occurrences)


def stored_records(max_size: int = 10) -> st.SearchStrategy[tuple[Activity, ...]]:
    """Every record stored for the member: distinct keys, ties and same-minute twins likely."""
    return batches(max_size=max_size)


_SMALL = st.integers(min_value=0, max_value=3)
_ENGAGEMENT = st.builds(Engagement, _SMALL, _SMALL, _SMALL, _SMALL, _SMALL, _SMALL)
_KIND = st.sampled_from(("fresh", "by hand", "by integration"))
_LABEL = st.sampled_from(LABELS)
_AWARE_INSTANT = aware_instants()


def engagements() -> st.SearchStrategy[Engagement]:
    """Small, arbitrary counters (possibly out of date with the records)."""
    return _ENGAGEMENT


@st.composite
def _member(draw: st.DrawFn) -> CampaignMember:
    kind = draw(_KIND)
    engagement = draw(_ENGAGEMENT)
    if kind == "fresh":
        return CampaignMember(CAMPAIGN_ID, MEMBER_ID, engagement=engagement)
    status = draw(_LABEL)
    if kind == "by hand":
        return CampaignMember(CAMPAIGN_ID, MEMBER_ID, status=status, engagement=engagement)
    return CampaignMember(
        CAMPAIGN_ID,
        MEMBER_ID,
        status=status,
        activity=draw(_TYPE),
        activity_date=draw(_AWARE_INSTANT),
        engagement=engagement,
    )


_MEMBER = _member()


def members() -> st.SearchStrategy[CampaignMember]:
    """A member: fresh, with a status set by hand, or with a status set by the integration."""
    return _MEMBER


def status_mappings() -> st.SearchStrategy[StatusMapping]:
    """Mappings with types mapped to nothing and labels shared between types."""
    label_or_none = st.one_of(st.none(), st.sampled_from(LABELS))
    labels = st.fixed_dictionaries({}, optional=dict.fromkeys(ActivityType, label_or_none))
    return st.builds(StatusMapping, labels, st.frozensets(st.sampled_from(LABELS)))


def days() -> st.SearchStrategy[int]:
    """Days to keep: 0 (keep nothing), the pool's span in days, or the product default."""
    return st.sampled_from((0, 1, 2, 3, 180))


def settings(
    refresh_modes: Sequence[RefreshMode] = tuple(RefreshMode),
    policies: Sequence[StatusPolicy] = tuple(StatusPolicy),
) -> st.SearchStrategy[Settings]:
    """Settings over every option the tracking core consults."""
    return st.builds(
        Settings,
        refresh_mode=st.sampled_from(refresh_modes),
        days_to_keep=days(),
        days_to_keep_by_type=st.dictionaries(st.sampled_from(ActivityType), days(), max_size=3),
        imported_types=st.frozensets(st.sampled_from(ActivityType)),
        import_tracking=st.booleans(),
        status_mapping=status_mappings(),
        status_policy=st.sampled_from(policies),
    )


def default_statuses() -> st.SearchStrategy[str | None]:
    """The campaign's default status, or none known."""
    return st.one_of(st.none(), st.sampled_from(("Sent", "Planned", "Targeted")))
