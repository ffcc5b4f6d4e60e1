"""The CRM contract on tracking records: inserted, read back, deleted and expired."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.records.members import MemberRef
from cmsf_core.domain.records.platform import PlatformCampaign
from cmsf_core.testing._support import (
    ANN,
    BOB,
    CAMPAIGN,
    CAROL,
    CLIENT,
    OTHER_CAMPAIGN,
    OTHER_CLIENT,
    T0,
    _hypothesis_or_skip,
)
from cmsf_core.testing.crm_contract._base import (
    _POOL_EMAILS,
    _POOL_INSTANTS,
    CrmContractBase,
    _check,
    _record,
    _ref,
    _stored,
)

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy


class RecordContract(CrmContractBase):
    """The contract on tracking records."""

    # -- tracking records ------------------------------------------------------------------

    def test_inserted_records_are_read_back_by_member_key_and_client(self) -> None:
        """Inserted records are in records_for, existing_keys and records_of_clients."""
        crm = self.make_crm()
        opened = _record(ActivityType.OPENED, ANN, T0)
        clicked = _record(ActivityType.CLICKED, ANN, T0 + timedelta(minutes=1), detail="u")
        bob = _record(ActivityType.SENT, BOB, T0, list_id="list-1")
        other = _record(ActivityType.BOUNCED, ANN, T0, client_id=OTHER_CLIENT, detail="Hard")
        other = attrs.evolve(other, campaign_id=OTHER_CAMPAIGN)
        missing = _record(ActivityType.OPENED, CAROL, T0)

        _check(crm.insert_records([opened, clicked, bob, other]), written=4)

        assert _stored(crm, [_ref(opened), _ref(bob), _ref(other), _ref(missing)]) == {
            _ref(opened): Counter([opened, clicked]),
            _ref(bob): Counter([bob]),
            _ref(other): Counter([other]),
        }
        keys = [opened.key, clicked.key, bob.key, other.key, missing.key]
        assert set(crm.existing_keys(keys)) == set(keys[:4])
        assert Counter(crm.records_of_clients([CLIENT])) == Counter([opened, clicked, bob])
        assert Counter(crm.records_of_clients([CLIENT, OTHER_CLIENT])) == Counter(
            [opened, clicked, bob, other]
        )

    def test_records_of_campaigns_are_every_record_of_those_campaigns(self) -> None:
        """records_of_campaigns reads the records of the campaigns asked for, linked or not,
        whatever the client, with or without a stored copy of the platform campaign."""
        crm = self.make_crm()
        opened = _record(ActivityType.OPENED, ANN, T0)
        bob = _record(ActivityType.SENT, BOB, T0, list_id="list-1")
        other = _record(ActivityType.BOUNCED, ANN, T0, client_id=OTHER_CLIENT, detail="Hard")
        other = attrs.evolve(other, campaign_id=OTHER_CAMPAIGN)
        third = attrs.evolve(_record(ActivityType.OPENED, CAROL, T0), campaign_id="third")
        _check(crm.insert_records([opened, bob, other, third]), written=4)

        for stage in ("no copies", "copies"):
            assert Counter(crm.records_of_campaigns([CAMPAIGN])) == Counter([opened, bob]), stage
            assert Counter(crm.records_of_campaigns([CAMPAIGN, OTHER_CAMPAIGN])) == Counter(
                [opened, bob, other]
            ), stage
            assert list(crm.records_of_campaigns([])) == [], stage
            assert list(crm.records_of_campaigns(["never-sent"])) == [], stage
            crm.save_platform_campaigns(
                [
                    PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0),
                    PlatformCampaign(OTHER_CLIENT, OTHER_CAMPAIGN, "Summer", T0),
                ]
            )
        _check(crm.delete_records([bob.key]), written=1)
        assert list(crm.records_of_campaigns([CAMPAIGN])) == [opened]

    def test_inserting_an_existing_key_leaves_the_stored_record_as_it_is(self) -> None:
        """Idempotent import: a record whose key is stored is not changed, nor duplicated."""
        crm = self.make_crm()
        first = _record(ActivityType.OPENED, ANN, T0 + timedelta(seconds=10))
        same_key = attrs.evolve(first, occurred_at=T0 + timedelta(seconds=50))
        assert same_key.key == first.key
        _check(crm.insert_records([first]), written=1)

        _check(crm.insert_records([first]))
        _check(crm.insert_records([same_key]))

        assert _stored(crm, [_ref(first)]) == {_ref(first): Counter([first])}
        assert list(crm.records_of_clients([CLIENT])) == [first]

    def test_identical_events_numbered_apart_are_two_records(self) -> None:
        """Two identical clicks in one minute (occurrences 0 and 1) are both stored."""
        crm = self.make_crm()
        first = _record(ActivityType.CLICKED, ANN, T0, detail="https://example.com/a")
        second = attrs.evolve(first, occurrence=1)

        _check(crm.insert_records([first, second]), written=2)

        assert _stored(crm, [_ref(first)]) == {_ref(first): Counter([first, second])}

    def test_deleting_a_missing_key_is_not_an_error(self) -> None:
        """Deleting records that are not stored reports no failure and changes nothing."""
        crm = self.make_crm()
        kept = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([kept]))

        result = crm.delete_records([_record(ActivityType.CLICKED, BOB, T0, detail="u").key])

        assert result.ok
        assert set(crm.existing_keys([kept.key])) == {kept.key}

    def test_deleted_records_are_gone_from_every_read(self) -> None:
        """A deleted record is in none of records_for, existing_keys, records_of_clients and
        expired_records."""
        crm = self.make_crm()
        gone = _record(ActivityType.OPENED, ANN, T0)
        kept = _record(ActivityType.SENT, ANN, T0)
        _check(crm.insert_records([gone, kept]))

        _check(crm.delete_records([gone.key]), written=1)
        _check(crm.delete_records([gone.key]))  # a second delete: the key is missing now

        assert _stored(crm, [_ref(gone)]) == {_ref(gone): Counter([kept])}
        assert set(crm.existing_keys([gone.key, kept.key])) == {kept.key}
        assert list(crm.records_of_clients([CLIENT])) == [kept]
        cutoffs = dict.fromkeys(ActivityType, T0 + timedelta(days=1))
        assert list(crm.expired_records(cutoffs)) == [kept]

    def test_a_record_deleted_then_inserted_again_is_stored_once(self) -> None:
        """Delete and re-insert of one key (a full sync re-imports) leaves one record."""
        crm = self.make_crm()
        record = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([record]))
        _check(crm.delete_records([record.key]))

        _check(crm.insert_records([record]), written=1)

        assert _stored(crm, [_ref(record)]) == {_ref(record): Counter([record])}
        cutoffs = {ActivityType.OPENED: T0 + timedelta(days=1)}
        assert list(crm.expired_records(cutoffs)) == [record]

    def test_expired_records_are_strictly_before_the_cutoff(self) -> None:
        """A record before its type's cutoff is expired; one at or after it never is."""
        crm = self.make_crm()
        cutoff = T0
        before = _record(ActivityType.OPENED, ANN, cutoff - timedelta(minutes=1))
        at = _record(ActivityType.OPENED, BOB, cutoff)
        after = _record(ActivityType.OPENED, CAROL, cutoff + timedelta(minutes=1))
        just_before = _record(ActivityType.OPENED, CAROL, cutoff - timedelta(seconds=1))
        _check(crm.insert_records([before, at, after, just_before]))

        expired = crm.expired_records({ActivityType.OPENED: cutoff})

        assert Counter(expired) == Counter([before, just_before])

    def test_expired_records_follow_each_types_own_cutoff(self) -> None:
        """Each type has its cutoff; a type without one in the mapping never expires."""
        crm = self.make_crm()
        sent = _record(ActivityType.SENT, ANN, T0)
        opened = _record(ActivityType.OPENED, ANN, T0)
        clicked = _record(ActivityType.CLICKED, ANN, T0, detail="u")
        _check(crm.insert_records([sent, opened, clicked]))

        expired = crm.expired_records(
            {
                ActivityType.SENT: T0 + timedelta(days=1),
                ActivityType.OPENED: T0 - timedelta(days=1),
            }
        )

        assert list(expired) == [sent]

    def test_expired_records_stay_stored_until_deleted(self) -> None:
        """Listing expired records deletes nothing: they are listed again until deleted."""
        crm = self.make_crm()
        old = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([old]))
        cutoffs = {ActivityType.OPENED: T0 + timedelta(days=1)}

        assert list(crm.expired_records(cutoffs)) == [old]
        assert list(crm.expired_records(cutoffs)) == [old]
        assert set(crm.existing_keys([old.key])) == {old.key}
        _check(crm.delete_records([old.key]))

        assert list(crm.expired_records(cutoffs)) == []

    def test_record_reads_match_a_model_for_any_sequence_of_writes(self) -> None:
        """For any inserts and deletes, every read returns what was inserted (first write
        of a key wins) minus what was deleted, each record once."""
        _hypothesis_or_skip()
        from hypothesis import given  # noqa: PLC0415 - see cmsf_core.testing._support

        @self._settings
        @given(_record_operations())
        def check(operations: list[tuple[str, list[Activity]]]) -> None:
            crm = self.make_crm()
            model: dict[ActivityKey, Activity] = {}
            seen: dict[ActivityKey, Activity] = {}
            for verb, batch in operations:
                for record in batch:
                    seen.setdefault(record.key, record)
                if verb == "insert":
                    result = crm.insert_records(batch)
                    for record in batch:
                        model.setdefault(record.key, record)
                else:
                    result = crm.delete_records([r.key for r in batch])
                    for record in batch:
                        model.pop(record.key, None)
                assert result.ok
                assert 0 <= result.written <= len(batch)
            refs = {_ref(r) for r in seen.values()}
            by_member: defaultdict[MemberRef, Counter[Activity]] = defaultdict(Counter)
            for record in model.values():
                by_member[_ref(record)][record] += 1
            assert _stored(crm, refs) == dict(by_member)
            assert set(crm.existing_keys(list(seen))) == set(model)
            clients = {r.client_id for r in seen.values()} | {CLIENT}
            assert Counter(crm.records_of_clients(clients)) == Counter(model.values())
            for cutoff in _POOL_INSTANTS:
                expected = Counter(r for r in model.values() if r.occurred_at < cutoff)
                assert Counter(crm.expired_records(dict.fromkeys(ActivityType, cutoff))) == (
                    expected
                )

        check()


