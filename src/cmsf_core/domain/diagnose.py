"""Explain a member whose status and records disagree (the FAQ's "Clicked but Clicks = 0")."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.engagement import rollup
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.settings import RefreshMode, Settings
from cmsf_core.domain.status import candidate
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["Finding", "FindingCode", "diagnose"]


class FindingCode(enum.StrEnum):
    """What :func:`diagnose` found."""

    STATUS_WITHOUT_ACTIVITY = "STATUS_WITHOUT_ACTIVITY"
    """The status implies an activity of which no record is stored."""

    STATUS_BEHIND_ACTIVITY = "STATUS_BEHIND_ACTIVITY"
    """Under Once Only or Never, a later record maps to another status (by design)."""

    ROLLUP_OUT_OF_DATE = "ROLLUP_OUT_OF_DATE"
    """The member's counters differ from its stored records: a refresh is due."""


@attrs.frozen
class Finding:
    """One explained disagreement, with what to do about it."""

    code: FindingCode
    message: str
    remedies: tuple[str, ...] = ()
    informational: bool = False


def _remedy_refresh(settings: Settings) -> str:
    return (
        "Set Campaign_Member_Refresh to 'Always Update' (now "
        f"'{settings.refresh_mode.value}') so that Status is recalculated when tracking "
        "records are removed."
    )


def _remedy_follow_latest(settings: Settings) -> str:
    return (
        "Nothing to fix: this is how "
        f"'{settings.refresh_mode.value}' works. Only if Status should follow the latest "
        "activity, set Campaign_Member_Refresh to 'Always Update'."
    )


def _remedy_retention(settings: Settings, activity_type: ActivityType) -> str:
    days = settings.days_to_keep_for(activity_type)
    now = (
        f"{days} days for {activity_type.value} records"
        if activity_type in settings.days_to_keep_by_type
        else f"{days} days"
    )
    return (
        f"Increase DaysToKeep_Email (now {now}) so that tracking records are kept longer; "
        "a full sync re-imports purged records."
    )


def _implied_types(member: CampaignMember, settings: Settings) -> frozenset[ActivityType]:
    mapping = settings.status_mapping
    if member.activity is not None and mapping.label(member.activity) == member.status:
        return frozenset({member.activity})
    return mapping.types_for(member.status)


def diagnose(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    *,
    as_of: datetime,
    default_status: str | None = None,
) -> tuple[Finding, ...]:
    """Explain how ``member``'s status and counters disagree with its ``stored`` records.

    Returns nothing when they agree.  The explanation says whether the retention window
    (DaysToKeep) accounts for missing records or whether they were deleted by hand, and
    names both remedies from the product's FAQ.  A member that still has its campaign's
    ``default_status`` and no activity (the integration never set its status) is not
    flagged: a new member gets that status without any record behind it.
    """
    as_of = ensure_utc(as_of, "as_of")
    records = tuple(stored)
    findings: list[Finding] = []

    engagement = rollup(records)
    if engagement != member.engagement:
        findings.append(
            Finding(
                FindingCode.ROLLUP_OUT_OF_DATE,
                f"Member {member.member_id}: counters {member.engagement} differ from the "
                f"{len(records)} stored records ({engagement}).",
                ("Run a sync: rollups are recomputed from the stored records.",),
            )
        )

    implied = _implied_types(member, settings)
    present = {a.type for a in records}
    is_default = member.activity is None and member.status == default_status
    if implied and not implied & present and not is_default:
        findings.append(_status_without_activity(member, implied, settings, as_of))

    if settings.refresh_mode is not RefreshMode.ALWAYS and member.activity_date is not None:
        latest = candidate(records, settings)
        if (
            latest is not None
            and latest.occurred_at > member.activity_date
            and settings.status_mapping.label(latest.type) != member.status
        ):
            label = settings.status_mapping.label(latest.type)
            findings.append(
                Finding(
                    FindingCode.STATUS_BEHIND_ACTIVITY,
                    f"Member {member.member_id}: Status is {member.status!r} but a later "
                    f"{latest.type.value} record ({latest.occurred_at:%Y-%m-%d %H:%M} UTC) maps "
                    f"to {label!r}; under '{settings.refresh_mode.value}' this is expected.",
                    (_remedy_follow_latest(settings),),
                    informational=True,
                )
            )
    return tuple(findings)


def _status_without_activity(
    member: CampaignMember, implied: frozenset[ActivityType], settings: Settings, as_of: datetime
) -> Finding:
    kinds = " or ".join(t.value for t in ActivityType if t in implied)
    first = next(t for t in ActivityType if t in implied)
    why: str
    if not settings.import_tracking or not any(t in settings.imported_types for t in implied):
        why = f"{kinds} records are not imported under the current settings"
    elif member.activity_date is not None and member.activity_date < min(
        settings.retention_cutoff(t, as_of) for t in implied
    ):
        why = (
            f"the activity that set it ({member.activity_date:%Y-%m-%d %H:%M} UTC) is older "
            f"than DaysToKeep_Email ({settings.days_to_keep_for(first)} days), so the retention "
            "purge removed its records"
        )
    elif member.activity_date is None:
        why = "the status was not set by the integration (set by hand, or before tracking began)"
    else:
        why = (
            "the activity that set it is within DaysToKeep_Email, so its records were deleted "
            "by hand (avoid removing tracking records outside the retention process)"
        )
    return Finding(
        FindingCode.STATUS_WITHOUT_ACTIVITY,
        f"Member {member.member_id}: Status is {member.status!r} but no {kinds} record is "
        f"stored ({_counter_text(member, implied)}): {why}. {_why_kept(settings)}",
        (_remedy_refresh(settings), _remedy_retention(settings, first)),
    )


def _counter_text(member: CampaignMember, implied: frozenset[ActivityType]) -> str:
    names = {ActivityType.OPENED: "Opens", ActivityType.CLICKED: "Clicks"}
    parts = [
        f"{names.get(t, t.value)} = {member.engagement.count(t)}"
        for t in ActivityType
        if t in implied
    ]
    return ", ".join(parts)


def _why_kept(settings: Settings) -> str:
    if settings.refresh_mode is RefreshMode.ALWAYS:
        return "Under 'Always' the next refresh after a deletion recalculates Status."
    return (
        f"Status stays because Campaign_Member_Refresh is '{settings.refresh_mode.value}', "
        "which does not recalculate it when records are removed."
    )
