"""Hypothesis strategies for cmsf_core's values, for property tests of your own code.

Install the extra (``pip install 'cmsf_core[hypothesis]'``): this module imports
Hypothesis, which nothing else in the core does.  Every strategy is a function that
returns a ``SearchStrategy``; nothing is generated until Hypothesis draws from it.

The values are aimed where the rules are sharp:

- **instants cluster**: a history draws a few instants and puts several records on each,
  so ties at one instant, records exactly at a retention cutoff and an Activity Date
  equal to a record's time are common;
- **same-minute twins**: identical events of one minute, numbered 0, 1, ... as an import
  numbers them (:func:`~cmsf_core.domain.activity.number_occurrences`), and events at
  other seconds of the same minute;
- **DST edges**: instants within two hours of a daylight-saving change, given in the
  local zone (``fold=1`` in a repeated hour), in zones with unusual changes (Lord Howe's
  half hour, Chatham's +12:45, Santiago's midnight);
- statuses set by hand, by the integration or not at all; status mappings with types
  mapped to nothing and labels shared between types; settings read from the product's
  own names.

Each docstring says what the strategy **shrinks to**: the simplest value, which is what
Hypothesis reports in a failing example.  Those minimal values are the library's
defaults wherever there is one, so a failure shows only what had to differ.

``st.from_type`` knows :class:`~cmsf_core.domain.activity.Activity`,
:class:`~cmsf_core.domain.member.CampaignMember`, :class:`~cmsf_core.domain.settings.Settings`,
:class:`~cmsf_core.domain.settings.StatusMapping`, :class:`~cmsf_core.domain.schedule.Schedule`
and :class:`~cmsf_core.domain.engagement.Engagement` once :func:`register_type_strategies` has run:
Hypothesis runs it through its ``hypothesis`` entry point when it is imported, so in an
installed ``cmsf_core`` this is automatic.

>>> from hypothesis import find
>>> find(members(), lambda member: True)
CampaignMember(campaign_id='cmp-1', member_id='m-1', status=None, activity=None, ...)
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity, ActivityType, number_occurrences
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.limits import JOB_LIMITS, GovernorLimits, Job
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import PlatformCampaign, PlatformClient, TrackingEvent
from cmsf_core.domain.schedule import DEFAULT_WEEKDAY, ImportFrequency, Schedule, Weekday
from cmsf_core.domain.settings import (
    DEFAULT_DAYS_TO_KEEP,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
)
from cmsf_core.domain.status import RefreshCause

if TYPE_CHECKING:
    from cmsf_core.adapters.memory import InMemoryPlatform
    from cmsf_core.testing.seed import PlatformSeed

__all__ = [
    "CAMPAIGN_ID",
    "DST_ZONES",
    "EMAILS",
    "MEMBER_ID",
    "PRODUCT_LABELS",
    "TIME_ZONES",
    "activities",
    "activity_times",
    "activity_types",
    "default_statuses",
    "dst_edge_instants",
    "dst_transitions",
    "engagements",
    "member_histories",
    "members",
    "platform_histories",
    "platforms",
    "refresh_causes",
    "register_type_strategies",
    "schedules",
    "seeded_platform",
    "setting_mappings",
    "settings",
    "status_labels",
    "status_mappings",
    "stored_records",
    "strategy_for",
    "time_zones",
    "tracking_settings",
    "utc_instants",
]

#: The campaign every generated record and member belongs to (by default).
CAMPAIGN_ID = "cmp-1"
#: The member every generated record belongs to (by default).
MEMBER_ID = "m-1"

#: Zones whose clock changes are worth testing: the usual hour (London, New York,
#: Sydney), half an hour (Lord Howe), at midnight (Santiago) and at +12:45 (Chatham).
DST_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
)

#: Client time zones: UTC first (the simplest), the DST zones, and one without DST.
TIME_ZONES = ("UTC", *DST_ZONES, "Asia/Kolkata")

#: The default status labels, and two that campaigns often use, shared between types.
PRODUCT_LABELS = (
    "Sent",
    "Opened",
    "Clicked",
    "Bounced",
    "Unsubscribed",
    "Marked as Spam",
    "Responded",
    "Registered",
)

#: Spellings of two addresses: the platform reports an address as it was typed.
EMAILS = ("ann@example.com", "Ann@Example.com", "bob@example.com", "carol@example.org")

_URLS = ("https://example.com/sale", "https://example.com/unsubscribe-help")
_BOUNCE_TYPES = ("Soft", "Hard")
_TAGS = ("news", "spring", "vip")
_LISTS = ("list-1", "list-2")
_DEFAULT_STATUSES = ("Sent", "Planned", "Targeted")
_NOTIFICATION_EMAILS = ("admin@example.com", "Ops.Team@example.org")
_SMS_COUNTRIES = ("US", "GB", "AU", "DE")

#: The first instant :func:`utc_instants` draws (and shrinks to) by default.
_MIN_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)
_MAX_INSTANT = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
_DST_YEARS = (2024, 2025)
_MINUTE = timedelta(minutes=1)


# ----------------------------------------------------------------------------- time


def utc_instants(
    min_value: datetime = _MIN_INSTANT, max_value: datetime = _MAX_INSTANT
) -> st.SearchStrategy[datetime]:
    """Aware UTC instants from ``min_value`` to ``max_value`` (both aware), to the second.

    Shrinks to ``min_value`` (by default 2024-01-01 00:00 UTC).
    """
    low = min_value.astimezone(UTC).replace(microsecond=0)
    span = int((max_value.astimezone(UTC) - low).total_seconds())
    return st.integers(min_value=0, max_value=max(span, 0)).map(
        lambda seconds: low + timedelta(seconds=seconds)
    )


@functools.cache
def dst_transitions(zone: str, years: tuple[int, ...] = _DST_YEARS) -> tuple[datetime, ...]:
    """The instants (UTC) at which ``zone``'s UTC offset changes during ``years``.

    Found by reading the zone's offset once a day and then minute by minute around each
    change; the result is cached, so it is computed once per zone and years.

    >>> [t.isoformat() for t in dst_transitions("Europe/London", (2024,))]
    ['2024-03-31T01:00:00+00:00', '2024-10-27T01:00:00+00:00']
    """
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    for year in sorted(set(years)):
        day = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC)
        offset = day.astimezone(tz).utcoffset()
        while day < end:
            following = day + timedelta(days=1)
            next_offset = following.astimezone(tz).utcoffset()
            if next_offset != offset:
                low, high = 0, 24 * 60  # minutes after ``day``: old offset at low, new at high
                while high - low > 1:
                    middle = (low + high) // 2
                    if (day + middle * _MINUTE).astimezone(tz).utcoffset() == offset:
                        low = middle
                    else:
                        high = middle
                found.append(day + high * _MINUTE)
                offset = next_offset
            day = following
    return tuple(found)


def dst_edge_instants(
    zones: Sequence[str] = DST_ZONES, years: Sequence[int] = _DST_YEARS
) -> st.SearchStrategy[datetime]:
    """Whole-minute instants within two hours of a clock change of one of ``zones``,
    given in that zone (an instant in a repeated hour carries ``fold=1`` the second time).

    Shrinks to the first change of the first zone, exactly: 2024-03-31 02:00 in
    Europe/London (01:00 UTC), the first instant after the spring-forward gap.
    """
    changes = [
        (ZoneInfo(zone), change) for zone in zones for change in dst_transitions(zone, tuple(years))
    ]
    return st.builds(
        lambda zone_change, minutes: (zone_change[1] + minutes * _MINUTE).astimezone(
            zone_change[0]
        ),
        st.sampled_from(changes),
        st.integers(min_value=-120, max_value=120),
    )


def _represented(instant: datetime, how: str) -> datetime:
    if how == "utc":
        return instant.astimezone(UTC)
    if how == "offset":
        return instant.astimezone(timezone(timedelta(hours=5, minutes=30)))
    if how == "pendulum":
        import pendulum  # noqa: PLC0415 - a core dependency, imported only when drawn

        return pendulum.instance(instant).in_timezone("America/New_York")
    return instant


def activity_times() -> st.SearchStrategy[datetime]:
    """Aware instants for records and Activity Dates: anywhere in 2024-2025 or at a DST
    edge, given as they came (UTC, a local zone), at a fixed offset or as a pendulum
    ``DateTime``: the library must read them all as the same instant.

    Shrinks to 2024-01-01 00:00 UTC.
    """
    return st.builds(
        _represented,
        st.one_of(utc_instants(), dst_edge_instants()),
        st.sampled_from(("as drawn", "utc", "offset", "pendulum")),
    )


def time_zones() -> st.SearchStrategy[str]:
    """IANA names of client and org time zones (:data:`TIME_ZONES`).  Shrinks to ``"UTC"``."""
    return st.sampled_from(TIME_ZONES)


# ----------------------------------------------------------------------------- records


def activity_types() -> st.SearchStrategy[ActivityType]:
    """One of the six activity types.  Shrinks to ``ActivityType.SENT``."""
    return st.sampled_from(tuple(ActivityType))


def refresh_causes() -> st.SearchStrategy[RefreshCause]:
    """Why a member is refreshed.  Shrinks to ``RefreshCause.IMPORT``."""
    return st.sampled_from(tuple(RefreshCause))


_DETAILS = {ActivityType.CLICKED: _URLS, ActivityType.BOUNCED: _BOUNCE_TYPES}
#: Up to this many instants are shared by the records of one history.
_POOL_SIZE = 3


def _activity_specs() -> st.SearchStrategy[
    tuple[ActivityType, int, str, str | None, str | None, int]
]:
    """What varies between records, with the instant as an index into a pool."""
    return st.tuples(
        activity_types(),
        st.integers(min_value=0, max_value=_POOL_SIZE - 1),
        st.sampled_from(("", "client-1")),
        st.sampled_from((None, *EMAILS[:2])),
        st.sampled_from((None, _LISTS[0])),
        st.integers(min_value=0, max_value=1),
    )


def _build_activity(
    campaign_id: str,
    member_id: str,
    pool: Sequence[datetime],
    spec: tuple[ActivityType, int, str, str | None, str | None, int],
) -> Activity:
    activity_type, at, client_id, email, list_id, detail = spec
    details = _DETAILS.get(activity_type)
    return Activity(
        campaign_id,
        member_id,
        activity_type,
        pool[at % len(pool)],
        client_id=client_id,
        email=email,
        list_id=list_id,
        detail=details[detail] if details else None,
    )


def activities(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    times: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[Activity]:
    """One tracking record of a member, with a URL for a click and a bounce type for a
    bounce; ``times`` defaults to :func:`activity_times`.

    Shrinks to ``Activity("cmp-1", "m-1", ActivityType.SENT, <2024-01-01 00:00 UTC>)``.
    """
    return st.builds(
        lambda at, spec: _build_activity(campaign_id, member_id, (at,), spec),
        activity_times() if times is None else times,
        _activity_specs(),
    )


def _twin(record: Activity, second: int | None) -> Activity:
    """An identical event of the same minute: at the same second, or at another one."""
    if second is None:
        return record
    return attrs.evolve(record, occurred_at=record.occurred_at.replace(second=second))


def _pool(times: st.SearchStrategy[datetime] | None) -> st.SearchStrategy[list[datetime]]:
    return st.lists(activity_times() if times is None else times, min_size=1, max_size=_POOL_SIZE)


def _record_specs(min_size: int, max_size: int) -> st.SearchStrategy[tuple[list[Any], list[Any]]]:
    """Records as specs, and twins as (index of the record, second or ``None``)."""
    twins = st.tuples(st.integers(min_value=0, max_value=64), st.sampled_from((None, 0, 59)))
    return st.tuples(
        st.lists(_activity_specs(), min_size=min_size, max_size=max_size),
        st.lists(twins, max_size=3),
    )


def _build_records(
    campaign_id: str,
    member_id: str,
    pool: Sequence[datetime],
    specs: tuple[list[Any], list[Any]],
) -> tuple[Activity, ...]:
    records = [_build_activity(campaign_id, member_id, pool, spec) for spec in specs[0]]
    if records:
        records += [_twin(records[index % len(records)], second) for index, second in specs[1]]
    return number_occurrences(records)


def stored_records(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    min_size: int = 0,
    max_size: int = 8,
    times: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[tuple[Activity, ...]]:
    """Every tracking record stored for one member, as an import stores them: up to three
    instants shared by the records (ties), same-minute twins numbered 0, 1, ... (up to
    three, at the same second or another), distinct keys.  ``times`` defaults to
    :func:`activity_times`.

    Shrinks to ``()`` (with ``min_size``: that many Sent records at 2024-01-01 00:00 UTC,
    numbered 0, 1, ...).
    """
    return st.builds(
        lambda pool, specs: _build_records(campaign_id, member_id, pool, specs),
        _pool(times),
        _record_specs(min_size, max_size),
    )


# ----------------------------------------------------------------------------- members


def engagements() -> st.SearchStrategy[Engagement]:
    """Small rollup counters, 0 to 5 each (not necessarily matching any records).

    Shrinks to ``Engagement()`` (every counter 0).
    """
    count = st.integers(min_value=0, max_value=5)
    return st.builds(Engagement, count, count, count, count, count, count)


def status_labels() -> st.SearchStrategy[str]:
    """Valid CRM status labels: one of :data:`PRODUCT_LABELS`, or any printable text of
    1 to 40 characters without surrounding spaces (a picklist value).

    Shrinks to ``"Sent"``.
    """
    text = st.text(
        st.characters(categories=("L", "N", "P", "S"), include_characters=" "),
        min_size=1,
        max_size=40,
    )
    return st.one_of(st.sampled_from(PRODUCT_LABELS), text.map(str.strip).filter(bool))


def default_statuses() -> st.SearchStrategy[str | None]:
    """A campaign's default status, or ``None`` (not known).  Shrinks to ``None``."""
    return st.one_of(st.none(), st.sampled_from(_DEFAULT_STATUSES))


