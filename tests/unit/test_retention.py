"""Retention (DaysToKeep_Email): the cutoff, its boundary, per-type overrides, 0 days and DST.

A day is 24 hours of UTC: the cutoff is ``as_of - days * 24 h`` compared as UTC instants,
whatever the org's zone does with its clocks that day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    Settings,
    apply_retention,
    retention_cutoffs,
)

AS_OF = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
PARIS = ZoneInfo("Europe/Paris")


def opened(at: datetime) -> Activity:
    """An open of member m-1 in campaign cmp-1."""
    return Activity("cmp-1", "m-1", ActivityType.OPENED, at)


def sent(at: datetime) -> Activity:
    """A send to member m-1 in campaign cmp-1."""
    return Activity("cmp-1", "m-1", ActivityType.SENT, at)


def test_a_record_exactly_at_the_cutoff_is_kept_and_one_just_before_is_purged() -> None:
    """Purged iff occurred_at < as_of - days: the boundary instant itself is kept."""
    cutoff = AS_OF - timedelta(days=7)
    at_cutoff, before = opened(cutoff), opened(cutoff - MICROSECOND)

    retention = apply_retention([before, at_cutoff], Settings(days_to_keep=7), as_of=AS_OF)

    assert retention.kept == (at_cutoff,)
    assert retention.purged == (before,)


def test_the_default_window_is_180_days() -> None:
    """With default settings a record 180 days old is kept and one older is purged."""
    kept = opened(AS_OF - timedelta(days=180))
    purged = opened(AS_OF - timedelta(days=180) - MICROSECOND)

    retention = apply_retention([kept, purged], Settings(), as_of=AS_OF)

    assert retention.kept == (kept,)
    assert retention.purged == (purged,)


def test_days_to_keep_zero_keeps_nothing() -> None:
    """DaysToKeep = 0: every record goes, even one at or after as_of."""
    records = [opened(AS_OF - timedelta(days=1)), opened(AS_OF), opened(AS_OF + timedelta(days=1))]

    retention = apply_retention(records, Settings(days_to_keep=0), as_of=AS_OF)

    assert retention.kept == ()
    assert retention.purged == tuple(records)


def test_records_after_as_of_are_kept() -> None:
    """A record later than as_of is inside any non-zero window."""
    future = opened(AS_OF + timedelta(days=3))

    assert apply_retention([future], Settings(days_to_keep=1), as_of=AS_OF).kept == (future,)


def test_a_per_type_override_keeps_sent_records_longer() -> None:
    """Sent kept 90 days ("the last 90 days of sent emails") while opens go after 30."""
    settings = Settings(days_to_keep=30, days_to_keep_by_type={ActivityType.SENT: 90})
    old_send, old_open = sent(AS_OF - timedelta(days=60)), opened(AS_OF - timedelta(days=60))

    retention = apply_retention([old_send, old_open], settings, as_of=AS_OF)

    assert retention.kept == (old_send,)
    assert retention.purged == (old_open,)


def test_a_per_type_override_of_zero_purges_only_that_type() -> None:
    """An override of 0 days purges that type entirely; others keep the general window."""
    settings = Settings(days_to_keep=30, days_to_keep_by_type={ActivityType.SENT: 0})
    records = [sent(AS_OF), opened(AS_OF)]

    retention = apply_retention(records, settings, as_of=AS_OF)

    assert retention.kept == (records[1],)
    assert retention.purged == (records[0],)


def test_kept_and_purged_keep_the_input_order() -> None:
    """Both tuples list records in the order they were given."""
    records = [opened(AS_OF - timedelta(days=d)) for d in (1, 9, 2, 8, 3)]

    retention = apply_retention(records, Settings(days_to_keep=5), as_of=AS_OF)

    assert retention.kept == (records[0], records[2], records[4])
    assert retention.purged == (records[1], records[3])


def test_retention_cutoffs_give_each_types_cutoff() -> None:
    """retention_cutoffs names the cutoff of every type, overrides included."""
    settings = Settings(days_to_keep=30, days_to_keep_by_type={ActivityType.SENT: 90})

    cutoffs = retention_cutoffs(settings, as_of=AS_OF)

    assert cutoffs[ActivityType.SENT] == AS_OF - timedelta(days=90)
    assert {cutoffs[t] for t in ActivityType if t is not ActivityType.SENT} == {
        AS_OF - timedelta(days=30)
    }


# ------------------------------------------------------------------------------- DST


def paris_pendulum(*fields: int) -> datetime:
    """A wall-clock time in Europe/Paris as a pendulum DateTime."""
    return pendulum.datetime(*fields, tz="Europe/Paris")


def paris_stdlib(*fields: int) -> datetime:
    """A wall-clock time in Europe/Paris as a stdlib datetime with ZoneInfo."""
    return datetime(*fields, tzinfo=PARIS)  # type: ignore[misc]


# Paris clocks go forward on 2024-03-31 at 02:00 CET and back on 2024-10-27 at 03:00 CEST.
DST_AS_OF = [
    pytest.param(paris_pendulum(2024, 3, 31, 12, 0), id="pendulum-spring-noon"),
    pytest.param(paris_pendulum(2024, 3, 31, 3, 30), id="pendulum-just-after-spring-forward"),
    pytest.param(paris_pendulum(2024, 4, 1, 9, 0), id="pendulum-day-after-spring-forward"),
    pytest.param(paris_pendulum(2024, 10, 27, 12, 0), id="pendulum-autumn-noon"),
    pytest.param(paris_stdlib(2024, 3, 31, 12, 0), id="zoneinfo-spring-noon"),
    pytest.param(paris_stdlib(2024, 3, 31, 3, 30), id="zoneinfo-just-after-spring-forward"),
    pytest.param(paris_stdlib(2024, 10, 27, 12, 0), id="zoneinfo-autumn-noon"),
]


@pytest.mark.parametrize("as_of", DST_AS_OF)
@pytest.mark.parametrize("days", [1, 2])
def test_a_retention_day_is_24_hours_even_across_a_dst_change(as_of: datetime, days: int) -> None:
    """Around Paris DST changes the cutoff is as_of minus exactly days x 24 h of UTC."""
    utc_as_of = datetime.fromtimestamp(as_of.timestamp(), UTC)
    cutoff = utc_as_of - timedelta(hours=24 * days)
    at_cutoff, before = opened(cutoff), opened(cutoff - MICROSECOND)
    after = opened(cutoff + timedelta(minutes=30))

    retention = apply_retention(
        [before, at_cutoff, after], Settings(days_to_keep=days), as_of=as_of
    )

    assert retention.purged == (before,)
    assert retention.kept == (at_cutoff, after)
    assert retention_cutoffs(Settings(days_to_keep=days), as_of=as_of)[ActivityType.OPENED] == (
        cutoff
    )


def test_a_day_is_not_a_calendar_day_in_the_orgs_zone() -> None:
    """Noon after spring-forward minus one day is 11:00 CET the day before, not noon."""
    as_of = paris_stdlib(2024, 3, 31, 12, 0)
    wall_clock_noon_before = opened(paris_stdlib(2024, 3, 30, 12, 0))
    eleven_before = opened(paris_stdlib(2024, 3, 30, 11, 0))
    just_before_eleven = opened(paris_stdlib(2024, 3, 30, 10, 59))

    retention = apply_retention(
        [wall_clock_noon_before, eleven_before, just_before_eleven],
        Settings(days_to_keep=1),
        as_of=as_of,
    )

    assert retention.kept == (wall_clock_noon_before, eleven_before)
    assert retention.purged == (just_before_eleven,)
