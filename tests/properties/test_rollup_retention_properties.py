"""Properties of rollups (DESIGN §5), retention (§7) and record identity (§4).

Rollups are a pure function of the stored records; retention purges exactly the records
strictly before ``as_of - days x 24 h`` of their type (everything when the type keeps 0
days); the derived keys make identical same-minute events distinct and re-reads stable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    RefreshCause,
    Settings,
    apply_retention,
    number_occurrences,
    refresh_member,
    retention_cutoffs,
    rollup,
)
from strategies import (
    activities,
    as_of_instants,
    default_statuses,
    instants,
    members,
    represented,
    settings,
    stored_records,
)

FIELD = {
    ActivityType.SENT: "sent",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam_complaints",
}


def counted(records: tuple[Activity, ...]) -> Engagement:
    """The counters written out by hand: one per type, the number of records of that type."""
    return Engagement(**{FIELD[t]: sum(1 for a in records if a.type is t) for t in ActivityType})


def utc(instant: datetime) -> datetime:
    """The instant in UTC, through the POSIX timestamp (independent of the code under test)."""
    return datetime.fromtimestamp(instant.timestamp(), UTC)


def purged_by_design(record: Activity, settings: Settings, as_of: datetime) -> bool:
    """DESIGN §7: 0 days keeps nothing; otherwise purge iff before as_of - days x 24 h."""
    days = settings.days_to_keep_by_type.get(record.type, settings.days_to_keep)
    if days == 0:
        return True
    return utc(record.occurred_at) < utc(as_of) - timedelta(hours=24 * days)


# ------------------------------------------------------------------------------- rollups


@given(stored_records())
def test_rollups_equal_the_counts_of_stored_records(stored: tuple[Activity, ...]) -> None:
    """rollup(stored) has, per type, exactly the number of stored records of that type."""
    assert rollup(stored) == counted(stored)


@given(stored_records(), stored_records())
def test_rollup_of_two_sets_of_records_is_the_sum_of_their_rollups(
    first: tuple[Activity, ...], second: tuple[Activity, ...]
) -> None:
    """Rollups add: counting a union of batches equals adding their counters."""
    assert rollup(first + second) == rollup(first) + rollup(second)


@given(stored_records(), st.data())
def test_rollups_do_not_depend_on_the_order_of_stored(
    stored: tuple[Activity, ...], data: st.DataObject
) -> None:
    """Any permutation of the records gives the same counters."""
    assert rollup(data.draw(st.permutations(stored))) == rollup(stored)


@given(members(), stored_records(), settings(), st.sampled_from(RefreshCause), default_statuses())
def test_a_refreshed_members_counters_equal_its_stored_records_in_every_mode(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    cause: RefreshCause,
    default_status: str | None,
) -> None:
    """Whatever the mode and cause, a refresh leaves counters equal to the record counts."""
    refreshed = refresh_member(member, stored, settings, cause=cause, default_status=default_status)

    assert refreshed.engagement == counted(stored)


# ------------------------------------------------------------------------------- retention


@given(stored_records(), settings(), as_of_instants())
def test_retention_purges_exactly_the_records_before_their_types_cutoff(
    stored: tuple[Activity, ...], settings: Settings, as_of: datetime
) -> None:
    """Nothing at or after the cutoff is purged; everything before it is; order is kept."""
    retention = apply_retention(stored, settings, as_of=as_of)

    assert retention.purged == tuple(a for a in stored if purged_by_design(a, settings, as_of))
    assert retention.kept == tuple(a for a in stored if not purged_by_design(a, settings, as_of))


@given(settings(), as_of_instants())
def test_each_cutoff_is_as_of_minus_whole_days_of_24_hours_in_any_zone(
    settings: Settings, as_of: datetime
) -> None:
    """The cutoff is the UTC instant as_of - days x 24 h, however as_of is represented."""
    cutoffs = retention_cutoffs(settings, as_of=as_of)

    for activity_type, cutoff in cutoffs.items():
        days = settings.days_to_keep_by_type.get(activity_type, settings.days_to_keep)
        if days:
            assert cutoff == utc(as_of) - timedelta(hours=24 * days)
            assert cutoff.utcoffset() == timedelta(0)


@given(stored_records(), settings(), as_of_instants(), st.data())
def test_retention_does_not_depend_on_the_order_of_records(
    stored: tuple[Activity, ...], settings: Settings, as_of: datetime, data: st.DataObject
) -> None:
    """A permutation of the input purges the same records."""
    shuffled = tuple(data.draw(st.permutations(stored)))

    original = apply_retention(stored, settings, as_of=as_of)
    permuted = apply_retention(shuffled, settings, as_of=as_of)

    assert set(permuted.kept) == set(original.kept)
    assert set(permuted.purged) == set(original.purged)


@given(stored_records(), settings(), as_of_instants())
def test_retention_applied_twice_purges_nothing_more(
    stored: tuple[Activity, ...], settings: Settings, as_of: datetime
) -> None:
    """Running the purge again at the same as_of keeps everything it kept."""
    kept = apply_retention(stored, settings, as_of=as_of).kept

    again = apply_retention(kept, settings, as_of=as_of)

    assert again.kept == kept
    assert again.purged == ()


@given(stored_records(), settings(), as_of_instants(), st.integers(min_value=0, max_value=3))
def test_a_later_purge_keeps_no_record_an_earlier_one_purged(
    stored: tuple[Activity, ...], settings: Settings, as_of: datetime, later_by_days: int
) -> None:
    """The window only moves forward: a later as_of purges a superset."""
    earlier = apply_retention(stored, settings, as_of=as_of)
    later = apply_retention(stored, settings, as_of=as_of + timedelta(days=later_by_days))

    assert set(earlier.purged) <= set(later.purged)


@given(members(), stored_records(), settings(), as_of_instants(), default_statuses())
def test_after_a_purge_a_refreshed_member_counts_only_the_kept_records(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    as_of: datetime,
    default_status: str | None,
) -> None:
    """The FAQ's rollups: after retention the counters drop to what was kept."""
    retention = apply_retention(stored, settings, as_of=as_of)

    refreshed = refresh_member(
        member,
        retention.kept,
        settings,
        cause=RefreshCause.DELETION,
        default_status=default_status,
    )

    assert refreshed.engagement == counted(retention.kept)
    assert refreshed.engagement + counted(retention.purged) == counted(stored)


