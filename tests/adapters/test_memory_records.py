"""The in-memory store's compact record rows answer every read as a plain dict of
``Activity`` by key would, after any inserts, deletes and purges."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.memory import records as compact
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.records import MemberRef, WriteResult

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CAMPAIGNS = ("cmp-1", "cmp-2")
CLIENTS = ("client-1", "client-2", "")


class ReferenceStore:
    """The straightforward store the compact one must agree with: a dict by key."""

    def __init__(self) -> None:
        self.records: dict[ActivityKey, Activity] = {}

    def insert(self, batch: Iterable[Activity]) -> int:
        """First write of a key wins; returns how many were written."""
        written = 0
        for record in batch:
            if record.key not in self.records:
                self.records[record.key] = record
                written += 1
        return written

    def delete(self, keys: Iterable[ActivityKey]) -> int:
        """Delete the stored keys; returns how many went."""
        return sum(self.records.pop(key, None) is not None for key in keys)


def _instants() -> st.SearchStrategy[datetime]:
    """Instants a few minutes and days apart, with seconds and microseconds, and the
    ones the rows cannot hold (fold=1, after the year 6053) or hold far from now."""
    near = st.builds(
        lambda days, minutes, seconds, micro: (
            T0 + timedelta(days=days, minutes=minutes, seconds=seconds, microseconds=micro)
        ),
        st.integers(-3, 3),
        st.integers(0, 2),
        st.sampled_from((0, 0, 1, 59)),
        st.sampled_from((0, 0, 1, 999_999)),
    )
    rare = st.sampled_from(
        (
            T0.replace(fold=1),
            datetime(1900, 1, 1, tzinfo=UTC),
            datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
            datetime(9000, 6, 1, 12, 30, 15, tzinfo=UTC),
            datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        )
    )
    return st.one_of(near, near, near, rare)


#: Who (member id, email): the sync's shape (the member id is the email's key), the email
#: as written with its key as member id, no email at all, or an email whose key is not
#: the member id (kept beside the rows).
WHO = st.sampled_from(
    (
        ("ann@example.com", "ann@example.com"),
        ("ann@example.com", "Ann@Example.com"),
        ("bob@example.com", "bob@example.com"),
        ("m-1", None),
        ("m-1", "ann@example.com"),
    )
)
INSTANTS = _instants()
ACTIVITIES = st.builds(
    lambda campaign_id, who, activity_type, at, client_id, list_id, detail, n: Activity(
        campaign_id,
        who[0],
        activity_type,
        at,
        client_id=client_id,
        email=who[1],
        list_id=list_id,
        detail=detail,
        occurrence=n,
    ),
    st.sampled_from(CAMPAIGNS),
    WHO,
    st.sampled_from(tuple(ActivityType)),
    INSTANTS,
    st.sampled_from(CLIENTS),
    st.sampled_from((None, "list-1")),
    st.sampled_from((None, "https://example.com/a", "Hard")),
    st.sampled_from((0, 0, 1, 2**31 - 1, 2**31)),
)


def _same(found: Iterable[Activity], expected: Iterable[Activity], *, reprs: bool = False) -> None:
    """Equal multisets; with ``reprs``, compared by repr too (every field's type)."""
    found, expected = list(found), list(expected)
    assert Counter(found) == Counter(expected)
    if reprs:
        assert sorted(map(repr, found)) == sorted(map(repr, expected))


class CompactStoreMachine(RuleBasedStateMachine):
    """Random inserts, deletes and purges on InMemoryCrm and on the reference."""

    def __init__(self) -> None:
        super().__init__()
        self.crm = InMemoryCrm()
        self.model = ReferenceStore()
        self.seen: dict[ActivityKey, Activity] = {}

    keys = Bundle("keys")

    @rule(target=keys, batch=st.lists(ACTIVITIES, min_size=1, max_size=6))
    def insert(self, batch: list[Activity]) -> MultipleResults[ActivityKey]:
        for record in batch:
            self.seen.setdefault(record.key, record)
        result = self.crm.insert_records(batch)
        assert result == WriteResult(self.model.insert(batch))
        return multiple(*(record.key for record in batch))

    @rule(keys=st.lists(keys, max_size=4))
    def delete(self, keys: list[ActivityKey]) -> None:
        result = self.crm.delete_records(keys)
        assert result == WriteResult(self.model.delete(keys))

    @rule(
        cutoff=INSTANTS,
        types=st.frozensets(st.sampled_from(tuple(ActivityType)), min_size=1),
        purge=st.booleans(),
    )
    def expire(self, cutoff: datetime, types: frozenset[ActivityType], purge: bool) -> None:
        cutoffs = dict.fromkeys(sorted(types, key=lambda t: t.name), cutoff)
        expired = self.crm.expired_records(cutoffs)
        expected = [
            r for r in self.model.records.values() if r.type in types and r.occurred_at < cutoff
        ]
        _same(expired, expected, reprs=True)
        if purge:  # what the sync does with them
            keys = [r.key for r in expired]
            assert self.crm.delete_records(keys) == WriteResult(self.model.delete(keys))

    @invariant()
    def every_read_agrees(self) -> None:
        crm, stored = self.crm, self.model.records
        assert crm.record_count() == len(stored)
        _same(crm.all_records(), stored.values(), reprs=True)
        refs = {MemberRef(r.campaign_id, r.member_id) for r in self.seen.values()}
        found = crm.records_for([*refs, MemberRef("cmp-1", "nobody@example.com")])
        expected_refs = {MemberRef(r.campaign_id, r.member_id) for r in stored.values()}
        assert set(found) == expected_refs
        for ref, records in found.items():
            _same(
                records,
                [r for r in stored.values() if MemberRef(r.campaign_id, r.member_id) == ref],
            )
        for clients in (CLIENTS[:1], CLIENTS[1:], CLIENTS, ("unknown",)):
            _same(
                crm.records_of_clients(clients),
                [r for r in stored.values() if r.client_id in clients],
            )
        for campaigns in (CAMPAIGNS[:1], CAMPAIGNS, ("cmp-unknown",)):
            _same(
                crm.records_of_campaigns(campaigns),
                [r for r in stored.values() if r.campaign_id in campaigns],
            )
        assert set(crm.existing_keys(list(self.seen))) == set(stored)


TestCompactStore = CompactStoreMachine.TestCase


def test_the_store_agrees_with_the_reference_when_its_expiry_index_is_rebuilt_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The expiry index rebuilt from the rows at every insert lists what the one kept by
    appends and pruned by expiry lists."""
    monkeypatch.setattr(compact, "_REINDEX_SLACK", -(2**40))
    fewer = max(10, settings.default.max_examples // 4)
    run_state_machine_as_test(CompactStoreMachine, settings=settings(max_examples=fewer))


def test_a_deleted_then_reinserted_member_is_listed_once_by_expiry() -> None:
    """Stale expiry entries (a record deleted, inserted again, over and over) list each
    stored record once."""
    crm = InMemoryCrm()
    record = Activity("cmp-1", "ann@example.com", ActivityType.OPENED, T0, email="ann@example.com")
    for _ in range(50):
        crm.insert_records([record])
        crm.delete_records([record.key])
    crm.insert_records([record])

    assert crm.expired_records({ActivityType.OPENED: T0 + timedelta(days=1)}) == [record]


def test_records_of_campaigns_lists_each_campaigns_records_linked_or_not() -> None:
    """records_of_campaigns reads one campaign's records, whatever its client."""
    crm = InMemoryCrm()
    a = Activity("cmp-1", "ann@example.com", ActivityType.SENT, T0, client_id="c1")
    b = Activity("cmp-2", "ann@example.com", ActivityType.SENT, T0, client_id="c2")
    c = Activity("cmp-1", "bob@example.com", ActivityType.OPENED, T0, client_id="c2")
    crm.insert_records([a, b, c])

    assert Counter(crm.records_of_campaigns(["cmp-1"])) == Counter([a, c])
    assert list(crm.records_of_campaigns(["cmp-2", "cmp-3", "cmp-2"])) == [b]
    assert list(crm.records_of_campaigns([])) == []


def test_records_read_back_are_built_without_checks_yet_equal_the_inserted_ones() -> None:
    """A record comes back equal, with the same key, its instant exact to the microsecond."""
    crm = InMemoryCrm()
    at = T0 + timedelta(seconds=59, microseconds=123_456)
    record = Activity(
        "cmp-1",
        "ann@example.com",
        ActivityType.CLICKED,
        at,
        client_id="c1",
        email="ann@example.com",
        list_id="list-1",
        detail="https://example.com/a",
        occurrence=3,
    )
    crm.insert_records([record])

    (back,) = crm.all_records()

    assert back == record
    assert back.key == record.key
    assert back.occurred_at == at
    assert back.occurred_at.tzinfo is UTC


def test_stored_records_add_no_object_the_garbage_collector_tracks() -> None:
    """Thousands of stored records leave the collector's tracked objects (nearly) as they
    were: the rows are ints and bytes in untracked dicts."""
    records = [
        Activity(
            f"cmp-{i % 7}",
            f"s{i % 500:04d}@example.com",
            ActivityType.OPENED,
            T0 + timedelta(minutes=i),
            client_id="c1",
            email=f"s{i % 500:04d}@example.com",
        )
        for i in range(5000)
    ]
    for record in records:
        assert record.key  # computed before counting
    crm = InMemoryCrm()
    gc.collect()
    before = len(gc.get_objects())

    crm.insert_records(records)
    gc.collect()

    assert crm.record_count() == 5000
    assert len(gc.get_objects()) - before < 100
