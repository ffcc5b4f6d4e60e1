"""Tracking records: their derived key, occurrence numbering, UTC normalisation and rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    Engagement,
    number_occurrences,
    rollup,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AT = datetime(2024, 5, 1, 9, 30, 12, tzinfo=UTC)
URL = "https://example.com/offer"


def click(at: datetime = AT, **fields: object) -> Activity:
    """A click on URL in campaign cmp-1 by member m-1."""
    values: dict[str, object] = {"email": "Ann@Example.com", "detail": URL, "client_id": "cl-1"}
    values.update(fields)
    return Activity("cmp-1", "m-1", ActivityType.CLICKED, at, **values)  # type: ignore[arg-type]


def minutes_since_epoch(at: datetime) -> int:
    """Whole UTC minutes from the Unix epoch to ``at``, floored, in exact arithmetic."""
    return (at - EPOCH) // timedelta(minutes=1)


# ------------------------------------------------------------------------------- key


def test_key_is_the_same_for_the_same_event_read_twice() -> None:
    """Two reads of the same platform event give equal keys."""
    assert click().key == click().key


def test_key_holds_client_campaign_type_casefolded_email_list_minute_detail_occurrence() -> None:
    """The key is made of exactly the fields DESIGN §4 names, the email casefolded."""
    key = click(list_id="list-9", occurrence=2).key

    assert key == (
        "cl-1",
        "cmp-1",
        ActivityType.CLICKED,
        "ann@example.com",
        "list-9",
        minutes_since_epoch(AT),
        URL,
        2,
    )


def test_key_ignores_the_case_of_the_email() -> None:
    """The same address in another case is the same subscriber."""
    assert click(email="ANN@EXAMPLE.COM").key == click(email="ann@example.com").key


def test_key_ignores_seconds_within_the_minute() -> None:
    """Campaign Monitor reports to the minute: seconds do not change the key."""
    start = AT.replace(second=0)

    assert click(at=start).key == click(at=start + timedelta(seconds=59, microseconds=999_999)).key
    assert click(at=start).key != click(at=start + timedelta(minutes=1)).key


@pytest.mark.parametrize(
    "at",
    [
        datetime(2024, 5, 1, 9, 30, 59, 999_999, tzinfo=UTC),
        datetime(3000, 5, 1, 9, 30, 59, 999_999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 58, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 58, 59, 500_000, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_key_minute_is_the_utc_minute_the_event_occurred_in(at: datetime) -> None:
    """The key's minute is floor((at - epoch) / 1 min), even far from 1970."""
    assert click(at=at).key.minute == minutes_since_epoch(at)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": "cl-2"}, "client_id"),
        ({"email": "bob@example.com"}, "subject"),
        ({"list_id": "list-2"}, "list_id"),
        ({"detail": "https://example.com/other"}, "detail"),
        ({"occurrence": 1}, "occurrence"),
        ({"at": AT + timedelta(minutes=1)}, "minute"),
    ],
)
def test_key_tells_apart_events_that_differ_in_one_field(
    changes: dict[str, object], field: str
) -> None:
    """Changing one identifying field changes the key in that field only."""
    base, other = click().key, click(**changes).key  # type: ignore[arg-type]

    differing = {name for name in base._fields if getattr(base, name) != getattr(other, name)}

    assert differing == {field}


def test_key_tells_apart_types_and_campaigns() -> None:
    """An open is not a click; a click in another campaign is another record."""
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT, email="ann@example.com")
    elsewhere = Activity("cmp-2", "m-1", ActivityType.OPENED, AT, email="ann@example.com")

    assert opened.key.type is ActivityType.OPENED
    assert len({opened.key, elsewhere.key, click().key}) == 3


def test_key_uses_the_member_id_when_the_record_has_no_email() -> None:
    """Without an email the member id identifies the subscriber."""
    assert Activity("cmp-1", "m-1", ActivityType.SENT, AT).key.subject == "m-1"


def test_type_may_be_given_by_its_label() -> None:
    """A type label such as "Spam complaint" is read as the type."""
    activity = Activity("cmp-1", "m-1", "Spam complaint", AT)  # type: ignore[arg-type]

    assert activity.type is ActivityType.SPAM_COMPLAINT


# ------------------------------------------------------------------------------- occurrences


def test_identical_twins_in_one_minute_are_numbered_0_and_1() -> None:
    """Two identical clicks in one minute are two records with their own keys."""
    first, second = number_occurrences([click(), click(at=AT + timedelta(seconds=30))])

    assert (first.occurrence, second.occurrence) == (0, 1)
    assert first.key != second.key


def test_rereading_the_same_minute_gives_the_same_keys() -> None:
    """Numbering the same read again yields the same keys: the import is idempotent."""
    read = [click(), click(), click(email="ANN@example.com"), click(detail="https://x.test/")]

    first = [a.key for a in number_occurrences(read)]
    second = [a.key for a in number_occurrences(list(read))]

    assert first == second
    assert [a.occurrence for a in number_occurrences(read)] == [0, 1, 2, 0]


def test_occurrences_restart_at_zero_in_another_minute() -> None:
    """Numbering counts identical events within one minute only."""
    numbered = number_occurrences([click(), click(at=AT + timedelta(minutes=1)), click()])

    assert [a.occurrence for a in numbered] == [0, 0, 1]


