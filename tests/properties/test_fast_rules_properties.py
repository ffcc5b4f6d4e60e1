"""The fast pure rules give exactly the results of their straightforward statement.

``refresh_member``, ``candidate``, ``rollup``, ``apply_retention`` and ``email_key`` run
on hot paths, so they are written for speed: one pass over the records, tables kept per
settings object, members built without re-running converters, an ASCII shortcut for email
keys.  The references below are the plain statement of each rule (the library's earlier
code, kept here): for random histories, members, settings (every refresh mode, both
policies, per-type DaysToKeep, types mapped to nothing), both causes and any ``as_of``,
the fast code and the reference agree on everything, and keep agreeing when one settings
object is reused across members and instants, as a sync does.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone

import attrs
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusPolicy,
    apply_retention,
    candidate,
    refresh_member,
    retention_cutoffs,
    rollup,
)
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.settings import parse_label
from cmsf_core.domain.status import STATUS_RULES, TIE_RANK, StatusAction
from cmsf_core.testing.strategies import (
    default_statuses,
    member_histories,
    refresh_causes,
    tracking_settings,
)

# ----------------------------------------------------------------------------- references


def _ref_cutoffs(settings: Settings, as_of: datetime) -> dict[ActivityType, datetime]:
    return {t: settings.retention_cutoff(t, as_of) for t in ActivityType}


def _ref_retention(
    activities: Iterable[Activity], settings: Settings, as_of: datetime
) -> tuple[tuple[Activity, ...], tuple[Activity, ...]]:
    cutoffs = _ref_cutoffs(settings, as_of)
    kept: list[Activity] = []
    purged: list[Activity] = []
    for activity in activities:
        (purged if activity.occurred_at < cutoffs[activity.type] else kept).append(activity)
    return tuple(kept), tuple(purged)


_FIELD_OF_TYPE = {
    ActivityType.SENT: "sent",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam_complaints",
}


def _ref_rollup(activities: Iterable[Activity]) -> Engagement:
    counts = Counter(a.type for a in activities)
    return Engagement(**{_FIELD_OF_TYPE[t]: n for t, n in counts.items()})


def _ref_order(policy: StatusPolicy, kind: ActivityType, at: datetime) -> tuple[object, ...]:
    if policy is StatusPolicy.LATEST_WINS:
        return (at, TIE_RANK[kind])
    return (TIE_RANK[kind], at)


def _ref_candidate(stored: Iterable[Activity], settings: Settings) -> Activity | None:
    mapping = settings.status_mapping.labels
    best: Activity | None = None
    best_order: tuple[object, ...] = ()
    for activity in stored:
        if mapping[activity.type] is None:
            continue
        order = _ref_order(settings.status_policy, activity.type, activity.occurred_at)
        if best is None or order > best_order:  # type: ignore[operator]
            best, best_order = activity, order
    return best


def _ref_set_from(member: CampaignMember, found: Activity, settings: Settings) -> CampaignMember:
    return attrs.evolve(
        member,
        status=settings.status_mapping.labels[found.type],
        activity=found.type,
        activity_date=found.occurred_at,
    )


def _ref_refresh(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
) -> CampaignMember:
    if default_status is not None:
        default_status = parse_label(default_status, "default_status")
    records = tuple(stored)
    updated = member
    engagement = _ref_rollup(records)
    if engagement != member.engagement:
        updated = attrs.evolve(member, engagement=engagement)
    action = STATUS_RULES[(settings.refresh_mode, cause)]
    if action is StatusAction.KEEP:
        return updated
    found = _ref_candidate(records, settings)
    if action is StatusAction.RECOMPUTE:
        if found is not None:
            return _ref_set_from(updated, found, settings)
        return attrs.evolve(updated, status=default_status, activity=None, activity_date=None)
    if found is None:
        return updated
    if member.activity_date is None or (
        action is StatusAction.SET_IF_NEWER and found.occurred_at > member.activity_date
    ):
        return _ref_set_from(updated, found, settings)
    return updated


def _ref_email_key(email: str) -> str:
    start, end = 0, len(email)
    while start < end and unicodedata.category(email[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(email[end - 1]) == "Zs":
        end -= 1
    text = unicodedata.normalize("NFC", email[start:end])
    return unicodedata.normalize("NFC", text.lower())


# ----------------------------------------------------------------------------- properties


def _fields(member: CampaignMember) -> tuple[object, ...]:
    return (member.status, member.activity, member.activity_date, member.engagement)


_PLUS_FIVE = timezone(timedelta(hours=5))
_DAYS = st.one_of(st.sampled_from((0, 1, 2, 30, 180)), st.integers(min_value=0, max_value=800))


@given(
    member_histories(max_records=12),
    tracking_settings(days_to_keep=_DAYS),
    refresh_causes(),
    default_statuses(),
    st.integers(min_value=-3, max_value=400),
)
def test_retention_then_refresh_equals_the_reference(
    history: tuple[CampaignMember, tuple[Activity, ...]],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
    days_after: int,
) -> None:
    member, records = history
    as_of = max((r.occurred_at for r in records), default=datetime(2024, 1, 1, tzinfo=UTC))
    as_of += timedelta(days=days_after)

    split = apply_retention(records, settings, as_of=as_of)
    assert (split.kept, split.purged) == _ref_retention(records, settings, as_of)
    assert retention_cutoffs(settings, as_of=as_of) == _ref_cutoffs(settings, as_of)

    for stored in (records, split.kept):
        fast = refresh_member(member, stored, settings, cause=cause, default_status=default_status)
        slow = _ref_refresh(member, stored, settings, cause, default_status)
        assert fast == slow
        assert _fields(fast) == _fields(slow)
        assert type(fast) is CampaignMember
        assert candidate(stored, settings) is _ref_candidate(stored, settings)
        assert rollup(stored) == _ref_rollup(stored)


#: A few days of instants, and DaysToKeep of a few days, so that the records of one history
#: fall on both sides of the cutoffs of nearby ``as_of`` instants.
_DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
_NEAR_TIMES = st.sampled_from(tuple(_DAY0 + timedelta(hours=12 * k) for k in range(8)))
_NEAR_AS_OF = st.sampled_from(tuple(_DAY0 + timedelta(hours=6 * k) for k in range(24)))
_FEW_DAYS = st.integers(min_value=0, max_value=4)


@given(
    st.lists(member_histories(max_records=6, times=_NEAR_TIMES), min_size=1, max_size=6),
    st.lists(tracking_settings(days_to_keep=_FEW_DAYS), min_size=1, max_size=3),
    st.lists(_NEAR_AS_OF, min_size=1, max_size=4),
    refresh_causes(),
)
def test_settings_reused_across_members_and_instants_give_the_reference(
    histories: list[tuple[CampaignMember, tuple[Activity, ...]]],
    all_settings: list[Settings],
    instants: list[datetime],
    cause: RefreshCause,
) -> None:
    # Interleave settings objects and instants, so that whatever is kept from one call
    # would show if it leaked into the next.
    for i, (member, records) in enumerate(histories):
        for j, settings in enumerate(all_settings):
            as_of = instants[(i + j) % len(instants)]
            if (i + j) % 2:
                as_of = as_of.astimezone(_PLUS_FIVE)  # the same instant, not in UTC
            split = apply_retention(records, settings, as_of=as_of)
            assert (split.kept, split.purged) == _ref_retention(records, settings, as_of)
            fast = refresh_member(member, split.kept, settings, cause=cause, default_status="Sent")
            assert _fields(fast) == _fields(
                _ref_refresh(member, split.kept, settings, cause, "Sent")
            )


@given(
    st.sampled_from(tuple(RefreshMode)),
    st.sampled_from(tuple(StatusPolicy)),
    member_histories(max_records=8),
)
def test_every_mode_and_policy_equals_the_reference(
    mode: RefreshMode,
    policy: StatusPolicy,
    history: tuple[CampaignMember, tuple[Activity, ...]],
) -> None:
    member, records = history
    settings = Settings(refresh_mode=mode, status_policy=policy)
    for cause in RefreshCause:
        fast = refresh_member(member, records, settings, cause=cause, default_status=" Sent ")
        slow = _ref_refresh(member, records, settings, cause, " Sent ")
        assert _fields(fast) == _fields(slow)


_EMAIL_CHARS = st.one_of(
    st.sampled_from(" \u00a0\u2003\tAaZz.@-_Ee\u0301\u00e9\u00c9\u0130\u00df\u1e9e\u212a\u03a3"),
    st.characters(),
)


#: ASCII text (the shortcut's case) with the spaces and controls ``strip()`` would drop.
_ASCII_EMAILS = st.text(st.sampled_from(" \t\n\x0b\x0c\r\x1c\x85AaZz.@-_"), max_size=12)


@given(
    st.one_of(_ASCII_EMAILS, st.text(_EMAIL_CHARS, max_size=20), st.emails(), st.text(max_size=20))
)
def test_email_key_equals_its_statement(email: str) -> None:
    assert email_key(email) == _ref_email_key(email)
    assert email_key(email_key(email)) == email_key(email)
