"""The sync service's decision: what runs now, by schedule, switches and daily full sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmsf_core.domain.errors import CmsfError, NaiveDatetimeError
from cmsf_core.domain.schedule import Schedule
from cmsf_core.domain.service import RunKind, ServiceDecision, ServiceState, after_run, due

LONDON = "Europe/London"
NINE = datetime(2024, 5, 1, 9, tzinfo=UTC)


def test_an_hourly_service_runs_once_per_whole_hour() -> None:
    """After the 09:00 run is served, nothing runs until 10:00, then the 10:00 run does."""
    state = ServiceState(last_served=NINE)
    assert due(Schedule.hourly(), state, NINE + timedelta(minutes=59), tz="UTC").kind is (
        RunKind.NOTHING
    )
    decision = due(Schedule.hourly(), state, NINE + timedelta(hours=1), tz="UTC")
    assert decision.kind is RunKind.INCREMENTAL
    assert decision.serves == NINE + timedelta(hours=1)
    assert decision.covers == 1
    assert decision.next_check == NINE + timedelta(hours=2)


def test_a_served_run_is_not_run_again() -> None:
    """Recording a run makes the same instant due for nothing, with the next run to wait for."""
    now = NINE + timedelta(hours=1, minutes=3)
    state = ServiceState(last_served=NINE)
    decision = due(Schedule.hourly(), state, now, tz="UTC")
    state = after_run(state, decision, started=now)
    again = due(Schedule.hourly(), state, now, tz="UTC")
    assert again.kind is RunKind.NOTHING
    assert again.reason == "no scheduled run is due"
    assert again.next_check == NINE + timedelta(hours=2)
    assert not again.runs


def test_missed_runs_are_caught_up_by_one_sync() -> None:
    """Five hours asleep: one sync serves the latest run and says it covers five."""
    state = ServiceState(last_served=NINE)
    decision = due(Schedule.hourly(), state, NINE + timedelta(hours=5, minutes=30), tz="UTC")
    assert decision.kind is RunKind.INCREMENTAL
    assert decision.serves == NINE + timedelta(hours=5)
    assert decision.covers == 5
    assert "catching up 5 scheduled runs" in decision.reason


def test_a_service_without_history_runs_at_once_for_the_latest_scheduled_run() -> None:
    """The first decision of a daily-at-09:00 service at 15:00 serves today's 09:00 run."""
    decision = due(Schedule.daily(9), ServiceState(), NINE + timedelta(hours=6), tz="UTC")
    assert decision.kind is RunKind.INCREMENTAL
    assert decision.serves == NINE
    assert decision.covers == 1


@pytest.mark.parametrize(
    ("state", "schedule", "reason"),
    [
        (ServiceState(sync_enabled=False), Schedule.hourly(), "the sync is turned off"),
        (ServiceState(connection_active=False), Schedule.hourly(), "the connection is not active"),
        (ServiceState(), Schedule.never(), "the import frequency is Never"),
    ],
)
def test_nothing_runs_when_turned_off_disconnected_or_never(
    state: ServiceState, schedule: Schedule, reason: str
) -> None:
    """Turned off, a lost connection or an import frequency of Never: nothing, and no next check."""
    decision = due(schedule, state, NINE, tz=LONDON, full_daily_sync=True)
    assert decision.kind is RunKind.NOTHING
    assert decision.reason.startswith(reason)
    assert decision.next_check is None
    assert after_run(state, decision, started=NINE) == state


def test_the_first_sync_of_a_local_day_is_full_when_the_option_is_on() -> None:
    """Sydney: 23:00 local is incremental after an earlier sync that day; 00:00 local is full."""
    sydney = "Australia/Sydney"
    before = datetime(2024, 5, 1, 12, tzinfo=UTC)  # 22:00 in Sydney
    state = ServiceState(last_served=before, last_started=before)
    late = due(
        Schedule.hourly(), state, before + timedelta(hours=1), tz=sydney, full_daily_sync=True
    )
    assert late.kind is RunKind.INCREMENTAL
    state = after_run(state, late, started=before + timedelta(hours=1))
    midnight = due(
        Schedule.hourly(), state, before + timedelta(hours=2), tz=sydney, full_daily_sync=True
    )
    assert midnight.kind is RunKind.FULL
    assert midnight.reason.startswith("the daily full sync")
    off = due(Schedule.hourly(), state, before + timedelta(hours=2), tz=sydney)
    assert off.kind is RunKind.INCREMENTAL