def test_number_occurrences_replaces_incoming_occurrence_values() -> None:
    """Stale occurrence numbers are replaced by the numbering of the read."""
    numbered = number_occurrences([click(occurrence=5), click(occurrence=5)])

    assert [a.occurrence for a in numbered] == [0, 1]


def test_numbering_changes_nothing_but_the_occurrence() -> None:
    """Numbered records keep every other field."""
    (numbered,) = number_occurrences([click(occurrence=3)])

    assert numbered == click(occurrence=0)


# ------------------------------------------------------------------------------- UTC


@pytest.mark.parametrize(
    "local",
    [
        pendulum.datetime(2024, 5, 1, 11, 30, tz="Europe/Paris"),
        pendulum.datetime(2024, 3, 31, 1, 30, tz="Europe/Paris"),
        pendulum.datetime(2024, 3, 31, 3, 0, tz="Europe/Paris"),
        pendulum.datetime(2024, 3, 31, 3, 30, tz="Europe/Paris"),
        pendulum.datetime(2024, 3, 31, 4, 59, tz="Europe/Paris"),
        pendulum.datetime(2024, 10, 27, 2, 30, tz="Europe/Paris"),
        pendulum.datetime(2024, 3, 9, 21, 30, tz="America/New_York"),
        pendulum.datetime(2024, 11, 2, 22, 0, tz="America/New_York"),
        pendulum.datetime(2024, 6, 1, 12, 0, tz="Asia/Kolkata"),
        pendulum.datetime(2024, 6, 1, 12, 0, tz="UTC"),
    ],
    ids=str,
)
def test_occurred_at_from_pendulum_is_normalised_to_the_same_utc_instant(local: datetime) -> None:
    """A pendulum DateTime, even next to a DST change, is held as the same instant in UTC."""
    expected = datetime.fromtimestamp(local.timestamp(), UTC)

    occurred_at = click(at=local).occurred_at

    assert occurred_at.utcoffset() == timedelta(0)
    assert occurred_at.replace(tzinfo=None) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    "local",
    [
        datetime(2024, 5, 1, 11, 30, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2024, 3, 31, 3, 30, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2024, 3, 9, 21, 30, tzinfo=ZoneInfo("America/New_York")),
        datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
    ],
    ids=str,
)
def test_occurred_at_from_aware_stdlib_datetime_is_normalised_to_utc(local: datetime) -> None:
    """An aware stdlib datetime in any zone is held as the same instant in UTC."""
    expected = datetime.fromtimestamp(local.timestamp(), UTC)

    occurred_at = click(at=local).occurred_at

    assert occurred_at.utcoffset() == timedelta(0)
    assert occurred_at.replace(tzinfo=None) == expected.replace(tzinfo=None)


def test_the_same_instant_in_two_zones_is_the_same_record() -> None:
    """Normalisation makes records equal and keys equal whatever zone they came in."""
    paris = click(at=pendulum.datetime(2024, 5, 1, 11, 30, 12, tz="Europe/Paris"))
    utc = click(at=AT)

    assert paris == utc
    assert paris.key == utc.key


# ------------------------------------------------------------------------------- rollups


def test_engagements_add_counter_by_counter() -> None:
    """Engagement + Engagement sums every counter."""
    total = Engagement(1, 2, 3, 4, 5, 6) + Engagement(opens=1, spam_complaints=2)

    assert total == Engagement(
        sent=1, opens=3, clicks=3, bounces=4, unsubscribes=5, spam_complaints=8
    )


def test_empty_engagement_is_the_identity_of_addition() -> None:
    """Adding Engagement() changes nothing."""
    value = Engagement(sent=1, clicks=2)

    assert value + Engagement() == value
    assert Engagement() + value == value


def test_engagement_does_not_add_to_other_things() -> None:
    """Engagement + a number is a TypeError, not a silent coercion."""
    with pytest.raises(TypeError):
        _ = Engagement() + 1  # type: ignore[operator]


def test_rollup_counts_the_records_of_each_type() -> None:
    """rollup gives one counter per type, counting twins separately."""
    records = number_occurrences(
        [
            Activity("cmp-1", "m-1", ActivityType.SENT, AT),
            Activity("cmp-1", "m-1", ActivityType.OPENED, AT),
            Activity("cmp-1", "m-1", ActivityType.OPENED, AT),
            click(),
            Activity("cmp-1", "m-1", ActivityType.BOUNCED, AT, detail="Soft"),
            Activity("cmp-1", "m-1", ActivityType.UNSUBSCRIBED, AT),
            Activity("cmp-1", "m-1", ActivityType.SPAM_COMPLAINT, AT),
        ]
    )

    assert rollup(records) == Engagement(
        sent=1, opens=2, clicks=1, bounces=1, unsubscribes=1, spam_complaints=1
    )
    assert rollup(()) == Engagement()


def test_rollup_of_two_batches_is_the_sum_of_their_rollups() -> None:
    """Counting two disjoint sets of records equals adding their rollups."""
    first = (click(), Activity("cmp-1", "m-1", ActivityType.OPENED, AT))
    second = (click(at=AT + timedelta(hours=1)),)

    assert rollup(first + second) == rollup(first) + rollup(second)