def _record_operations() -> SearchStrategy[list[tuple[str, list[Activity]]]]:
    from hypothesis import strategies as st  # noqa: PLC0415 - see cmsf_core.testing._support

    @st.composite
    def records(draw: DrawFn) -> Activity:
        activity_type = draw(st.sampled_from(tuple(ActivityType)))
        detail = {
            ActivityType.CLICKED: "https://example.com/a",
            ActivityType.BOUNCED: "Soft",
        }.get(activity_type)
        return _record(
            activity_type,
            draw(st.sampled_from(_POOL_EMAILS)),
            draw(st.sampled_from(_POOL_INSTANTS)),
            campaign_id=draw(st.sampled_from((CAMPAIGN, OTHER_CAMPAIGN))),
            client_id=draw(st.sampled_from((CLIENT, OTHER_CLIENT))),
            detail=detail,
            occurrence=draw(st.integers(min_value=0, max_value=1)),
        )

    @st.composite
    def operations(draw: DrawFn) -> list[tuple[str, list[Activity]]]:
        # A small pool per example, so that keys meet again: re-inserted, deleted twice,
        # deleted then inserted again, inserted with another second of the same minute.
        pool = draw(st.lists(records(), min_size=1, max_size=5))
        batch = st.lists(st.sampled_from(pool), max_size=4)
        verb = st.sampled_from(("insert", "delete"))
        return draw(st.lists(st.tuples(verb, batch), max_size=8))

    return operations()
