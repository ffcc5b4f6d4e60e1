"""Properties of the status rules (DESIGN §6), checked against oracles written here.

The oracles restate the rules from the design, not from the code: the candidate is the
latest mapped record (ties by rank Unsubscribed > Spam complaint > Bounced > Clicked >
Opened > Sent), or under "most engaged" the highest-ranked (latest among equals); after
an import Always sets it only when strictly later than the Activity Date, Once Only only
when the Activity Date is empty, Never never; after a deletion Always recomputes.
"""

from __future__ import annotations

from datetime import datetime

import attrs
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    FindingCode,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusPolicy,
    apply_retention,
    diagnose,
    refresh_member,
    rollup,
)
from strategies import (
    CAMPAIGN_ID,
    MEMBER_ID,
    as_of_instants,
    batches,
    default_statuses,
    members,
    settings,
    stored_records,
)

RANK = {
    ActivityType.SENT: 0,
    ActivityType.OPENED: 1,
    ActivityType.CLICKED: 2,
    ActivityType.BOUNCED: 3,
    ActivityType.SPAM_COMPLAINT: 4,
    ActivityType.UNSUBSCRIBED: 5,
}

State = tuple[str | None, ActivityType | None, datetime | None]
Candidate = tuple[str | None, ActivityType, datetime]


def state(member: CampaignMember) -> State:
    """Status, activity and activity date: what the refresh mode governs."""
    return (member.status, member.activity, member.activity_date)


def expected_candidate(stored: tuple[Activity, ...], settings: Settings) -> Candidate | None:
    """The state the design's candidate would set, or None when no record is mapped."""
    labels = settings.status_mapping.labels
    mapped = [a for a in stored if labels[a.type] is not None]
    if not mapped:
        return None
    if settings.status_policy is StatusPolicy.LATEST_WINS:
        latest = max(a.occurred_at for a in mapped)
        at_latest = [a for a in mapped if a.occurred_at == latest]
        best_type = max((a.type for a in at_latest), key=RANK.__getitem__)
        return (labels[best_type], best_type, latest)
    top = max((a.type for a in mapped), key=RANK.__getitem__)
    return (labels[top], top, max(a.occurred_at for a in mapped if a.type is top))


def expected_after_import(
    member: CampaignMember, stored: tuple[Activity, ...], settings: Settings
) -> State:
    """DESIGN §6 "after an import"."""
    found = expected_candidate(stored, settings)
    if found is None or settings.refresh_mode is RefreshMode.NEVER:
        return state(member)
    if member.activity_date is None:
        return found
    if settings.refresh_mode is RefreshMode.ALWAYS and found[2] > member.activity_date:
        return found
    return state(member)


def expected_after_deletion(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    default_status: str | None,
) -> State:
    """DESIGN §6 "after a deletion"."""
    if settings.refresh_mode is not RefreshMode.ALWAYS:
        return state(member)
    found = expected_candidate(stored, settings)
    return found if found is not None else (default_status, None, None)


# ------------------------------------------------------------------------------- one refresh


@given(members(), stored_records(), settings(refresh_modes=[RefreshMode.ALWAYS]))
def test_always_after_an_import_sets_the_latest_mapped_record_only_if_strictly_later(
    member: CampaignMember, stored: tuple[Activity, ...], settings: Settings
) -> None:
    """Always, import: the candidate wins iff Activity Date is empty or strictly older."""
    refreshed = refresh_member(member, stored, settings)

    assert state(refreshed) == expected_after_import(member, stored, settings)


@given(
    members(), stored_records(), settings(refresh_modes=[RefreshMode.ALWAYS]), default_statuses()
)
def test_always_after_a_deletion_recomputes_from_what_remains(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    default_status: str | None,
) -> None:
    """Always, deletion: the candidate of what remains, else the default status, no guard."""
    refreshed = refresh_member(
        member, stored, settings, cause=RefreshCause.DELETION, default_status=default_status
    )

    assert state(refreshed) == expected_after_deletion(member, stored, settings, default_status)


@given(
    members(),
    stored_records(),
    settings(refresh_modes=[RefreshMode.ONCE_ONLY, RefreshMode.NEVER]),
    st.sampled_from(RefreshCause),
    default_statuses(),
)
def test_once_only_and_never_follow_the_table_for_either_cause(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
) -> None:
    """Once Only sets only an empty Activity Date on import; Never and deletions keep."""
    refreshed = refresh_member(member, stored, settings, cause=cause, default_status=default_status)

    if cause is RefreshCause.IMPORT:
        assert state(refreshed) == expected_after_import(member, stored, settings)
    else:
        assert state(refreshed) == state(member)


