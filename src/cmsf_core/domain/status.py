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

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.engagement import Engagement
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

    __hash__ = object.__hash__  # identity, in C (see ActivityType)


class StatusAction(enum.Enum):
    """What a refresh does to status / activity / activity date."""

    SET_IF_NEWER = "set from the candidate if Activity Date is empty or older"
    SET_IF_UNSET = "set from the candidate only if Activity Date is empty"
    RECOMPUTE = "recompute from what remains; default status if nothing does"
    KEEP = "leave untouched"

    __hash__ = object.__hash__  # identity, in C (see ActivityType)


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


#: The same tables as plain dicts, read on the hot path (a ``FrozenMap`` lookup is Python code).
_RULES: dict[tuple[RefreshMode, RefreshCause], StatusAction] = dict(STATUS_RULES)
_RANK: dict[ActivityType, int] = dict(TIE_RANK)
_TYPES = tuple(ActivityType)
_NO_COUNTS = dict.fromkeys(_TYPES, 0)

#: The last status labels asked about, their plain dict, and the tie rank of each type they
#: map (unmapped types left out).  One settings object serves a whole sync, so the table is
#: built once, not once per member; one tuple in a one-item list, replaced whole.
_LAST_LABELS: list[
    tuple[
        Mapping[ActivityType, str | None], dict[ActivityType, str | None], dict[ActivityType, int]
    ]
    | None
] = [None]


def _tables(
    labels: Mapping[ActivityType, str | None],
) -> tuple[dict[ActivityType, str | None], dict[ActivityType, int]]:
    """The labels as a plain dict and the tie rank of each mapped type, kept for the
    labels object last asked about (callers must not change them)."""
    last = _LAST_LABELS[0]
    if last is not None and last[0] is labels:
        return last[1], last[2]
    plain = dict(labels)
    ranks = {t: rank for t, rank in _RANK.items() if plain[t] is not None}
    _LAST_LABELS[0] = (labels, plain, ranks)
    return plain, ranks


#: Counters already built, by their six counts: values are immutable, so members with the
#: same counts share one (a history of ten records per member has few distinct counts).
#: Bounded: emptied when it reaches _MAX_ENGAGEMENTS entries.
_ENGAGEMENTS: dict[tuple[int, ...], Engagement] = {}
_MAX_ENGAGEMENTS = 4096


def _engagement(totals: tuple[int, ...]) -> Engagement:
    """The counters of ``totals`` (six counts ``>= 0``, in ActivityType order), kept."""
    if len(_ENGAGEMENTS) >= _MAX_ENGAGEMENTS:
        _ENGAGEMENTS.clear()
    engagement = _ENGAGEMENTS[totals] = Engagement._trusted(*totals)
    return engagement


#: The last ``default_status`` text read and its label: a sync passes the same text for
#: every member of a campaign, and text is immutable, so identity means the same label.
_LAST_DEFAULT: list[tuple[str, str] | None] = [None]


def _default_status(value: str) -> str:
    """``parse_label(value, "default_status")``, kept for the text last asked about."""
    last = _LAST_DEFAULT[0]
    if last is not None and last[0] is value:
        return last[1]
    label = parse_label(value, "default_status")
    _LAST_DEFAULT[0] = (value, label)
    return label


def candidate(stored: Iterable[Activity], settings: Settings) -> Activity | None:
    """The stored, mapped record a member's status should follow, or ``None``.

    Records of types mapped to no label never set status.  Under the default policy
    the latest record wins, ties at one instant broken by :data:`TIE_RANK`.
    """
    ranks = _tables(settings.status_mapping.labels)[1]
    latest_wins = settings.status_policy is StatusPolicy.LATEST_WINS
    best: Activity | None = None
    best_at = best_rank = None
    for activity in stored:
        rank = ranks.get(activity.type)
        if rank is None:
            continue
        at = activity.occurred_at
        if best is None or (
            at > best_at or (at == best_at and rank > best_rank)  # type: ignore[operator]
            if latest_wins
            else rank > best_rank or (rank == best_rank and at > best_at)  # type: ignore[operator]
        ):
            best, best_at, best_rank = activity, at, rank
    return best


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
    if not isinstance(member, CampaignMember):
        raise InvalidTypeError("member", "a CampaignMember", member)
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(cause, RefreshCause):
        raise InvalidTypeError("cause", "a RefreshCause", cause)
    if default_status is not None:
        default_status = _default_status(default_status)
    labels, ranks = _tables(settings.status_mapping.labels)
    latest_wins = settings.status_policy is StatusPolicy.LATEST_WINS
    member_id, campaign_id = member.member_id, member.campaign_id

    # One pass: check each record, count it, and keep the candidate (see candidate()).
    counts = _NO_COUNTS.copy()
    found: Activity | None = None
    found_at = found_rank = None
    for record in stored:
        if not isinstance(record, Activity):
            raise InvalidTypeError("stored", "Activity records", record)
        if record.member_id != member_id or record.campaign_id != campaign_id:
            raise InvalidValueError(
                "stored",
                f"records of member {member_id!r} in campaign {campaign_id!r}",
                record.key,
                detail=f"this one is of member {record.member_id!r} in campaign "
                f"{record.campaign_id!r}",
            )
        kind = record.type
        counts[kind] += 1
        rank = ranks.get(kind)
        if rank is None:
            continue
        at = record.occurred_at
        if found is None or (
            at > found_at or (at == found_at and rank > found_rank)  # type: ignore[operator]
            if latest_wins
            else rank > found_rank or (rank == found_rank and at > found_at)  # type: ignore[operator]
        ):
            found, found_at, found_rank = record, at, rank

    engagement = member.engagement
    totals = tuple(counts.values())  # in ActivityType order, as Engagement's fields
    if totals != (
        engagement.sent,
        engagement.opens,
        engagement.clicks,
        engagement.bounces,
        engagement.unsubscribes,
        engagement.spam_complaints,
    ):
        engagement = _ENGAGEMENTS.get(totals) or _engagement(totals)

    status, activity, activity_date = member.status, member.activity, member.activity_date
    action = _RULES[(settings.refresh_mode, cause)]
    if action is StatusAction.KEEP:
        pass
    elif action is StatusAction.RECOMPUTE:
        if found is not None:
            status, activity, activity_date = labels[found.type], found.type, found_at
        else:
            status, activity, activity_date = default_status, None, None
    elif found is not None and (
        # The Activity Date guard, whatever the policy: only a strictly later activity sets.
        activity_date is None or (action is StatusAction.SET_IF_NEWER and found_at > activity_date)  # type: ignore[operator]
    ):
        status, activity, activity_date = labels[found.type], found.type, found_at

    if (
        engagement is member.engagement
        and status is member.status
        and activity is member.activity
        and activity_date is member.activity_date
    ):
        return member
    if type(member) is CampaignMember:
        return CampaignMember._trusted(
            campaign_id, member_id, status, activity, activity_date, engagement
        )
    return attrs.evolve(
        member,
        status=status,
        activity=activity,
        activity_date=activity_date,
        engagement=engagement,
    )
