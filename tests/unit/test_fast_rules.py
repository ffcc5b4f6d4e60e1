"""The hot values and rules, on the paths the property tests rarely take.

The hot enums hash by identity and still pickle, copy and parse as enums; the tables kept
per settings object never outlive a change of settings, ``as_of`` or representation; a
subclass of :class:`CampaignMember` is refreshed into its own class; the internal builders
give values equal to the validated constructors'.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    NaiveDatetimeError,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusPolicy,
    apply_retention,
    refresh_member,
    retention_cutoffs,
    rollup,
)
from cmsf_core.domain.status import StatusAction

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "kind", [ActivityType, RefreshMode, StatusPolicy, RefreshCause, StatusAction]
)
def test_hot_enums_hash_by_identity_and_stay_enums(kind: type) -> None:
    for member in kind:
        assert hash(member) == object.__hash__(member)
        assert pickle.loads(pickle.dumps(member)) is member
        assert copy.deepcopy(member) is member
        assert kind(member.value) is member
        assert kind[member.name] is member
        assert {member: 1}[kind(member.value)] == 1
    assert len(set(kind)) == len(kind.__members__)


def test_cutoffs_follow_the_settings_and_the_instant_asked_about() -> None:
    week = Settings(days_to_keep=7)
    month = Settings(days_to_keep=30)
    record = Activity("c", "m", ActivityType.OPENED, NOW - timedelta(days=10))
    assert apply_retention([record], week, as_of=NOW).purged == (record,)
    assert apply_retention([record], month, as_of=NOW).kept == (record,)
    assert apply_retention([record], week, as_of=NOW - timedelta(days=5)).kept == (record,)
    assert apply_retention([record], week, as_of=NOW).purged == (record,)
    assert retention_cutoffs(week, as_of=NOW)[ActivityType.SENT] == NOW - timedelta(days=7)


def test_a_naive_as_of_is_refused_even_right_after_the_same_wall_clock_in_utc() -> None:
    settings = Settings()
    apply_retention([], settings, as_of=NOW)
    with pytest.raises(NaiveDatetimeError):
        apply_retention([], settings, as_of=NOW.replace(tzinfo=None))
    with pytest.raises(NaiveDatetimeError):
        retention_cutoffs(settings, as_of=NOW.replace(tzinfo=None))


def test_the_cutoffs_returned_are_the_callers_own() -> None:
    settings = Settings(days_to_keep=7)
    retention_cutoffs(settings, as_of=NOW)[ActivityType.OPENED] = NOW
    record = Activity("c", "m", ActivityType.OPENED, NOW - timedelta(days=1))
    assert apply_retention([record], settings, as_of=NOW).kept == (record,)


@attrs.frozen
class _TaggedMember(CampaignMember):
    tag: str = attrs.field(default="kept", kw_only=True)


def test_a_member_subclass_is_refreshed_into_its_own_class() -> None:
    member = _TaggedMember("c", "m", tag="mine")
    opened = Activity("c", "m", ActivityType.OPENED, NOW)
    refreshed = refresh_member(member, [opened], Settings())
    assert type(refreshed) is _TaggedMember
    assert refreshed.tag == "mine"
    assert (refreshed.status, refreshed.activity, refreshed.activity_date) == (
        "Opened",
        ActivityType.OPENED,
        NOW,
    )
    assert refreshed.engagement == Engagement(opens=1)


def test_an_unchanged_member_is_returned_as_is() -> None:
    opened = Activity("c", "m", ActivityType.OPENED, NOW)
    member = refresh_member(CampaignMember("c", "m"), [opened], Settings())
    assert refresh_member(member, [opened], Settings()) is member


def test_the_default_status_is_read_for_each_new_text() -> None:
    settings = Settings()
    gone = CampaignMember(
        "c", "m", status="Opened", activity=ActivityType.OPENED, activity_date=NOW
    )
    deletion = RefreshCause.DELETION
    assert refresh_member(gone, [], settings, cause=deletion, default_status=" Sent ").status == (
        "Sent"
    )
    assert refresh_member(gone, [], settings, cause=deletion, default_status="New").status == (
        "New"
    )
    with pytest.raises(Exception, match="default_status"):
        refresh_member(gone, [], settings, cause=deletion, default_status="   ")


def test_rollup_of_records_counts_each_type_and_refuses_what_is_not_a_type() -> None:
    records = [Activity("c", "m", t, NOW) for t in (*ActivityType, ActivityType.CLICKED)]
    assert rollup(records) == Engagement(1, 1, 2, 1, 1, 1)
    assert rollup(iter(())) == Engagement()

    @attrs.frozen
    class NotARecord:
        type: str

    with pytest.raises(KeyError):
        rollup([NotARecord("Opened")])  # type: ignore[list-item]


def test_trusted_builders_equal_the_validated_constructors() -> None:
    engagement = Engagement._trusted(1, 2, 3, 4, 5, 6)
    assert engagement == Engagement(1, 2, 3, 4, 5, 6)
    assert hash(engagement) == hash(Engagement(1, 2, 3, 4, 5, 6))
    assert pickle.loads(pickle.dumps(engagement)) == engagement
    member = CampaignMember._trusted("c", "m", "Opened", ActivityType.OPENED, NOW, engagement)
    validated = CampaignMember(
        "c",
        "m",
        status="Opened",
        activity=ActivityType.OPENED,
        activity_date=NOW,
        engagement=engagement,
    )
    assert member == validated
    assert repr(member) == repr(validated)
    assert pickle.loads(pickle.dumps(member)) == validated
    assert attrs.evolve(member, status="Sent") == attrs.evolve(validated, status="Sent")


def _records() -> Iterator[Activity]:
    yield Activity("c", "m", ActivityType.SENT, NOW)
    yield Activity("c", "other", ActivityType.OPENED, NOW)


def test_a_record_of_another_member_is_refused_from_a_generator_too() -> None:
    with pytest.raises(Exception, match="this one is of member 'other'"):
        refresh_member(CampaignMember("c", "m"), _records(), Settings())


def test_kept_counters_are_bounded_and_equal_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmsf_core.domain import status  # noqa: PLC0415 - the module's own table

    monkeypatch.setattr(status, "_MAX_ENGAGEMENTS", 2)
    monkeypatch.setattr(status, "_ENGAGEMENTS", {})
    member = CampaignMember("c", "m")
    for n in range(1, 6):
        records = [Activity("c", "m", ActivityType.SENT, NOW, occurrence=i) for i in range(n)]
        assert refresh_member(member, records, Settings()).engagement == Engagement(sent=n)
        assert len(status._ENGAGEMENTS) <= 2
    again = refresh_member(member, [Activity("c", "m", ActivityType.SENT, NOW)], Settings())
    assert again.engagement == Engagement(sent=1)
