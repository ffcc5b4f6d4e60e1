"""Strategies for what a user configures: status mappings, schedules, settings (every
option, or only what the tracking rules consult) and settings as a file holds them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.limits import JOB_LIMITS, GovernorLimits, Job
from cmsf_core.domain.schedule import DEFAULT_WEEKDAY, ImportFrequency, Schedule, Weekday
from cmsf_core.domain.settings import (
    DEFAULT_DAYS_TO_KEEP,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
)
from cmsf_core.testing.strategies.campaign_members import PRODUCT_LABELS
from cmsf_core.testing.strategies.instants import utc_instants
from cmsf_core.testing.strategies.records import activity_types

_TAGS = ("news", "spring", "vip")
_NOTIFICATION_EMAILS = ("admin@example.com", "Ops.Team@example.org")
_SMS_COUNTRIES = ("US", "GB", "AU", "DE")


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