@given(members(), stored_records(), settings())
def test_an_import_never_moves_the_activity_date_backwards(
    member: CampaignMember, stored: tuple[Activity, ...], settings: Settings
) -> None:
    """The Activity Date guard, any mode and policy: an older activity never overrides."""
    refreshed = refresh_member(member, stored, settings)

    if member.activity_date is not None:
        assert refreshed.activity_date is not None
        assert refreshed.activity_date >= member.activity_date
        if refreshed.activity_date == member.activity_date:
            assert state(refreshed) == state(member)


@given(
    members(),
    stored_records(),
    settings(),
    st.sampled_from(RefreshCause),
    default_statuses(),
    st.data(),
)
def test_refresh_does_not_depend_on_the_order_of_stored(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
    data: st.DataObject,
) -> None:
    """Any permutation of the stored records gives the same member."""
    shuffled = tuple(data.draw(st.permutations(stored), label="shuffled"))

    assert refresh_member(
        member, shuffled, settings, cause=cause, default_status=default_status
    ) == refresh_member(member, stored, settings, cause=cause, default_status=default_status)


@given(members(), stored_records(), settings(), as_of_instants(), st.data())
def test_diagnose_does_not_depend_on_the_order_of_stored(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    as_of: datetime,
    data: st.DataObject,
) -> None:
    """Any permutation of the stored records gives the same findings."""
    shuffled = tuple(data.draw(st.permutations(stored), label="shuffled"))

    assert diagnose(member, shuffled, settings, as_of=as_of) == diagnose(
        member, stored, settings, as_of=as_of
    )


@given(members(), stored_records(), settings(), st.sampled_from(RefreshCause), default_statuses())
def test_refresh_member_is_idempotent(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
) -> None:
    """Refreshing again with the same records changes nothing more."""
    once = refresh_member(member, stored, settings, cause=cause, default_status=default_status)
    twice = refresh_member(once, stored, settings, cause=cause, default_status=default_status)

    assert twice == once


# ------------------------------------------------------------------------------- sequences


#: One step of a member's life: an import of a read, a retention purge, or a manual deletion.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("import"), batches(max_size=4)),
        st.tuples(st.just("purge"), as_of_instants()),
        st.tuples(st.just("delete"), st.frozensets(st.integers(0, 11), max_size=3)),
    ),
    min_size=1,
    max_size=6,
)


def run(
    member: CampaignMember,
    settings: Settings,
    plan: list[tuple[str, object]],
    default_status: str | None,
) -> list[tuple[RefreshCause, CampaignMember, tuple[Activity, ...], CampaignMember]]:
    """Play the steps; each stores or removes records, then refreshes with the matching cause.

    Returns, per step: the cause, the member before, the records stored after, the member after.
    """
    stored: tuple[Activity, ...] = ()
    history = []
    for kind, argument in plan:
        if kind == "import":
            assert isinstance(argument, tuple)
            keys = {a.key for a in stored}
            stored += tuple(a for a in argument if a.key not in keys)
            cause = RefreshCause.IMPORT
        elif kind == "purge":
            assert isinstance(argument, datetime)
            stored = apply_retention(stored, settings, as_of=argument).kept
            cause = RefreshCause.DELETION
        else:
            assert isinstance(argument, frozenset)
            stored = tuple(a for i, a in enumerate(stored) if i not in argument)
            cause = RefreshCause.DELETION
        after = refresh_member(member, stored, settings, cause=cause, default_status=default_status)
        history.append((cause, member, stored, after))
        member = after
    return history


@given(members(), settings(refresh_modes=[RefreshMode.NEVER]), STEPS, default_statuses())
def test_never_never_changes_status_activity_or_activity_date(
    member: CampaignMember,
    settings: Settings,
    plan: list[tuple[str, object]],
    default_status: str | None,
) -> None:
    """Never: over any imports and deletions the status fields stay as they were."""
    for _, _, stored, after in run(member, settings, plan, default_status):
        assert state(after) == state(member)
        assert after.engagement == rollup(stored)


