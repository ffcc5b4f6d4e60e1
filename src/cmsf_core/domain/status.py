"""Every campaign-member status rule, in one module, as tables where possible.

A member's Status follows its stored tracking records according to the refresh mode
(``Campaign_Member_Refresh``) and to what just happened (an import, or a deletion by the
retention purge or by hand).  :data:`STATUS_RULES` is the whole decision table;
:func:`refresh_member` applies it.  Rollups are recomputed in every case.

=========== ============================== ===========================
mode        after an import                after a deletion
=========== ============================== ===========================
Always      set if newer than Activity     recompute from what remains
            Date (or Activity Date empty)  (no guard; default if none)
Once Only   set only if Activity Date      keep
            is empty
Never       keep                           keep
=========== ============================== ===========================
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.checks import of_type
from cmsf_core.domain.engagement import rollup
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.settings import RefreshMode, Settings, StatusPolicy, parse_label

__all__ = [
    "STATUS_RULES",
    "TIE_RANK",
    "RefreshCause",
    "StatusAction",
    "candidate",
    "refresh_member",
]


class RefreshCause(enum.Enum):
    """Why a member is refreshed: new records arrived, or records were deleted."""

    IMPORT = "import"
    DELETION = "deletion"


class StatusAction(enum.Enum):
    """What a refresh does to status / activity / activity date."""

    SET_IF_NEWER = "set from the candidate if Activity Date is empty or older"
    SET_IF_UNSET = "set from the candidate only if Activity Date is empty"
    RECOMPUTE = "recompute from what remains; default status if nothing does"
    KEEP = "leave untouched"


#: The whole decision table: (refresh mode, cause) -> action.
STATUS_RULES: Mapping[tuple[RefreshMode, RefreshCause], StatusAction] = FrozenMap(
    {
        (RefreshMode.ALWAYS, RefreshCause.IMPORT): StatusAction.SET_IF_NEWER,
        (RefreshMode.ALWAYS, RefreshCause.DELETION): StatusAction.RECOMPUTE,
        (RefreshMode.ONCE_ONLY, RefreshCause.IMPORT): StatusAction.SET_IF_UNSET,
        (RefreshMode.ONCE_ONLY, RefreshCause.DELETION): StatusAction.KEEP,
        (RefreshMode.NEVER, RefreshCause.IMPORT): StatusAction.KEEP,
        (RefreshMode.NEVER, RefreshCause.DELETION): StatusAction.KEEP,
    }
)

#: Ties at the same instant: Unsubscribed > Spam complaint > Bounced > Clicked > Opened > Sent.
TIE_RANK: Mapping[ActivityType, int] = FrozenMap(
    {
        ActivityType.UNSUBSCRIBED: 5,
        ActivityType.SPAM_COMPLAINT: 4,
        ActivityType.BOUNCED: 3,
        ActivityType.CLICKED: 2,
        ActivityType.OPENED: 1,
        ActivityType.SENT: 0,
    }
)


def _order(policy: StatusPolicy, activity_type: ActivityType, at: datetime) -> tuple[object, ...]:
    if policy is StatusPolicy.LATEST_WINS:
        return (at, TIE_RANK[activity_type])
    return (TIE_RANK[activity_type], at)


def candidate(stored: Iterable[Activity], settings: Settings) -> Activity | None:
    """The stored, mapped record a member's status should follow, or ``None``.

    Records of types mapped to no label never set status.  Under the default policy
    the latest record wins, ties at one instant broken by :data:`TIE_RANK`.
    """
    mapping = settings.status_mapping.labels
    policy = settings.status_policy
    best: Activity | None = None
    best_order: tuple[object, ...] = ()
    for activity in stored:
        if mapping[activity.type] is None:
            continue
        order = _order(policy, activity.type, activity.occurred_at)
        if best is None or order > best_order:
            best, best_order = activity, order
    return best


def _is_newer(found: Activity, member: CampaignMember) -> bool:
    """The Activity Date guard, whatever the policy: only a strictly later activity sets."""
    assert member.activity_date is not None
    return found.occurred_at > member.activity_date


def _set_from(member: CampaignMember, found: Activity, settings: Settings) -> CampaignMember:
    return attrs.evolve(
        member,
        status=settings.status_mapping.labels[found.type],
        activity=found.type,
        activity_date=found.occurred_at,
    )


def refresh_member(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    *,
    cause: RefreshCause = RefreshCause.IMPORT,
    default_status: str | None = None,
) -> CampaignMember:
    """The member after a refresh, given every tracking record stored for it now.

    ``stored`` is what is stored after the import (or after the deletion).  Rollups are
    always recomputed from it; status, activity and activity date follow
    :data:`STATUS_RULES`.  ``default_status`` is the campaign's default status, the
    fallback when a recompute after a deletion finds no mapped record.

    >>> from datetime import datetime, UTC
    >>> m = CampaignMember("cmp-1", "m-1")
    >>> opened = Activity("cmp-1", "m-1", ActivityType.OPENED, datetime(2024, 5, 1, tzinfo=UTC))
    >>> refresh_member(m, [opened], Settings()).status
    'Opened'
    """
    of_type(member, CampaignMember, "member", "a CampaignMember")
    of_type(settings, Settings, "settings", "a Settings")
    of_type(cause, RefreshCause, "cause", "a RefreshCause")
    if default_status is not None:
        default_status = parse_label(default_status, "default_status")
    records = tuple(stored)
    for record in records:
        if not isinstance(record, Activity):
            raise InvalidTypeError("stored", "Activity records", record)
        if record.member_id != member.member_id or record.campaign_id != member.campaign_id:
            raise InvalidValueError(
                "stored",
                f"records of member {member.member_id!r} in campaign {member.campaign_id!r}",
                record.key,
                detail=f"this one is of member {record.member_id!r} in campaign "
                f"{record.campaign_id!r}",
            )

    updated = member
    engagement = rollup(records)
    if engagement != member.engagement:
        updated = attrs.evolve(member, engagement=engagement)

    action = STATUS_RULES[(settings.refresh_mode, cause)]
    if action is StatusAction.KEEP:
        return updated
    found = candidate(records, settings)
    if action is StatusAction.RECOMPUTE:
        if found is not None:
            return _set_from(updated, found, settings)
        return attrs.evolve(updated, status=default_status, activity=None, activity_date=None)
    if found is None:
        return updated
    if member.activity_date is None or (
        action is StatusAction.SET_IF_NEWER and _is_newer(found, member)
    ):
        return _set_from(updated, found, settings)
    return updated
