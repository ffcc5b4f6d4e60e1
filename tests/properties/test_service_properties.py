"""The service decision over a walking clock: every scheduled run is served exactly once
(caught up, never repeated, not even when asked twice at one instant), and the daily full
sync is the first sync of each local day.

The clock starts just after a served run and advances in random steps (1 minute to 30
hours) across real DST changes; at each step the service asks :func:`due` and records
what it ran.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.schedule import ImportFrequency, Schedule, runs_between
from cmsf_core.domain.service import RunKind, ServiceState, after_run, due
from cmsf_core.testing import strategies as cs

steps = st.lists(st.integers(min_value=1, max_value=30 * 60), min_size=1, max_size=40)
zones = st.sampled_from(cs.DST_ZONES)


def _walk(
    schedule: Schedule, zone: str, start: datetime, minutes: list[int], *, full_daily: bool
) -> tuple[ServiceState, list[tuple[datetime, RunKind, int, datetime]], datetime]:
    now = start.astimezone(UTC)  # step in UTC: wall-clock arithmetic would lose the fold
    state = ServiceState(last_served=now)
    ran = []
    for step in minutes:
        now += timedelta(minutes=step)
        decision = due(schedule, state, now, tz=zone, full_daily_sync=full_daily)
        if decision.runs:
            assert decision.serves is not None
            assert decision.serves <= now
            ran.append((now, decision.kind, decision.covers, decision.serves))
            state = after_run(state, decision, started=now)
            # Asking again at the same instant never runs the same scheduled run twice.
            assert not due(schedule, state, now, tz=zone, full_daily_sync=full_daily).runs
        else:
            assert decision.next_check is None or decision.next_check > now
    return state, ran, now


@given(cs.schedules(), zones, cs.dst_edge_instants(), steps, st.booleans())
def test_every_scheduled_run_is_served_once_and_only_once(
    schedule: Schedule, zone: str, start: datetime, minutes: list[int], full_daily: bool
) -> None:
    """The runs served, with the ones each sync caught up, are exactly the schedule's runs."""
    _, ran, end = _walk(schedule, zone, start, minutes, full_daily=full_daily)
    expected = runs_between(schedule, after=start, until=end, tz=zone)
    if schedule.frequency is ImportFrequency.NEVER:
        assert ran == []
        return
    assert sum(covers for _, _, covers, _ in ran) == len(expected)
    served = [serves for *_, serves in ran]
    assert served == sorted(set(served))
    assert set(served) <= set(expected)
    if expected:
        assert served[-1] == expected[-1]


@given(cs.schedules(), zones, cs.dst_edge_instants(), steps)
def test_the_daily_full_sync_is_the_first_sync_of_each_local_day(
    schedule: Schedule, zone: str, start: datetime, minutes: list[int]
) -> None:
    """With the option on, a sync is full exactly when no sync ran earlier that local date."""
    _, ran, _ = _walk(schedule, zone, start, minutes, full_daily=True)
    local = ZoneInfo(zone)
    seen_days = set()
    for started, kind, _, _ in ran:
        day = started.astimezone(local).date()
        assert (kind is RunKind.FULL) == (day not in seen_days)
        seen_days.add(day)


@given(cs.schedules(), zones, cs.dst_edge_instants(), steps)
def test_without_the_option_no_sync_is_full(
    schedule: Schedule, zone: str, start: datetime, minutes: list[int]
) -> None:
    """ "Perform full daily sync" off: every scheduled sync is incremental."""
    _, ran, _ = _walk(schedule, zone, start, minutes, full_daily=False)
    assert all(kind is RunKind.INCREMENTAL for _, kind, _, _ in ran)