# ------------------------------------------------------------------------------- identity


ANY_INSTANT = st.one_of(
    instants(),
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
)


@given(ANY_INSTANT.flatmap(lambda i: st.tuples(st.just(i), represented(i))))
def test_a_records_occurred_at_is_the_instant_it_was_given_in_utc(
    pair: tuple[datetime, datetime],
) -> None:
    """Whatever zone or library the instant came in, the record holds it in UTC."""
    instant, given_as = pair

    occurred_at = Activity("cmp-1", "m-1", ActivityType.OPENED, given_as).occurred_at

    assert occurred_at.utcoffset() == timedelta(0)
    assert occurred_at.replace(tzinfo=None) == instant.replace(tzinfo=None)


@given(st.lists(activities(), max_size=10))
def test_numbered_records_have_distinct_keys_and_a_reread_gives_the_same_keys(
    read: list[Activity],
) -> None:
    """Identical same-minute events become distinct records; reading again is idempotent."""
    numbered = number_occurrences(read)
    keys = [a.key for a in numbered]

    assert len(set(keys)) == len(keys)
    assert [a.key for a in number_occurrences(list(read))] == keys
    assert [a.key for a in number_occurrences(numbered)] == keys


@given(st.lists(activities(), max_size=10), st.data())
def test_reading_identical_events_in_another_order_gives_the_same_set_of_keys(
    read: list[Activity], data: st.DataObject
) -> None:
    """Numbering depends on how many identical events a minute holds, not on read order."""
    shuffled = data.draw(st.permutations(read))

    assert {a.key for a in number_occurrences(shuffled)} == {
        a.key for a in number_occurrences(read)
    }