@given(members(), settings(refresh_modes=[RefreshMode.ONCE_ONLY]), STEPS, default_statuses())
def test_once_only_changes_status_at_most_once_over_imports_and_deletions(
    member: CampaignMember,
    settings: Settings,
    plan: list[tuple[str, object]],
    default_status: str | None,
) -> None:
    """Once Only: status/activity/activity date change at most once, and only on an import."""
    history = run(member, settings, plan, default_status)
    changes = [
        (cause, before) for cause, before, _, after in history if state(after) != state(before)
    ]

    assert len(changes) <= 1
    for cause, before in changes:
        assert cause is RefreshCause.IMPORT
        assert before.activity_date is None
    if member.activity_date is not None:
        assert changes == []


@given(members(), settings(refresh_modes=[RefreshMode.ALWAYS]), STEPS, default_statuses())
def test_always_follows_the_rules_at_every_step(
    member: CampaignMember,
    settings: Settings,
    plan: list[tuple[str, object]],
    default_status: str | None,
) -> None:
    """Always: each import obeys the date guard, each deletion recomputes."""
    for cause, before, stored, after in run(member, settings, plan, default_status):
        if cause is RefreshCause.IMPORT:
            assert state(after) == expected_after_import(before, stored, settings)
        else:
            assert state(after) == expected_after_deletion(before, stored, settings, default_status)
        assert after.engagement == rollup(stored)


# ------------------------------------------------------------------------------- diagnose


@given(batches(), settings(), as_of_instants())
def test_diagnose_finds_nothing_right_after_a_members_first_refresh(
    batch: tuple[Activity, ...], settings: Settings, as_of: datetime
) -> None:
    """A fresh member refreshed from its records, in any mode, agrees with them."""
    member = refresh_member(CampaignMember(CAMPAIGN_ID, MEMBER_ID), batch, settings)

    assert diagnose(member, batch, settings, as_of=as_of) == ()


@given(
    batches(min_size=1),
    settings(refresh_modes=[RefreshMode.ONCE_ONLY, RefreshMode.NEVER]),
    as_of_instants(),
)
def test_diagnose_explains_a_status_left_without_records_by_the_retention_window(
    batch: tuple[Activity, ...], settings: Settings, as_of: datetime
) -> None:
    """Once Only / Never after a purge: a status whose records went is blamed on DaysToKeep."""
    stored = tuple(a for a in batch if settings.imports(a.type))
    synced = refresh_member(
        CampaignMember(CAMPAIGN_ID, MEMBER_ID),
        stored,
        attrs.evolve(settings, refresh_mode=RefreshMode.ONCE_ONLY),
    )
    kept = apply_retention(stored, settings, as_of=as_of).kept
    member = refresh_member(synced, kept, settings, cause=RefreshCause.DELETION)

    findings = [
        f
        for f in diagnose(member, kept, settings, as_of=as_of)
        if f.code is FindingCode.STATUS_WITHOUT_ACTIVITY
    ]

    assert state(member) == state(synced)
    if member.activity is not None and all(a.type is not member.activity for a in kept):
        assert len(findings) == 1
        assert "DaysToKeep" in findings[0].message
        assert "by hand" not in findings[0].message
        assert any("Always" in r for r in findings[0].remedies)
        assert any("DaysToKeep" in r for r in findings[0].remedies)
    else:
        assert findings == []


@given(batches(min_size=1), settings(refresh_modes=[RefreshMode.ONCE_ONLY, RefreshMode.NEVER]))
def test_diagnose_explains_records_removed_inside_the_window_as_deleted_by_hand(
    batch: tuple[Activity, ...], settings: Settings
) -> None:
    """Once Only / Never: removing the status's records by hand is explained as such."""
    stored = tuple(a for a in batch if settings.imports(a.type))
    synced = refresh_member(
        CampaignMember(CAMPAIGN_ID, MEMBER_ID),
        stored,
        attrs.evolve(settings, refresh_mode=RefreshMode.ONCE_ONLY),
    )
    remaining = tuple(a for a in stored if a.type is not synced.activity)
    member = refresh_member(synced, remaining, settings, cause=RefreshCause.DELETION)
    as_of = synced.activity_date

    if as_of is None:
        assert state(member) == (None, None, None)
        return
    findings = [
        f
        for f in diagnose(member, remaining, settings, as_of=as_of)
        if f.code is FindingCode.STATUS_WITHOUT_ACTIVITY
    ]
    assert len(findings) == 1
    assert "by hand" in findings[0].message
    assert any("Always" in r for r in findings[0].remedies)