def _member_specs(labels: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(
        st.sampled_from(("fresh", "set by hand", "set by the integration")),
        engagements(),
        labels,
        activity_types(),
        st.integers(min_value=0, max_value=_POOL_SIZE - 1),
    )


def _build_member(
    campaign_id: str, member_id: str, pool: Sequence[datetime], spec: tuple[Any, ...]
) -> CampaignMember:
    kind, engagement, status, activity, at = spec
    if kind == "fresh":
        return CampaignMember(campaign_id, member_id, engagement=engagement)
    if kind == "set by hand":
        return CampaignMember(campaign_id, member_id, status=status, engagement=engagement)
    return CampaignMember(
        campaign_id,
        member_id,
        status=status,
        activity=activity,
        activity_date=pool[at % len(pool)],
        engagement=engagement,
    )


def _labels(labels: st.SearchStrategy[str] | None) -> st.SearchStrategy[str]:
    return st.sampled_from(PRODUCT_LABELS) if labels is None else labels


def members(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    times: st.SearchStrategy[datetime] | None = None,
    labels: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[CampaignMember]:
    """A campaign member: fresh (no status), with a status set by hand (no activity), or
    with a status, activity and Activity Date set by the integration; small counters.
    ``labels`` defaults to :data:`PRODUCT_LABELS`, ``times`` to :func:`activity_times`.

    Shrinks to ``CampaignMember("cmp-1", "m-1")``: fresh, every counter 0.
    """
    return st.builds(
        lambda at, spec: _build_member(campaign_id, member_id, (at,), spec),
        activity_times() if times is None else times,
        _member_specs(_labels(labels)),
    )


def member_histories(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    max_records: int = 8,
    times: st.SearchStrategy[datetime] | None = None,
    labels: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[tuple[CampaignMember, tuple[Activity, ...]]]:
    """A member (as :func:`members`) and the records stored for it (as
    :func:`stored_records`), all at up to three shared instants, so that the member's
    Activity Date often equals, precedes or follows a record exactly: the edge of the
    Activity Date guard.

    Shrinks to ``(CampaignMember("cmp-1", "m-1"), ())``.
    """

    def build(
        pool: list[datetime], member: tuple[Any, ...], specs: tuple[list[Any], list[Any]]
    ) -> tuple[CampaignMember, tuple[Activity, ...]]:
        return (
            _build_member(campaign_id, member_id, pool, member),
            _build_records(campaign_id, member_id, pool, specs),
        )

    return st.builds(
        build, _pool(times), _member_specs(_labels(labels)), _record_specs(0, max_records)
    )


# ----------------------------------------------------------------------------- settings


def status_mappings(
    labels: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[StatusMapping]:
    """Status mappings: any type may be mapped to another label or to nothing (``None``),
    several types may share a label, any labels may count as responded.  ``labels``
    defaults to the few :data:`PRODUCT_LABELS`, so that labels are shared often.

    Shrinks to ``StatusMapping()``: the identity labels, "Marked as Spam", Opened and
    Clicked responded.
    """
    label = st.sampled_from(PRODUCT_LABELS) if labels is None else labels
    mapped = st.fixed_dictionaries(
        {}, optional={t: st.one_of(st.none(), label) for t in ActivityType}
    )
    responded = st.one_of(st.just(StatusMapping().responded), st.frozensets(label, max_size=3))
    return st.builds(StatusMapping, mapped, responded)


def _days() -> st.SearchStrategy[int]:
    return st.one_of(
        st.just(DEFAULT_DAYS_TO_KEEP),
        st.sampled_from((0, 1, 7, 30, 90, 365)),
        st.integers(min_value=0, max_value=36_500),
    )


def schedules() -> st.SearchStrategy[Schedule]:
    """Every shape of import schedule: Hourly, Never, Daily at an hour, Weekly on a day at
    an hour, Custom on one or more days at an hour.

    Shrinks to ``Schedule()``: Hourly, the product's default.
    """
    hours = st.integers(min_value=0, max_value=23)
    days = (DEFAULT_WEEKDAY, *(d for d in Weekday if d is not DEFAULT_WEEKDAY))
    day = st.sampled_from(days)
    return st.one_of(
        st.just(Schedule()),
        st.just(Schedule.never()),
        st.builds(Schedule.daily, hours),
        st.builds(Schedule.weekly, day, hours),
        st.builds(
            lambda chosen, hour: Schedule(ImportFrequency.CUSTOM, hour, chosen),
            st.frozensets(day, min_size=1),
            hours,
        ),
    )


def _governor_limits() -> st.SearchStrategy[GovernorLimits]:
    def size(job: Job) -> st.SearchStrategy[int]:
        return st.integers(min_value=1, max_value=JOB_LIMITS[job].maximum)

    sizes = st.fixed_dictionaries({}, optional={job: size(job) for job in Job})
    return sizes.map(GovernorLimits)


def _has_phonenumbers() -> bool:
    return importlib.util.find_spec("phonenumbers") is not None


_BOOLEAN_SETTINGS = (
    "update_campaign_statistics",
    "auto_create_statuses",
    "prevent_opted_out_list_add",
    "unsubscribe_on_opt_out",
    "delete_subscriber_on_record_delete",
    "resubscribe_deleted_via_import_wizard",
    "trigger_joins_a_list_journeys",
    "enable_account_trigger",
    "disable_triggers",
    "disable_bulk_triggers",
    "sync_suppression_list",
    "sms_enabled",
    "perform_full_daily_sync",
)


def _build_settings(values: dict[str, Any]) -> Settings:
    since = values.pop("auto_create_campaigns_since")
    return Settings(
        auto_create_campaigns=since is not None, auto_create_campaigns_since=since, **values
    )


def _tracking_fields(
    refresh_modes: Sequence[RefreshMode],
    policies: Sequence[StatusPolicy],
    mappings: st.SearchStrategy[StatusMapping] | None,
    days_to_keep: st.SearchStrategy[int] | None,
) -> dict[str, st.SearchStrategy[Any]]:
    """The settings the tracking rules consult, by field name, in the order they are drawn:
    what :func:`settings` and :func:`tracking_settings` share."""
    days = _days() if days_to_keep is None else days_to_keep
    return {
        "refresh_mode": st.sampled_from(tuple(refresh_modes)),
        "days_to_keep": days,
        "days_to_keep_by_type": st.dictionaries(activity_types(), days, max_size=3),
        "imported_types": st.one_of(
            st.just(frozenset(ActivityType)), st.frozensets(activity_types())
        ),
        "import_tracking": st.sampled_from((True, False)),
        "status_mapping": status_mappings() if mappings is None else mappings,
        "status_policy": st.sampled_from(tuple(policies)),
    }


def settings(
    *,
    refresh_modes: Sequence[RefreshMode] = tuple(RefreshMode),
    policies: Sequence[StatusPolicy] = tuple(StatusPolicy),
    mappings: st.SearchStrategy[StatusMapping] | None = None,
    days_to_keep: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Settings]:
    """Settings with every option drawn: refresh mode (from ``refresh_modes``), days kept
    (0 keeps nothing; per-type overrides), imported types, status mapping and policy,
    campaign options (auto-create with the date it was enabled), subscriber and SMS
    options (an SMS country only when ``phonenumbers`` is installed), schedule,
    notification address and governor limits.

    ``mappings`` defaults to :func:`status_mappings`; ``days_to_keep`` (for the global
    value and the per-type overrides) to the default 180, common values and anything up
    to 36,500.

    Shrinks to ``Settings()``, the product's defaults (with the first of
    ``refresh_modes`` and ``policies``).
    """
    fields: dict[str, st.SearchStrategy[Any]] = {
        **_tracking_fields(refresh_modes, policies, mappings, days_to_keep),
        "auto_create_campaigns_since": st.one_of(st.none(), utc_instants()),
        "campaign_filter_start": st.one_of(st.none(), utc_instants()),
        "campaign_filter_tags": st.frozensets(st.sampled_from(_TAGS), max_size=2),
        "sync_overlap_minutes": st.one_of(
            st.just(60), st.integers(min_value=0, max_value=7 * 24 * 60)
        ),
        "sync_email_opt_out": st.sampled_from((True, False)),
        "import_schedule": schedules(),
        "notification_email": st.one_of(st.none(), st.sampled_from(_NOTIFICATION_EMAILS)),
        "governor_limits": _governor_limits(),
        **dict.fromkeys(_BOOLEAN_SETTINGS, st.booleans()),
    }
    if _has_phonenumbers():
        fields["sms_country"] = st.one_of(st.none(), st.sampled_from(_SMS_COUNTRIES))
    return st.fixed_dictionaries(fields).map(_build_settings)


def tracking_settings(
    *,
    refresh_modes: Sequence[RefreshMode] = tuple(RefreshMode),
    policies: Sequence[StatusPolicy] = tuple(StatusPolicy),
    mappings: st.SearchStrategy[StatusMapping] | None = None,
    days_to_keep: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Settings]:
    """Settings varying only in what the tracking rules consult: refresh mode, status
    mapping and policy, days kept (per type too), imported types and tracking import;
    everything else at its default.  Smaller than :func:`settings`, so failing examples
    shrink faster and read shorter.  The arguments are those of :func:`settings`.

    Shrinks to ``Settings()``.
    """
    return st.builds(Settings, **_tracking_fields(refresh_modes, policies, mappings, days_to_keep))


_REFRESH_SPELLINGS = {
    "Always": ("Always", "Always Update", "always update"),
    "Once Only": ("Once Only", "Update Once", "UPDATE ONCE"),
    "Never": ("Never", "Never Update", " never "),
}
_KEY_CASES = (str, str.lower, str.upper)


def _build_setting_mapping(
    full: dict[str, object], chosen: frozenset[str], spelling: int, case: int
) -> dict[str, object]:
    names = {name for name in chosen if name in full}
    if "Auto_Create_Campaigns" in names and "Auto_Create_Campaigns_Since" in full:
        names.add("Auto_Create_Campaigns_Since")  # read together: creation is not retrospective
    mapping: dict[str, object] = {}
    for name in sorted(names):
        value = full[name]
        if name == "Campaign_Member_Refresh" and isinstance(value, str):
            value = _REFRESH_SPELLINGS[value][spelling]
        mapping[_KEY_CASES[case](name)] = value
    return mapping


def setting_mappings() -> st.SearchStrategy[dict[str, object]]:
    """Settings as a settings file holds them: a mapping of product names
    (``Campaign_Member_Refresh``, ``DaysToKeep_Email_Sent``, ...) in any case to values as
    :meth:`~cmsf_core.domain.settings.Settings.to_mapping` writes them, with the product's
    other spellings of the refresh mode ("Update Once", ...).  Any subset of the names is
    given; :meth:`~cmsf_core.domain.settings.Settings.from_mapping` accepts every one.

    Shrinks to ``{}`` (which reads as ``Settings()``).
    """
    from cmsf_core.domain.settings import SETTING_SPECS  # noqa: PLC0415 - next to its use

    names = sorted({spec.name for spec in SETTING_SPECS})
    return st.builds(
        _build_setting_mapping,
        settings().map(Settings.to_mapping),
        st.frozensets(st.sampled_from(names)),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=0, max_value=2),
    )


# ----------------------------------------------------------------------------- platform


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


# ----------------------------------------------------------------------------- st.from_type

#: The strategy ``st.from_type`` draws each of cmsf_core's value types from.
_FROM_TYPE: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    Activity: activities,
    CampaignMember: members,
    Settings: settings,
    StatusMapping: status_mappings,
    Schedule: schedules,
    Engagement: engagements,
}


def strategy_for(cls: type) -> st.SearchStrategy[Any]:
    """The strategy of this module that ``st.from_type(cls)`` draws from, for each type
    :func:`register_type_strategies` registers (a ``KeyError`` for any other type)."""
    return _FROM_TYPE[cls]()


def register_type_strategies() -> None:
    """Register these strategies for ``st.from_type`` (and so for ``st.builds`` and
    ``@given`` with inferred arguments): :class:`~cmsf_core.domain.activity.Activity`,
    :class:`~cmsf_core.domain.member.CampaignMember`,
    :class:`~cmsf_core.domain.settings.Settings`,
    :class:`~cmsf_core.domain.settings.StatusMapping`,
    :class:`~cmsf_core.domain.schedule.Schedule` and
    :class:`~cmsf_core.domain.engagement.Engagement`.

    Hypothesis does this itself, through the ``hypothesis`` entry point of an installed
    ``cmsf_core``, when it is imported; call it where plugins are off
    (``HYPOTHESIS_NO_PLUGINS``).  Calling it again is harmless.
    """
    for cls in _FROM_TYPE:
        st.register_type_strategy(cls, functools.partial(_drawn_for, cls))


def _drawn_for(cls: type, _asked: type) -> st.SearchStrategy[Any]:
    return strategy_for(cls)