def test_a_sync_started_by_hand_later_than_now_does_not_make_a_full_sync() -> None:
    """A "Sync now" recorded at or after the decision's instant keeps it incremental."""
    state = ServiceState(last_served=NINE, last_started=NINE + timedelta(hours=2))
    decision = due(
        Schedule.hourly(), state, NINE + timedelta(hours=1), tz="UTC", full_daily_sync=True
    )
    assert decision.kind is RunKind.INCREMENTAL


def test_hourly_runs_twice_in_the_hour_london_repeats() -> None:
    """27 October 2024, 01:00 happens twice in London: both are scheduled runs, served in turn."""
    first = datetime(2024, 10, 27, 0, tzinfo=UTC)  # 01:00 BST
    state = ServiceState(last_served=first - timedelta(hours=1))
    served = []
    now = first
    for _ in range(3):
        decision = due(Schedule.hourly(), state, now, tz=LONDON)
        assert decision.runs
        served.append(decision.serves)
        state = after_run(state, decision, started=now)
        assert decision.next_check is not None
        now = decision.next_check
    assert served == [first, first + timedelta(hours=1), first + timedelta(hours=2)]


def test_a_failed_run_is_retried_by_the_next_scheduled_run() -> None:
    """Recording a failed run serves it; the next whole hour runs again."""
    state = ServiceState(last_served=NINE)
    failed = due(Schedule.hourly(), state, NINE + timedelta(hours=1), tz="UTC")
    state = after_run(state, failed, started=NINE + timedelta(hours=1))
    retry = due(Schedule.hourly(), state, NINE + timedelta(hours=2), tz="UTC")
    assert retry.runs
    assert retry.serves == NINE + timedelta(hours=2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: due("Hourly", ServiceState(), NINE, tz="UTC"), "'schedule' must be a Schedule"),
        (lambda: due(Schedule(), None, NINE, tz="UTC"), "'state' must be a ServiceState"),
        (lambda: due(Schedule(), ServiceState(), NINE, tz="UTC", full_daily_sync=1), "a bool"),
        (lambda: due(Schedule(), ServiceState(), NINE, tz="Mars/Base"), "'tz'"),
        (
            lambda: due(Schedule(), ServiceState(last_served=NINE), NINE - timedelta(1), tz="UTC"),
            "'now' must be at or after the last served run",
        ),
        (lambda: ServiceState(sync_enabled="yes"), "'sync_enabled' must be a bool"),
        (lambda: ServiceState(last_served="2024-05-01"), "'last_served'"),
        (lambda: ServiceState(last_started=5), "'last_started'"),
        (lambda: after_run(None, ServiceDecision(RunKind.NOTHING, "x"), started=NINE), "'state'"),
        (lambda: after_run(ServiceState(), "run", started=NINE), "'decision' must be a Service"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(call: object, message: str) -> None:
    """Every argument is checked, and the error names it."""
    with pytest.raises(CmsfError, match=message):
        call()  # type: ignore[operator]


def test_a_naive_now_is_refused() -> None:
    """A naive datetime is never guessed at."""
    with pytest.raises(NaiveDatetimeError, match="'now'"):
        due(Schedule(), ServiceState(), datetime(2024, 5, 1, 9), tz="UTC")
    nothing = ServiceDecision(RunKind.NOTHING, "x")
    with pytest.raises(NaiveDatetimeError, match="'started'"):
        after_run(ServiceState(), nothing, started=datetime(2024, 5, 1))
