"""The columnar path equals the pure rules (STYLE 16): rollups, retention and refresh.

Random stores of a few members (each a history from ``cmsf_core.testing.strategies``: ties at one
instant, same-minute twins, Activity Dates equal to a record's time, statuses set by hand)
and random tracking settings (all refresh modes, both policies, types mapped to nothing,
shared labels, per-type retention, 0 days) go through ``apply_retention`` +
``refresh_member`` member by member and through ``cmsf_core.app.columnar``; the results must
be identical.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    CampaignMember,
    RefreshCause,
    Settings,
    apply_retention,
    refresh_member,
    rollup,
)
from cmsf_core.testing.strategies import (
    default_statuses,
    member_histories,
    refresh_causes,
    tracking_settings,
    utc_instants,
)

pytest.importorskip("polars")

from cmsf_core.app import columnar

#: The members a store may hold: two campaigns, a member id shared between them.
KEYS = (("cmp-1", "m-1"), ("cmp-1", "m-2"), ("cmp-2", "m-1"), ("cmp-2", "m-3"))

Store = tuple[tuple[CampaignMember, tuple[Activity, ...]], ...]


def stores() -> st.SearchStrategy[Store]:
    """Up to four members, each with its own history."""
    keys = st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS))
    return keys.flatmap(
        lambda chosen: st.tuples(*(member_histories(campaign_id=c, member_id=m) for c, m in chosen))
    )


@st.composite
def as_ofs(draw: st.DrawFn, store: Store, settings: Settings) -> datetime:
    """Any instant, or one that puts a record exactly at its type's retention cutoff."""
    records = [r for _member, history in store for r in history]
    if records and draw(st.booleans()):
        record = draw(st.sampled_from(records))
        days = settings.days_to_keep_for(record.type)
        return record.occurred_at + timedelta(days=days)
    return draw(utc_instants())


def flat(store: Store) -> list[Activity]:
    """Every record of the store, member after member."""
    return [r for _member, history in store for r in history]


def pure_recompute(
    store: Store,
    settings: Settings,
    as_of: datetime,
    cause: RefreshCause,
    defaults: dict[str, str | None],
) -> list[CampaignMember]:
    """The specification: retention, then refresh_member, member by member."""
    return [
        refresh_member(
            member,
            apply_retention(history, settings, as_of=as_of).kept,
            settings,
            cause=cause,
            default_status=defaults.get(member.campaign_id),
        )
        for member, history in store
    ]


@given(
    data=st.data(),
    store=stores(),
    settings=tracking_settings(),
    cause=refresh_causes(),
    defaults=st.fixed_dictionaries({"cmp-1": default_statuses(), "cmp-2": default_statuses()}),
)
def test_columnar_recompute_equals_retention_then_refresh_member(
    data: st.DataObject,
    store: Store,
    settings: Settings,
    cause: RefreshCause,
    defaults: dict[str, str | None],
) -> None:
    """Every member's status, activity, activity date and counters equal the pure path's."""
    as_of = data.draw(as_ofs(store, settings))
    members = columnar.members_frame(member for member, _history in store)
    records = columnar.records_frame(flat(store))
    out = columnar.recompute(
        members, records, settings, as_of=as_of, cause=cause, default_statuses=defaults
    )
    assert columnar.members_from(out) == pure_recompute(store, settings, as_of, cause, defaults)


@given(store=stores(), settings=tracking_settings(), cause=refresh_causes())
def test_columnar_refresh_equals_refresh_member_for_every_member(
    store: Store, settings: Settings, cause: RefreshCause
) -> None:
    """Refresh without retention, one default status for all campaigns, equals refresh_member."""
    members = columnar.members_frame(member for member, _history in store)
    out = columnar.refresh(
        members, columnar.records_frame(flat(store)), settings, cause=cause, default_statuses="Sent"
    )
    expected = [
        refresh_member(member, history, settings, cause=cause, default_status="Sent")
        for member, history in store
    ]
    assert columnar.members_from(out) == expected


@given(data=st.data(), store=stores(), settings=tracking_settings())
def test_columnar_retention_purges_exactly_what_apply_retention_purges(
    data: st.DataObject, store: Store, settings: Settings
) -> None:
    """Kept and purged rows are the pure split, in input order, and convert back unchanged."""
    as_of = data.draw(as_ofs(store, settings))
    records = flat(store)
    split = columnar.apply_retention(columnar.records_frame(records), settings, as_of=as_of)
    expected = apply_retention(records, settings, as_of=as_of)
    assert columnar.activities_from(split.kept) == list(expected.kept)
    assert columnar.activities_from(split.purged) == list(expected.purged)


@given(store=stores())
def test_columnar_rollups_equal_rollup_of_each_members_records(store: Store) -> None:
    """One row per member with records, its counters those of ``rollup``."""
    out = columnar.rollups(columnar.records_frame(flat(store)))
    found = {
        (row["campaign_id"], row["member_id"]): tuple(row[c] for c in columnar.COUNT_COLUMNS)
        for row in out.iter_rows(named=True)
    }
    expected = {}
    for member, history in store:
        if history:
            e = rollup(history)
            expected[member.campaign_id, member.member_id] = (
                e.sent,
                e.opens,
                e.clicks,
                e.bounces,
                e.unsubscribes,
                e.spam_complaints,
            )
    assert found == expected
